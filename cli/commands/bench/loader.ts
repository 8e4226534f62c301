/**
 * `logolab bench loader --data <prepared dir> [--workers 2] [--image-size 224] [--augmentation medium]
 *   [--seconds 20] [--p 8 --k 4] [--prefetch 2] [--model <dir>] [--json FILE]`:
 * images/s of the training input pipeline exactly as the trainer runs it (training/data/loader.ts:
 * P×K batches of the prepared reference crops → decode → augment → the CLIP processor at
 * --image-size, or --model's own processor → [B, 3, H, W]), with N worker threads (0 = all on the
 * main thread). Worker start-up and the first batch are not timed. Result: one JSON line on stdout
 * (`images_per_s`, with the machine's cores and load average, since a shared machine's figure
 * means little without it). For worker scaling run scripts/bench-loader.ts, which alternates
 * worker counts in one run and reports the ratio.
 */
import type { CommandModule } from 'yargs';
import { numberOption, POSITIVE_INT, COUNT, refuseBackendFlag } from '../../options.js';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import sharp from 'sharp';
import { LogolabError, UsageError } from '../../../src/errors.js';
import { givenOptions } from '../../option-forms.js';
import { referenceCropsByLogo } from '../../../src/data/db.js';
import { writeJsonAtomic } from '../../../src/io/atomic.js';
import { AUGMENT_STRENGTHS, type AugmentStrength } from '../../../src/preprocess/augment.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig, loadImageProcessor } from '../../../src/preprocess/processors.js';
import { log } from '../../../src/util/log.js';
import { dataDirOf } from '../../../training/data_source.js';
import { BatchLoader } from '../../../training/data/loader.js';
import { PxKSampler } from '../../../training/data/sampler.js';

export interface LoaderBenchOptions {
  data: string;
  workers: number;
  imageSize: number;
  augmentation: AugmentStrength;
  seconds: number;
  p?: number;
  k?: number;
  prefetch?: number;
  /** a model folder whose preprocessor_config.json to use instead of CLIP's at imageSize */
  model?: string;
  seed?: number;
}

export interface LoaderBenchResult {
  benchmark: 'loader';
  data: string;
  workers: number;
  prefetch: number;
  image_size: number;
  augmentation: AugmentStrength;
  batch: number;
  batches: number;
  images: number;
  seconds: number;
  images_per_s: number;
  /** CPU seconds of the whole process (all threads) in the timed part, and images per CPU second: on a
   *  shared machine, equal images_per_cpu_s across worker counts means the scaling is only bounded by
   *  the cores it was given */
  cpu_s: number;
  images_per_cpu_s: number;
  /** time to start the workers and load the first (untimed) batch */
  startup_s: number;
  corrupt_files: number;
  cores: number;
  loadavg: number[];
  sharp_concurrency: number;
  uv_threadpool_size: number;
  node: string;
}

