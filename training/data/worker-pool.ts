/**
 * A fixed-size pool of loader worker threads (training/data/loader-worker.mjs).
 *
 * Jobs are posted to the workers as soon as they are queued (to the worker with the fewest
 * outstanding jobs), not one at a time: the trainer's thread is busy inside synchronous tensor
 * ops for a whole step and cannot hand out work meanwhile, so each worker must already hold the
 * images of the batches being prefetched. Workers process their jobs in order (two at a time:
 * one decoding on libuv's pool while the other is augmented), and replies wait in the message
 * queue until the trainer's thread is free.
 *
 * A worker that dies (uncaught error, out of memory, terminated from outside) is replaced and
 * the jobs it held are sent again — jobs are pure functions of their message (file,
 * augmentation, generator key), so a re-sent job gives the same pixels and training does not
 * change. A re-sent job goes to a worker holding nothing else, so a job that kills its worker
 * is identified: after `maxJobAttempts` deaths it fails with an error naming its file. Workers
 * that keep dying before finishing any job (e.g. the worker script cannot load) fail the queue
 * with an error instead of respawning forever; nothing is ever left waiting on a dead pool.
 *
 * Workers are referenced only while they hold a job, so an idle pool never keeps the process
 * alive; close() terminates them and rejects whatever is still queued or running.
 */
import { Worker } from 'node:worker_threads';
import { LogolabError } from '../../src/errors.js';
import type { WorkerInit, WorkerJob, WorkerReply } from './loader-worker-impl.js';

export type PoolJob = Omit<WorkerJob, 'id'>;

export interface PoolEvent {
  kind: 'dispatch' | 'exit';
  worker: Worker;
  job?: WorkerJob;
  /** exit: exit code, and the error the worker threw (if any) */
  code?: number;
  error?: string;
}

export interface PoolOptions {
  /** deaths of a job's worker before the job fails (default 3) */
  maxJobAttempts?: number;
  /** worker deaths in a row without any job completing before the pool gives up (default 2·n + 3) */
  maxDeathsInARow?: number;
  /** most jobs posted to one worker at once (default: no limit) */
  maxOutstanding?: number;
  /** observer (diagnostics and tests: e.g. kill the worker a job was just sent to) */
  onEvent?: (e: PoolEvent) => void;
  /** called when a dead worker was replaced (default: nothing; the loader logs it) */
  onRestart?: (msg: string) => void;
  /** worker entry (tests); default loader-worker.mjs */
  workerUrl?: URL;
}

interface Task {
  job: WorkerJob;
  /** deaths of workers that held this job */
  deaths: number;
  done: (r: WorkerReply) => void;
  fail: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** posted, not yet answered, by job id (insertion order = the order the worker runs them) */
  outstanding: Map<number, Task>;
  /** holds a re-sent job, which runs alone */
  isolating: boolean;
  error?: string;
}

export class WorkerPool {
  /** worker replacements and job re-sends so far */
  readonly stats = { restarts: 0, retried: 0 };
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private readonly o: Required<Omit<PoolOptions, 'onEvent' | 'onRestart'>> & Pick<PoolOptions, 'onEvent' | 'onRestart'>;
  private nextId = 0;
  private deathsInARow = 0;
  private broken: Error | null = null;
  private closing = false;

  constructor(
    readonly size: number,
    private readonly init: WorkerInit,
    opts: PoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new LogolabError(`loader workers: ${size} is not a positive integer`);
    this.o = { maxJobAttempts: 3, maxDeathsInARow: 2 * size + 3, maxOutstanding: Infinity, workerUrl: new URL('./loader-worker.mjs', import.meta.url), ...opts };
    for (let i = 0; i < size; i++) this.spawn();
  }

  /** Live worker threads (diagnostics). */
  get workers(): readonly Worker[] {
    return [...this.slots].map((s) => s.worker);
  }

