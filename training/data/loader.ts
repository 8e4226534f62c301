/**
 * Batch loader: batches from a sampler (P×K for training, fixed lists for validation) → decode
 * (sharp, async on libuv's pool) → augment (seeded) → processor.process (the encoder's own
 * resize/crop/normalise) → one Float32Array [B, 3, H, W] per batch, with bounded prefetch (batches
 * built ahead) and bounded concurrency (images being decoded at once), so the trainer is not starved.
 *
 * A corrupt/unreadable image is skipped with a warning (once per file) and counted; its slot is
 * refilled with another image of the SAME logo (so the batch keeps P logos × K), preferring
 * images not already in the batch. A logo whose every image is unreadable is an error naming it.
 * The reference returned an all-zero dummy batch (and silently shrank batches) instead — fixed.
 *
 * Determinism: slot s of batch (e, b) is augmented with a generator keyed by augmentKey(e, b, s,
 * attempt), so pixels do not depend on timing, concurrency, workers, or a worker dying mid-job.
 *
 * Threads: sharp decodes on libuv's pool, but augment + process are JS; `workers: N` moves the
 * whole per-image path into N worker threads (worker-pool.ts) for multi-core machines feeding
 * a GPU. Random access for a trainer: getBatch(epoch, index) returns that batch and loads the
 * next `prefetch` ones in the background (into the next epoch too, with `wrapEpochs`).
 */
import { LogolabError, namingErrors } from '../../src/errors.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { augmentImage, type AugmentStrength } from '../../src/preprocess/augment.js';
import type { ImageProcessor } from '../../src/preprocess/processors.js';
import { log } from '../../src/util/log.js';
import { makeRng } from '../../src/util/rng.js';
import { WorkerPool, type PoolEvent } from './worker-pool.js';

/** What the loader needs from a sampler (PxKSampler, or a fixed list of batches). */
export interface BatchSampler<T> {
  /** batches per epoch */
  readonly length: number;
  /** batch (epoch, index): [B] items, labels, and the logo of each slot */
  batch(epoch: number, index: number): { items: T[]; labels: Int32Array; logos: string[] };
  /** the items a corrupt slot of `logo` may be refilled from */
  itemsOfLogo(logo: string): readonly T[];
}

export interface LoaderOptions<T = string> {
  /** file of a sampler item (default: the item itself, when items are paths) */
  pathOf?: (item: T) => string;
  processor: Pick<ImageProcessor, 'process' | 'outputSize'>;
  /** 'none' = validation transform (processor only) */
  augment: AugmentStrength;
  seed: number;
  /** batches built ahead of the consumer (default 2) */
  prefetch?: number;
  /**
   * images being loaded at once, across batches (default 4 on this thread; with workers, every
   * image of the batches being prefetched, so the workers have them while this thread is busy)
   */
  concurrency?: number;
  /**
   * worker threads for decode + augment + process (default 0 = all in this thread; sharp still
   * decodes on libuv's pool). Workers rebuild the processor from processor.config (+ its mode and
   * backend when present) and produce identical pixels. Call close() when done.
   */
  workers?: number;
  /**
   * a pool to share with other loaders (e.g. train and validation); not closed by close().
   * Overrides `workers`.
   */
  pool?: WorkerPool;
  /** generator key of slot s of batch (epoch, index) at refill attempt a (default `loader:seed:e:b:s:a`) */
  augmentKey?: (epoch: number, index: number, slot: number, attempt: number) => string;
  /** prefetch past the last batch of an epoch into the next one (default true) */
  wrapEpochs?: boolean;
  /** libvips threads per image in the workers (sharp.concurrency, process-wide; default 1) */
  sharpConcurrency?: number;
  /** worker-pool observer (diagnostics, tests) */
  onPoolEvent?: (e: PoolEvent) => void;
  /** image source (default decodeImage); injectable for tests (in-process path only) */
  decode?: (path: string) => Promise<RgbImage>;
  /** called for each newly found unreadable file (default: log('warn')) */
  onWarn?: (msg: string) => void;
}

export interface LoadedBatch<T = string> {
  epoch: number;
  index: number;
  /** [B, 3, H, W] */
  pixels: Float32Array;
  shape: [number, number, number, number];
  /** [B] */
  labels: Int32Array;
  /** [B] the file each slot came from (after refills) */
  paths: string[];
  /** [B] the sampler item each slot came from (after refills) */
  items: T[];
  logos: string[];
  /** slots of this batch refilled because their image was unreadable */
  refilled: number;
  /** the unreadable files this batch met */
  unreadable: string[];
}

/** Counts of everything loaded so far, read-ahead included (per delivered batch: LoadedBatch.refilled/unreadable). */
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

