/**
 * Batch loader: P×K batches from a PxKSampler → decode (sharp, async on libuv's pool) →
 * augment (seeded) → processor.process (the encoder's own resize/crop/normalise) → one
 * Float32Array [B, 3, H, W] per batch, with bounded prefetch (batches built ahead) and bounded
 * concurrency (images being decoded at once), so the trainer is not starved.
 *
 * A corrupt/unreadable image is skipped with a warning (once per file) and counted; its slot is
 * refilled with another image of the SAME logo (so the batch keeps P logos × K), preferring
 * images not already in the batch. A logo whose every image is unreadable is an error naming it.
 * The reference returned an all-zero dummy batch (and silently shrank batches) instead — fixed.
 *
 * Determinism: slot s of batch (e, b) is augmented with a generator seeded by
 * (seed, e, b, s, attempt), so pixels do not depend on timing or concurrency.
 */
import { LogolabError } from '../../src/errors.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { augmentImage, type AugmentStrength } from '../../src/preprocess/augment.js';
import type { ImageProcessor } from '../../src/preprocess/processors.js';
import { log } from '../../src/util/progress.js';
import { makeRng } from '../../src/util/rng.js';
import type { PxKSampler } from './sampler.js';

export interface LoaderOptions {
  processor: Pick<ImageProcessor, 'process' | 'outputSize'>;
  /** 'none' = validation transform (processor only) */
  augment: AugmentStrength;
  seed: number;
  /** batches built ahead of the consumer (default 2) */
  prefetch?: number;
  /** images decoded/augmented concurrently, across batches (default 4) */
  concurrency?: number;
  /** image source (default decodeImage); injectable for tests */
  decode?: (path: string) => Promise<RgbImage>;
  /** called for each newly found unreadable file (default: log('warn')) */
  onWarn?: (msg: string) => void;
}

export interface LoadedBatch {
  epoch: number;
  index: number;
  /** [B, 3, H, W] */
  pixels: Float32Array;
  shape: [number, number, number, number];
  /** [B] */
  labels: Int32Array;
  /** [B] the file each slot came from (after refills) */
  paths: string[];
  logos: string[];
}

export interface LoaderStats {
  images: number;
  /** distinct unreadable files found */
  corruptFiles: number;
  /** slots refilled because their image was unreadable */
  refilled: number;
}

/** Counting semaphore (bounded concurrency across batches). */
class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const w = this.waiters.shift();
    if (w) w();
    else this.free++;
  }
}

export class BatchLoader {
  readonly stats: LoaderStats = { images: 0, corruptFiles: 0, refilled: 0 };
  /** unreadable files (never decoded again) */
  readonly bad = new Map<string, string>();
  private readonly sem: Semaphore;
  private readonly o: Required<Omit<LoaderOptions, 'onWarn'>> & { onWarn: (m: string) => void };

  constructor(readonly sampler: PxKSampler<string>, opts: LoaderOptions) {
    this.o = {
      prefetch: 2,
      concurrency: 4,
      decode: (p) => decodeImage(p),
      onWarn: (m) => log('warn', m),
      ...opts,
    };
    if (!Number.isInteger(this.o.prefetch) || this.o.prefetch < 1) throw new LogolabError(`loader prefetch: ${this.o.prefetch} is not a positive integer`);
    if (!Number.isInteger(this.o.concurrency) || this.o.concurrency < 1) throw new LogolabError(`loader concurrency: ${this.o.concurrency} is not a positive integer`);
    this.sem = new Semaphore(this.o.concurrency);
  }

  /** Batches of one epoch from `start` (resume), prefetching up to `prefetch` ahead. */
  async *epoch(epoch: number, start = 0): AsyncGenerator<LoadedBatch> {
    const n = this.sampler.length;
    const queue: Promise<LoadedBatch>[] = [];
    let b = start;
    const fill = () => {
      while (queue.length < this.o.prefetch && b < n) {
        const p = this.loadBatch(epoch, b++);
        p.catch(() => {}); // surfaced when awaited; avoids unhandled rejections if the consumer stops early
        queue.push(p);
      }
    };
    fill();
    while (queue.length) {
      const r = await queue.shift()!;
      fill();
      yield r;
    }
  }

  /** One batch (epoch e, index b), all slots loaded. */
  async loadBatch(epoch: number, index: number): Promise<LoadedBatch> {
    const batch = this.sampler.batch(epoch, index);
    const { height: H, width: W } = this.o.processor.outputSize;
    const B = batch.items.length;
    const pixels = new Float32Array(B * 3 * H * W);
    const paths = batch.items.slice();
    const sampled = new Set(batch.items);
    await Promise.all(paths.map((_, s) => this.loadSlot(epoch, index, s, batch.logos[s]!, paths, sampled, pixels, H, W)));
    return { epoch, index, pixels, shape: [B, 3, H, W], labels: batch.labels, paths, logos: batch.logos };
  }

  private async loadSlot(epoch: number, index: number, s: number, logo: string, paths: string[], sampled: Set<string>, pixels: Float32Array, H: number, W: number): Promise<void> {
    const tried = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const path = paths[s]!;
      tried.add(path);
      let img: RgbImage | null = null;
      if (!this.bad.has(path)) {
        await this.sem.acquire();
        try {
          img = await this.o.decode(path);
        } catch (e) {
          if (!this.bad.has(path)) {
            const why = (e as Error).message;
            this.bad.set(path, why);
            this.stats.corruptFiles++;
            this.o.onWarn(`skipping unreadable image (logo '${logo}'): ${why}`);
          }
        } finally {
          this.sem.release();
        }
      }
      if (img) {
        const rng = makeRng(`loader:${this.o.seed}:${epoch}:${index}:${s}:${attempt}`);
        const aug = this.o.augment === 'none' ? img : augmentImage(img, this.o.augment, rng);
        const px = this.o.processor.process(aug);
        if (px.length !== 3 * H * W) throw new LogolabError(`processor returned ${px.length} values for ${path}, expected 3×${H}×${W}`);
        pixels.set(px, s * 3 * H * W);
        this.stats.images++;
        return;
      }
      // refill from the same logo: prefer readable images the sampler did not put in this batch
      // (the sampled set, not the live slots, so the choice does not depend on timing)
      // (candidates exclude only what THIS slot tried, not the shared bad set, for the same reason)
      const pool = this.sampler.itemsOfLogo(logo).filter((p) => !tried.has(p));
      if (pool.length === 0) throw new LogolabError(`every image of logo '${logo}' is unreadable (last: ${path}: ${this.bad.get(path)})`);
      const fresh = pool.filter((p) => !sampled.has(p));
      const from = fresh.length ? fresh : pool;
      const rng = makeRng(`refill:${this.o.seed}:${epoch}:${index}:${s}:${attempt}`);
      paths[s] = from[rng.int(from.length)]!;
      this.stats.refilled++;
    }
  }
}