  run(job: PoolJob): Promise<WorkerReply> {
    if (this.closing) return Promise.reject(new LogolabError('loader worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((done, fail) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, deaths: 0, done, fail });
      this.pump();
    });
  }

  /** Terminates every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const err = new LogolabError('loader worker pool closed');
    for (const t of this.queue.splice(0)) t.fail(err);
    for (const s of this.slots) for (const t of s.outstanding.values()) t.fail(err);
    // ref'd until they are gone: awaiting the termination of an unref'd worker does not keep the
    // event loop alive, and a caller awaiting close() would be dropped with its promise pending
    await Promise.all([...this.slots].map((s) => (s.worker.ref(), s.worker.terminate())));
    this.slots.clear();
  }

  private spawn(): void {
    const w = new Worker(this.o.workerUrl, { workerData: this.init });
    w.unref(); // referenced only while it holds a job
    const slot: Slot = { worker: w, outstanding: new Map(), isolating: false };
    this.slots.add(slot);
    w.on('message', (r: WorkerReply) => {
      if (this.closing) return; // (stays ref'd: close() is awaiting its exit)
      const t = slot.outstanding.get(r.id);
      slot.outstanding.delete(r.id);
      this.deathsInARow = 0;
      if (slot.outstanding.size === 0) {
        slot.isolating = false;
        w.unref();
      }
      t?.done(r);
      this.pump();
    });
    // an uncaught error ends the worker: 'exit' follows and does the bookkeeping
    w.on('error', (e) => (slot.error = e.message));
    w.on('exit', (code) => this.onExit(slot, code));
  }

  private onExit(slot: Slot, code: number): void {
    if (this.closing) return;
    this.slots.delete(slot);
    const lost = [...slot.outstanding.values()];
    this.o.onEvent?.({ kind: 'exit', worker: slot.worker, code, error: slot.error, job: lost[0]?.job });
    this.deathsInARow++;
    const why = slot.error ? `: ${slot.error}` : ` (exit code ${code})`;
    const retry: Task[] = [];
    for (const t of lost) {
      t.deaths++;
      if (t.deaths >= this.o.maxJobAttempts) t.fail(new LogolabError(`loader: ${t.deaths} workers died while loading ${t.job.path}${why}`));
      else retry.push(t);
    }
    this.stats.retried += retry.length;
    this.queue.unshift(...retry); // first in line: their batch is the one the trainer waits for soonest
    if (this.deathsInARow > this.o.maxDeathsInARow) {
      this.broken = new LogolabError(`loader workers keep dying (${this.deathsInARow} in a row without finishing a job)${why}`);
      for (const q of this.queue.splice(0)) q.fail(this.broken);
      return;
    }
    this.stats.restarts++;
    const resent = retry.length === 0 ? '' : retry.length === 1 ? `, its job (${retry[0]!.job.path}) sent again` : `, its ${retry.length} jobs (${retry[0]!.job.path}, …) sent again`;
    this.o.onRestart?.(`loader worker died${why}; replaced${resent}`);
    this.spawn();
    this.pump();
  }

  private pump(): void {
    while (!this.closing && this.queue.length) {
      const t = this.queue[0]!;
      // the least-loaded worker; a re-sent job runs alone (so blame for a death is exact), and the
      // jobs behind it wait until some worker is free
      let best: Slot | null = null;
      for (const s of this.slots) if (!s.isolating && (!best || s.outstanding.size < best.outstanding.size)) best = s;
      if (!best || (t.deaths > 0 ? best.outstanding.size > 0 : best.outstanding.size >= this.o.maxOutstanding)) return;
      this.queue.shift();
      if (best.outstanding.size === 0) best.worker.ref();
      best.isolating = t.deaths > 0;
      best.outstanding.set(t.job.id, t);
      best.worker.postMessage(t.job);
      this.o.onEvent?.({ kind: 'dispatch', worker: best.worker, job: t.job });
    }
  }
}