export async function benchLoader(o: LoaderBenchOptions): Promise<LoaderBenchResult> {
  if (!Number.isInteger(o.workers) || o.workers < 0) throw new LogolabError(`--workers: must be a non-negative integer, got ${o.workers}`);
  if (!Number.isInteger(o.imageSize) || o.imageSize < 8) throw new LogolabError(`--image-size: must be an integer ≥ 8, got ${o.imageSize}`);
  if (!(o.seconds > 0)) throw new LogolabError(`--seconds: must be > 0, got ${o.seconds}`);
  if (!AUGMENT_STRENGTHS.includes(o.augmentation)) throw new LogolabError(`--augmentation: must be one of ${AUGMENT_STRENGTHS.join('|')}, got ${o.augmentation}`);
  if (!existsSync(o.data)) throw new LogolabError(`--data ${o.data}: not found (a folder made by \`logolab prepare\`)`);
  const dir = dataDirOf(o.data);
  const byLogo = referenceCropsByLogo(dir);
  if (byLogo.size === 0) throw new LogolabError(`${dir}: no reference crops (run \`logolab prepare\`)`);
  const labelOf = new Map([...byLogo.keys()].map((l, i) => [l, i] as const));
  const P = Math.min(o.p ?? 8, byLogo.size);
  const K = o.k ?? 4;
  const sampler = new PxKSampler(byLogo, labelOf, { logosPerBatch: P, samplesPerLogo: K, batchesPerEpoch: 1000, seed: o.seed ?? 1, name: dir });
  const processor = o.model ? loadImageProcessor(o.model) : imageProcessorFromConfig(defaultPreprocessorConfig('clip', o.imageSize));
  const prefetch = o.prefetch ?? 2;
  const t0 = performance.now();
  const loader = new BatchLoader(sampler, { processor, augment: o.augmentation, seed: o.seed ?? 1, workers: o.workers, prefetch, pathOf: (c) => c.path });
  try {
    await loader.getBatch(0, 0);
    const startup = (performance.now() - t0) / 1000;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    let images = 0;
    let batches = 0;
    let elapsed = 0;
    for (let b = 1; elapsed < o.seconds; b++) {
      const x = await loader.getBatch(Math.floor(b / sampler.length), b % sampler.length);
      images += x.labels.length;
      batches++;
      elapsed = (performance.now() - start) / 1000;
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    return {
      benchmark: 'loader', data: dir, workers: o.workers, prefetch, image_size: processor.outputSize.height, augmentation: o.augmentation, batch: P * K, batches, images,
      seconds: +elapsed.toFixed(3), images_per_s: +(images / elapsed).toFixed(2), cpu_s: +cpuS.toFixed(2), images_per_cpu_s: +(images / cpuS).toFixed(2), startup_s: +startup.toFixed(3), corrupt_files: loader.stats.corruptFiles,
      cores: availableParallelism(), loadavg: loadavg().map((v) => +v.toFixed(2)), sharp_concurrency: sharp.concurrency(),
      uv_threadpool_size: Number(process.env.UV_THREADPOOL_SIZE ?? 4), node: process.version,
    };
  } finally {
    await loader.close();
  }
}

export const command: CommandModule = {
  command: 'loader',
  describe: 'training input pipeline images/s (decode + augment + preprocess, N worker threads)',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'prepared data folder (logolab prepare)' })
      .option('workers', numberOption('workers', COUNT('loader worker threads (0 = main thread)', 2)))
      .option('image-size', numberOption('image-size', { describe: 'CLIP processor output size (not with --model, whose processor sets it)', default: 224, int: true, min: 8 }))
      .option('augmentation', { type: 'string', choices: AUGMENT_STRENGTHS as unknown as string[], default: 'medium' })
      .option('seconds', numberOption('seconds', { describe: 'timed duration', default: 20, gt: 0 }))
      .option('p', numberOption('p', POSITIVE_INT('logos per batch', 8)))
      .option('k', numberOption('k', POSITIVE_INT('images per logo', 4)))
      .option('prefetch', numberOption('prefetch', POSITIVE_INT('batches built ahead', 2)))
      .option('model', { type: 'string', describe: "use this model folder's preprocessor_config.json instead" })
      .option('json', { type: 'string', describe: 'also write the result to this file' }),
  handler: async (argv) => {
    refuseBackendFlag(argv, 'bench loader', 'measures the data loader (decode, augment, resize on worker threads) and uses no tfjs backend');
    // the model's preprocessor_config.json decides the size: a given --image-size would be ignored
    if (argv.model !== undefined && givenOptions(argv).has('image-size')) throw new UsageError(`--image-size ${argv['image-size'] as number} and --model ${argv.model as string}: the model's preprocessor_config.json sets the image size; give one of them`);
    const r = await benchLoader({
      data: argv.data as string, workers: argv.workers as number, imageSize: argv['image-size'] as number, augmentation: argv.augmentation as AugmentStrength,
      seconds: argv.seconds as number, p: argv.p as number, k: argv.k as number, prefetch: argv.prefetch as number, model: argv.model as string | undefined,
    });
    log('info', `loader: ${r.workers} workers, ${r.augmentation} → ${r.image_size} px: ${r.images} images in ${r.seconds} s = ${r.images_per_s} images/s (load average ${r.loadavg.join(' ')} on ${r.cores} cores)`);
    process.stdout.write(JSON.stringify(r) + '\n');
    if (argv.json) writeJsonAtomic(argv.json as string, r);
  },
};
