/**
 * `logolab bench detect --detector <dir|detr-r50> [--size 800] [--images 2] [--warmup 1] [--profile]`: images/s
 * of the whole detector path (DetrImageProcessor → DETR forward → post-processing + NMS) on
 * synthetic 4:3 images resized to `--size` on the short edge. `detr-r50` = facebook/detr-resnet-50
 * shapes with random weights (no download). One JSON line on stdout.
 */
import type { CommandModule } from 'yargs';
import { numberOption, POSITIVE_INT, COUNT } from '../../options.js';
import { initBackend } from '../../../src/backend/index.js';
import { backendLabel } from '../../../src/backend/label.js';
import { benchDetect } from '../../../src/detect/bench.js';
import { formatKernelProfile, kernelProfileJson } from '../../../src/backend/kernel-profile.js';

export const command: CommandModule = {
  command: 'detect',
  describe: 'DETR detector images/s',
  builder: (y) =>
    y
      .option('detector', { type: 'string', default: 'detr-r50', describe: 'DETR folder, detr:<dir>, or detr-r50 (real shape, random weights)' })
      .option('size', numberOption('size', { describe: 'shortest edge after resizing (px); longest capped at size×1333/800', default: 800, int: true, min: 32, why: "must be ≥ 32 (the backbone's stride)" }))
      .option('image-width', numberOption('image-width', POSITIVE_INT('synthetic input width (default 4:3 at --size)')))
      .option('image-height', numberOption('image-height', POSITIVE_INT('synthetic input height (default --size)')))
      .option('images', numberOption('images', POSITIVE_INT('timed images', 2)))
      .option('warmup', numberOption('warmup', COUNT('untimed images first', 1)))
      .option('batch-size', numberOption('batch-size', POSITIVE_INT('images per forward pass', 1)))
      .option('seed', numberOption('seed', COUNT('random weights / input seed', 0)))
      .option('breakdown', { type: 'boolean', default: false, describe: 'also time preprocess / backbone / transformer on one extra image' })
      .option('profile', { type: 'boolean', default: false, describe: 'per-kernel time, calls and native / stock JS of the timed images (table on stderr, kernel_profile in the JSON)' }),
  handler: async (argv) => {
    const backend = await initBackend(argv.backend as string | undefined, { workload: 'detector' });
    const r = await benchDetect({
      detector: argv.detector as string,
      size: argv.size as number,
      imageWidth: argv['image-width'] as number | undefined,
      imageHeight: argv['image-height'] as number | undefined,
      images: argv.images as number,
      warmup: argv.warmup as number,
      batchSize: argv['batch-size'] as number,
      seed: argv.seed as number,
      breakdown: argv.breakdown as boolean,
      profile: argv.profile as boolean,
    });
    const { kernel_profile: prof, ...rest } = r;
    if (prof) process.stderr.write(formatKernelProfile(prof, { title: `bench detect ${r.detector} ${r.input_hw.join('×')}` }) + '\n');
    // the label, not the bare name: cpu with and without the native kernels differ 10–30× in speed
    process.stdout.write(JSON.stringify({ ...rest, backend: backendLabel(backend), ...(prof ? { kernel_profile: kernelProfileJson(prof) } : {}) }) + '\n');
  },
};
