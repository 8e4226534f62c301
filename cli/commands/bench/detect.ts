/**
 * `logolab bench detect --detector <dir|detr-r50> [--size 800] [--images 2] [--warmup 1] [--profile]`: images/s
 * of the whole detector path (DetrImageProcessor → DETR forward → post-processing + NMS) on
 * synthetic 4:3 images resized to `--size` on the short edge. `detr-r50` = facebook/detr-resnet-50
 * shapes with random weights (no download). One JSON line on stdout.
 */
import type { CommandModule } from 'yargs';
import { initBackend } from '../../../src/backend/index.js';
import { LogolabError } from '../../../src/errors.js';
import { benchDetect } from '../../../src/detect/bench.js';
import { formatKernelProfile, kernelProfileJson } from '../../../src/backend/kernel-profile.js';

export const command: CommandModule = {
  command: 'detect',
  describe: 'DETR detector images/s',
  builder: (y) =>
    y
      .option('detector', { type: 'string', default: 'detr-r50', describe: 'DETR folder, detr:<dir>, or detr-r50 (real shape, random weights)' })
      .option('size', { type: 'number', default: 800, describe: 'shortest edge after resizing (px); longest capped at size×1333/800' })
      .option('image-width', { type: 'number', describe: 'synthetic input width (default 4:3 at --size)' })
      .option('image-height', { type: 'number', describe: 'synthetic input height (default --size)' })
      .option('images', { type: 'number', default: 2, describe: 'timed images' })
      .option('warmup', { type: 'number', default: 1, describe: 'untimed images first' })
      .option('batch-size', { type: 'number', default: 1, describe: 'images per forward pass' })
      .option('seed', { type: 'number', default: 0 })
      .option('breakdown', { type: 'boolean', default: false, describe: 'also time preprocess / backbone / transformer on one extra image' })
      .option('profile', { type: 'boolean', default: false, describe: 'per-kernel time, calls and native / stock JS of the timed images (table on stderr, kernel_profile in the JSON)' }),
  handler: async (argv) => {
    const backend = await initBackend(argv.backend as string | undefined, { workload: 'detector' });
    for (const k of ['images', 'batch-size'] as const) {
      const v = argv[k] as number;
      if (!Number.isInteger(v) || v < 1) throw new LogolabError(`--${k}: must be a positive integer, got ${v}`);
    }
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
    process.stdout.write(JSON.stringify({ ...rest, backend: backend.name, ...(prof ? { kernel_profile: kernelProfileJson(prof) } : {}) }) + '\n');
  },
};