export class BatchLoader<T = string> {
  readonly stats: LoaderStats = { images: 0, corruptFiles: 0, refilled: 0 };
  /** unreadable files (never decoded again) */
  readonly bad = new Map<string, string>();
  /** the worker threads (null: everything in this thread); pool.stats counts restarts and retries */
  readonly pool: WorkerPool | null;
  private readonly ownsPool: boolean;
  private readonly sem: Semaphore;
  private readonly o: Required<Omit<LoaderOptions<T>, 'onWarn' | 'pool' | 'onPoolEvent'>> & { onWarn: (m: string) => void };
  /** batches being loaded ahead, by "epoch:index" */
  private readonly ahead = new Map<string, Promise<LoadedBatch<T>>>();

  constructor(readonly sampler: BatchSampler<T>, opts: LoaderOptions<T>) {
    const workers = opts.pool ? opts.pool.size : (opts.workers ?? 0);
    if (!Number.isInteger(workers) || workers < 0) throw new LogolabError(`loader workers: ${workers} is not a non-negative integer`);
    const { pool, onPoolEvent, ...rest } = opts;
    this.o = {
      prefetch: 2,
      concurrency: workers > 0 ? Number.MAX_SAFE_INTEGER : 4,
      workers,
      wrapEpochs: true,
      sharpConcurrency: 1,
      augmentKey: (e, b, s, a) => `loader:${opts.seed}:${e}:${b}:${s}:${a}`,
      decode: (p) => decodeImage(p),
      onWarn: (m) => log('warn', m),
      pathOf: (it: T) => {
        if (typeof it !== 'string') throw new LogolabError('BatchLoader: sampler items are not paths; pass pathOf');
        return it;
      },
      ...rest,
    };
    if (!Number.isInteger(this.o.prefetch) || this.o.prefetch < 1) throw new LogolabError(`loader prefetch: ${this.o.prefetch} is not a positive integer`);
    if (!Number.isInteger(this.o.concurrency) || this.o.concurrency < 1) throw new LogolabError(`loader concurrency: ${this.o.concurrency} is not a positive integer`);
    this.sem = new Semaphore(this.o.concurrency);
    this.ownsPool = !pool && workers > 0;
    this.pool = pool ?? (workers > 0 ? BatchLoader.makePool(workers, this.o.processor, { sharpConcurrency: this.o.sharpConcurrency, onPoolEvent, onWarn: this.o.onWarn }) : null);
  }

  /** A pool whose workers rebuild `processor` from its config (to share between loaders). */
  static makePool(
    workers: number,
    processor: Pick<ImageProcessor, 'process' | 'outputSize'>,
    o: { sharpConcurrency?: number; onPoolEvent?: (e: PoolEvent) => void; onWarn?: (m: string) => void } = {},
  ): WorkerPool {
    const pr = processor as { config?: Record<string, unknown>; mode?: ImageProcessor['mode']; backend?: ImageProcessor['backend'] };
    if (!pr.config) throw new LogolabError('loader workers: the processor has no config to rebuild it from');
    // sharp decodes on libuv's pool (UV_THREADPOOL_SIZE, default 4, fixed at process start), shared by all workers
    const uv = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    if (workers > uv) log('info', `loader: ${workers} workers share libuv's ${uv} decode threads; start the process with UV_THREADPOOL_SIZE=${workers} to decode in parallel on all of them`);
    return new WorkerPool(
      workers,
      { config: pr.config, mode: pr.mode, backend: pr.backend, sharpConcurrency: o.sharpConcurrency ?? 1 },
      { onEvent: o.onPoolEvent, onRestart: o.onWarn ?? ((m) => log('warn', m)) },
    );
  }

  /** Stops the worker threads (if this loader made them). */
  async close(): Promise<void> {
    this.ahead.clear();
    if (this.ownsPool) await this.pool?.close();
  }

  /** Batches of one epoch from `start` (resume), loading up to `prefetch` batches ahead. */
  async *epoch(epoch: number, start = 0): AsyncGenerator<LoadedBatch<T>> {
    for (let b = start; b < this.sampler.length; b++) yield await this.getBatch(epoch, b);
  }

