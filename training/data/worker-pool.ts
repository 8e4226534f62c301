/**
 * A fixed-size pool of loader worker threads (training/data/loader-worker.mjs), one job at a time
 * each. A worker that dies (uncaught error, out of memory, terminated from outside) is replaced and
 * the job it held is sent again — jobs are pure functions of their message (file, augmentation,
 * generator key), so a retried job gives the same pixels and training does not change. A job that
 * kills `maxJobAttempts` workers in a row, or workers that keep dying before finishing any job
 * (e.g. the worker script cannot load), fail with an error instead of respawning forever; nothing
 * is ever left waiting on a pool with no live worker.
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
  /** times one job may be started before it is failed (default 3) */
  maxJobAttempts?: number;
  /** worker deaths in a row without any job completing before the pool gives up (default 2·n + 3) */
  maxDeathsInARow?: number;
  /** observer (diagnostics and tests: e.g. kill the worker a job was just sent to) */
  onEvent?: (e: PoolEvent) => void;
  /** called when a dead worker was replaced (default: nothing; the loader logs it) */
  onRestart?: (msg: string) => void;
  /** worker entry (tests); default loader-worker.mjs */
  workerUrl?: URL;
}

interface Task {
  job: WorkerJob;
  attempts: number;
  done: (r: WorkerReply) => void;
  fail: (e: Error) => void;
}

export class WorkerPool {
  /** worker replacements and job re-sends so far */
  readonly stats = { restarts: 0, retried: 0 };
  private readonly idle: Worker[] = [];
  private readonly live = new Set<Worker>();
  private readonly queue: Task[] = [];
  private readonly running = new Map<Worker, Task>();
  private readonly lastError = new Map<Worker, string>();
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
    this.o = { maxJobAttempts: 3, maxDeathsInARow: 2 * size + 3, workerUrl: new URL('./loader-worker.mjs', import.meta.url), ...opts };
    for (let i = 0; i < size; i++) this.spawn();
  }

  /** Live worker threads (diagnostics). */
  get workers(): readonly Worker[] {
    return [...this.live];
  }

  run(job: PoolJob): Promise<WorkerReply> {
    if (this.closing) return Promise.reject(new LogolabError('loader worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((done, fail) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, attempts: 0, done, fail });
      this.pump();
    });
  }

  /** Terminates every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const err = new LogolabError('loader worker pool closed');
    for (const t of this.queue.splice(0)) t.fail(err);
    for (const t of this.running.values()) t.fail(err);
    this.running.clear();
    // ref'd until they are gone: awaiting the termination of an unref'd worker does not keep the
    // event loop alive, and a caller awaiting close() would be dropped with its promise pending
    await Promise.all([...this.live].map((w) => (w.ref(), w.terminate())));
    this.live.clear();
    this.idle.length = 0;
  }

  private spawn(): void {
    const w = new Worker(this.o.workerUrl, { workerData: this.init });
    w.unref(); // referenced only while it holds a job
    this.live.add(w);
    this.idle.push(w);
    w.on('message', (r: WorkerReply) => {
      const t = this.running.get(w);
      this.running.delete(w);
      this.deathsInARow = 0;
      if (this.closing) return; // (stays ref'd: close() is awaiting its exit)
      w.unref();
      this.idle.push(w);
      t?.done(r);
      this.pump();
    });
    // an uncaught error ends the worker: 'exit' follows and does the bookkeeping
    w.on('error', (e) => this.lastError.set(w, e.message));
    w.on('exit', (code) => this.onExit(w, code));
  }

  private onExit(w: Worker, code: number): void {
    if (this.closing) return;
    const error = this.lastError.get(w);
    this.lastError.delete(w);
    this.live.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    const t = this.running.get(w);
    this.running.delete(w);
    this.o.onEvent?.({ kind: 'exit', worker: w, code, error, job: t?.job });
    this.deathsInARow++;
    const why = error ? `: ${error}` : ` (exit code ${code})`;
    if (t) {
      if (t.attempts >= this.o.maxJobAttempts) t.fail(new LogolabError(`loader: ${t.attempts} workers died while loading ${t.job.path}${why}`));
      else {
        this.stats.retried++;
        this.queue.unshift(t); // first in line: its batch is the one the trainer waits for soonest
      }
    }
    if (this.deathsInARow > this.o.maxDeathsInARow) {
      this.broken = new LogolabError(`loader workers keep dying (${this.deathsInARow} in a row without finishing a job)${why}`);
      for (const q of this.queue.splice(0)) q.fail(this.broken);
      return;
    }
    this.stats.restarts++;
    this.o.onRestart?.(`loader worker died${why}; replaced${t ? `, its job (${t.job.path}) sent again` : ''}`);
    this.spawn();
    this.pump();
  }

  private pump(): void {
    while (!this.closing && this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const t = this.queue.shift()!;
      t.attempts++;
      this.running.set(w, t);
      w.ref();
      w.postMessage(t.job);
      this.o.onEvent?.({ kind: 'dispatch', worker: w, job: t.job });
    }
  }
}
