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
 * (seed, e, b, s, attempt), so pixels do not depend on timing, concurrency or workers.
 *
 * Threads: sharp decodes on libuv's pool, but augment + process are JS; `workers: N` moves the
 * whole per-image path into N worker threads (loader-worker.mjs) for multi-core machines feeding
 * a GPU. Random access for a trainer: getBatch(epoch, index) returns that batch and loads the
 * next `prefetch` ones in the background.
 */
import { LogolabError } from '../../src/errors.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { augmentImage, type AugmentStrength } from '../../src/preprocess/augment.js';
import type { ImageProcessor } from '../../src/preprocess/processors.js';
import { log } from '../../src/util/progress.js';
import { Worker } from 'node:worker_threads';
import type { WorkerJob, WorkerReply } from './loader-worker-impl.js';
import { makeRng } from '../../src/util/rng.js';
import type { PxKSampler } from './sampler.js';

export interface LoaderOptions<T = string> {
  /** file of a sampler item (default: the item itself, when items are paths) */
  pathOf?: (item: T) => string;
  processor: Pick<ImageProcessor, 'process' | 'outputSize'>;
  /** 'none' = validation transform (processor only) */
  augment: AugmentStrength;
  seed: number;
  /** batches built ahead of the consumer (default 2) */
  prefetch?: number;
  /** images decoded/augmented concurrently, across batches (default 4) */
  concurrency?: number;
  /**
   * worker threads for decode + augment + process (default 0 = all in this thread; sharp still
   * decodes on libuv's pool). Workers rebuild the processor from processor.config (+ its mode and
   * backend when present) and produce identical pixels. Call close() when done.
   */
  workers?: number;
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
}

export interface LoaderStats {
  images: number;
  /** distinct unreadable files found */
  corruptFiles: number;
  /** slots refilled because their image was unreadable */
  refilled: number;
}

/** A fixed pool of loader workers (training/data/loader-worker.mjs), one job at a time each. */
class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: { job: WorkerJob; done: (r: WorkerReply) => void; fail: (e: Error) => void }[] = [];
  private readonly running = new Map<Worker, { done: (r: WorkerReply) => void; fail: (e: Error) => void }>();
  private nextId = 0;

  constructor(n: number, init: { config: Record<string, unknown>; mode?: string; backend?: string }) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./loader-worker.mjs', import.meta.url), { workerData: init });
      w.unref(); // referenced only while it has a job, so an idle pool never keeps the process alive
      w.on('message', (r: WorkerReply) => {
        const cb = this.running.get(w);
        this.running.delete(w);
        w.unref();
        this.idle.push(w);
        cb?.done(r);
        this.pump();
      });
      w.on('error', (e) => {
        const cb = this.running.get(w);
        this.running.delete(w);
        cb?.fail(new LogolabError(`loader worker failed: ${e.message}`));
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  run(job: Omit<WorkerJob, 'id'>): Promise<WorkerReply> {
    return new Promise((done, fail) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, done, fail });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { job, done, fail } = this.queue.shift()!;
      this.running.set(w, { done, fail });
      w.ref();
      w.postMessage(job);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
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
  private readonly sem: Semaphore;
  private readonly o: Required<Omit<LoaderOptions<T>, 'onWarn'>> & { onWarn: (m: string) => void };
  /** batches being loaded ahead, by "epoch:index" */
  private readonly ahead = new Map<string, Promise<LoadedBatch<T>>>();
  private readonly pool: WorkerPool | null;

  constructor(readonly sampler: PxKSampler<T>, opts: LoaderOptions<T>) {
    const workers = opts.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new LogolabError(`loader workers: ${workers} is not a non-negative integer`);
    this.o = {
      prefetch: 2,
      concurrency: Math.max(4, 2 * workers),
      workers,
      decode: (p) => decodeImage(p),
      onWarn: (m) => log('warn', m),
      pathOf: (it: T) => {
        if (typeof it !== 'string') throw new LogolabError('BatchLoader: sampler items are not paths; pass pathOf');
        return it;
      },
      ...opts,
    };
    if (!Number.isInteger(this.o.prefetch) || this.o.prefetch < 1) throw new LogolabError(`loader prefetch: ${this.o.prefetch} is not a positive integer`);
    if (!Number.isInteger(this.o.concurrency) || this.o.concurrency < 1) throw new LogolabError(`loader concurrency: ${this.o.concurrency} is not a positive integer`);
    this.sem = new Semaphore(this.o.concurrency);
    const pr = this.o.processor as { config?: Record<string, unknown>; mode?: string; backend?: string };
    if (workers > 0 && !pr.config) throw new LogolabError('loader workers: the processor has no config to rebuild it from');
    this.pool = workers > 0 ? new WorkerPool(workers, { config: pr.config!, mode: pr.mode, backend: pr.backend }) : null;
  }

  /** Stops the worker threads (if any). */
  async close(): Promise<void> {
    this.ahead.clear();
    await this.pool?.close();
  }

  /** Batches of one epoch from `start` (resume), loading up to `prefetch` batches ahead. */
  async *epoch(epoch: number, start = 0): AsyncGenerator<LoadedBatch<T>> {
    for (let b = start; b < this.sampler.length; b++) yield await this.getBatch(epoch, b);
  }

  /**
   * Random access with read-ahead (for a trainer that asks for batch (epoch, index)): returns
   * that batch and starts loading the next `prefetch` batches of the same epoch. Batches of
   * other epochs or earlier indices still queued are dropped.
   */
  getBatch(epoch: number, index: number): Promise<LoadedBatch<T>> {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampler.length) throw new LogolabError(`batch index ${index} outside 0..${this.sampler.length - 1}`);
    for (const k of [...this.ahead.keys()]) {
      const [e, i] = k.split(':').map(Number);
      if (e !== epoch || i! < index) this.ahead.delete(k);
    }
    const last = Math.min(this.sampler.length - 1, index + this.o.prefetch);
    for (let i = index; i <= last; i++) {
      const k = `${epoch}:${i}`;
      if (this.ahead.has(k)) continue;
      const p = this.loadBatch(epoch, i);
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
    await Promise.all(items.map((_, s) => this.loadSlot(epoch, index, s, batch.logos[s]!, items, sampled, pixels, H, W)));
    return { epoch, index, pixels, shape: [B, 3, H, W], labels: batch.labels, paths: items.map(this.o.pathOf), items, logos: batch.logos };
  }

  private put(pixels: Float32Array, px: Float32Array, s: number, path: string, H: number, W: number): void {
    if (px.length !== 3 * H * W) throw new LogolabError(`processor returned ${px.length} values for ${path}, expected 3×${H}×${W}`);
    pixels.set(px, s * 3 * H * W);
  }

  private async loadSlot(epoch: number, index: number, s: number, logo: string, items: T[], sampled: Set<T>, pixels: Float32Array, H: number, W: number): Promise<void> {
    const tried = new Set<T>();
    for (let attempt = 0; ; attempt++) {
      const item = items[s]!;
      const path = this.o.pathOf(item);
      tried.add(item);
      let ok = false;
      if (!this.bad.has(path)) {
        const rngKey = `loader:${this.o.seed}:${epoch}:${index}:${s}:${attempt}`;
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
              this.put(pixels, this.o.processor.process(aug), s, path, H, W);
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
    }
  }
}