  /**
   * Random access with read-ahead (for a trainer that asks for batch (epoch, index)): returns
   * that batch and starts loading the next `prefetch` batches (past the epoch's end into the next
   * epoch when wrapEpochs). Batches before (epoch, index) still queued are dropped.
   */
  getBatch(epoch: number, index: number): Promise<LoadedBatch<T>> {
    const n = this.sampler.length;
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new LogolabError(`batch index ${index} outside 0..${n - 1}`);
    for (const k of [...this.ahead.keys()]) {
      const [e, i] = k.split(':').map(Number) as [number, number];
      if (e < epoch || (e === epoch && i < index)) this.ahead.delete(k);
    }
    for (let j = index; j <= index + this.o.prefetch; j++) {
      if (j >= n && !this.o.wrapEpochs) break;
      const [e, i] = j < n ? [epoch, j] : [epoch + Math.floor(j / n), j % n];
      const k = `${e}:${i}`;
      if (this.ahead.has(k)) continue;
      const p = this.loadBatch(e, i);
      p.catch(() => {}); // surfaced to whoever awaits it; no unhandled rejection if never asked for
      this.ahead.set(k, p);
    }
    const k = `${epoch}:${index}`;
    const p = this.ahead.get(k)!;
    this.ahead.delete(k);
    return p;
  }

  /** One batch (epoch e, index b), all slots loaded. */
  async loadBatch(epoch: number, index: number): Promise<LoadedBatch<T>> {
    const batch = this.sampler.batch(epoch, index);
    const { height: H, width: W } = this.o.processor.outputSize;
    const B = batch.items.length;
    const pixels = new Float32Array(B * 3 * H * W);
    const items = batch.items.slice();
    const sampled = new Set(batch.items);
    const met = { refilled: 0, unreadable: new Set<string>() };
    await Promise.all(items.map((_, s) => this.loadSlot(epoch, index, s, batch.logos[s]!, items, sampled, pixels, H, W, met)));
    return { epoch, index, pixels, shape: [B, 3, H, W], labels: batch.labels, paths: items.map(this.o.pathOf), items, logos: batch.logos, refilled: met.refilled, unreadable: [...met.unreadable].sort() };
  }

  private put(pixels: Float32Array, px: Float32Array, s: number, path: string, H: number, W: number): void {
    if (px.length !== 3 * H * W) throw new LogolabError(`processor returned ${px.length} values for ${path}, expected 3×${H}×${W}`);
    pixels.set(px, s * 3 * H * W);
  }

  private async loadSlot(
    epoch: number, index: number, s: number, logo: string, items: T[], sampled: Set<T>, pixels: Float32Array, H: number, W: number,
    met: { refilled: number; unreadable: Set<string> },
  ): Promise<void> {
    const tried = new Set<T>();
    for (let attempt = 0; ; attempt++) {
      const item = items[s]!;
      const path = this.o.pathOf(item);
      tried.add(item);
      let ok = false;
      if (!this.bad.has(path)) {
        const rngKey = this.o.augmentKey(epoch, index, s, attempt);
        await this.sem.acquire();
        try {
          let decodeError: string | null = null;
          if (this.pool) {
            const r = await this.pool.run({ path, augment: this.o.augment, rngKey });
            if ('error' in r) {
              if (!r.decode) throw new LogolabError(`${path}: ${r.error}`);
              decodeError = r.error;
            } else {
              this.put(pixels, r.pixels, s, path, H, W);
              ok = true;
            }
          } else {
            let img: RgbImage | null = null;
            try {
              img = await this.o.decode(path);
            } catch (e) {
              decodeError = (e as Error).message;
            }
            if (img) {
              const aug = this.o.augment === 'none' ? img : augmentImage(img, this.o.augment, makeRng(rngKey));
              this.put(pixels, namingErrors(path, () => this.o.processor.process(aug)), s, path, H, W);
              ok = true;
            }
          }
          if (decodeError !== null && !this.bad.has(path)) {
            this.bad.set(path, decodeError);
            this.stats.corruptFiles++;
            this.o.onWarn(`skipping unreadable image (logo '${logo}'): ${decodeError}`);
          }
        } finally {
          this.sem.release();
        }
      }
      if (ok) {
        this.stats.images++;
        return;
      }
      met.unreadable.add(path);
      // refill from the same logo: prefer readable images the sampler did not put in this batch
      // (the sampled set, not the live slots, so the choice does not depend on timing)
      // (candidates exclude only what THIS slot tried, not the shared bad set, for the same reason)
      const pool = this.sampler.itemsOfLogo(logo).filter((p) => !tried.has(p));
      if (pool.length === 0) throw new LogolabError(`every image of logo '${logo}' is unreadable (last: ${path}: ${this.bad.get(path)})`);
      const fresh = pool.filter((p) => !sampled.has(p));
      const from = fresh.length ? fresh : pool;
      const rng = makeRng(`refill:${this.o.seed}:${epoch}:${index}:${s}:${attempt}`);
      items[s] = from[rng.int(from.length)]!;
      this.stats.refilled++;
      met.refilled++;
    }
  }
}
