/**
 * Loader worker: decode → augment (seeded by the key it is sent) → processor.process, returning
 * the [3,H,W] Float32Array by transfer. Same code and same generator keys as the in-process path,
 * so pixels are identical whichever path produced them. Jobs run in arrival order, two at a time,
 * so one image decodes (on libuv's pool) while this thread augments and resizes the other.
 *
 * Threads: libvips' per-image thread count (sharp.concurrency) is process-wide; the pool sets it to
 * `sharpConcurrency` (default 1), so N workers decode N images on N threads instead of N × cores
 * (parallelism comes from the workers, not from splitting one small image).
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeImage } from '../../src/preprocess/image.js';
import { augmentImage, type AugmentStrength } from '../../src/preprocess/augment.js';
import { imageProcessorFromConfig, type PreprocessMode, type ProcessorBackend } from '../../src/preprocess/processors.js';
import { makeRng } from '../../src/util/rng.js';

export interface WorkerInit {
  config: Record<string, unknown>;
  mode?: PreprocessMode;
  backend?: ProcessorBackend;
  /** libvips threads per image (process-wide); default 1 */
  sharpConcurrency?: number;
}
export interface WorkerJob {
  id: number;
  path: string;
  augment: AugmentStrength;
  rngKey: string;
}
export type WorkerReply = { id: number; pixels: Float32Array } | { id: number; error: string; decode: boolean };

const init = workerData as WorkerInit;
sharp.concurrency(init.sharpConcurrency ?? 1);
const processor = imageProcessorFromConfig(init.config, { mode: init.mode, backend: init.backend });

async function run(job: WorkerJob): Promise<void> {
  let img;
  try {
    img = await decodeImage(job.path);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message, decode: true } satisfies WorkerReply);
    return;
  }
  try {
    const aug = job.augment === 'none' ? img : augmentImage(img, job.augment, makeRng(job.rngKey));
    const pixels = processor.process(aug);
    parentPort!.postMessage({ id: job.id, pixels } satisfies WorkerReply, [pixels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message, decode: false } satisfies WorkerReply);
  }
}

const queue: WorkerJob[] = [];
let active = 0;
function drain(): void {
  while (active < 2 && queue.length) {
    active++;
    void run(queue.shift()!).finally(() => {
      active--;
      drain();
    });
  }
}
parentPort!.on('message', (job: WorkerJob) => {
  queue.push(job);
  drain();
});
