/**
 * The training loop's clock: the time its steps wait for training batches (data_wait_fraction),
 * the loader's start-up (the first batch of the process, reported on its own as loader_startup_s),
 * the epoch's throughput, and the run ETA's origin. The trainer owns one for the whole process;
 * none of it is checkpointed (a resumed process measures its own part of the epoch).
 */
import { log } from '../src/util/log.js';
import { runStatus, stepStatus } from './train-log.js';

export class EpochClock {
  /** ms this epoch's steps spent waiting for training batches (data_wait_fraction) */
  private dataWaitMs = 0;
  /** ms the first batch of this process took (loader start-up: workers booting, nothing prefetched); null until then */
  private startupMs: number | null = null;
  /** startupMs when it fell in the current epoch, else 0 */
  private epochStartupMs = 0;
  /** when this process's first optimizer step ended, and the step count then: the run ETA's origin */
  private firstStepAt: { ms: number; step: number } | null = null;
  /** when the current epoch's steps (this process's part of them) started */
  private epochStart = 0;

  /** Starts an epoch: its time, data wait and loader start-up count from here. */
  startEpoch(): void {
    this.epochStart = Date.now();
    this.dataWaitMs = 0;
    this.epochStartupMs = 0;
  }

  /**
   * A training micro-batch; the time spent waiting counts as data wait, except for the first batch
   * of the process (loader start-up), which is reported on its own.
   */
  async timeBatch<T>(fetch: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fetch();
    } finally {
      const ms = performance.now() - t0;
      if (this.startupMs === null) {
        this.startupMs = this.epochStartupMs = ms;
        log('info', `first batch after ${(ms / 1000).toFixed(1)} s (loader start-up; not counted in data_wait_fraction)`);
      } else this.dataWaitMs += ms;
    }
  }

  /** The progress bar's tail after an optimizer step: the step's figures, then where the run stands (steps, ETA). */
  stepLine(loss: number, lr: number, epochImages: number, globalStep: number, plannedSteps: number): string {
    const el = (Date.now() - this.epochStart) / 1000;
    const now = Date.now();
    this.firstStepAt ??= { ms: now, step: globalStep };
    const run = runStatus(globalStep, plannedSteps, globalStep - this.firstStepAt.step, (now - this.firstStepAt.ms) / 1000);
    return `${stepStatus(loss, lr, epochImages / Math.max(el, 1e-9), this.waitShare(el))} | ${run}`;
  }

  /** Seconds since startEpoch(). */
  epochSeconds(): number {
    return (Date.now() - this.epochStart) / 1000;
  }

  /** The epoch's images per second over `seconds`; null when this process ran none of its steps. */
  imagesPerS(epochImages: number, seconds: number): number | null {
    // resumed after the epoch's last step, this process ran none of its steps: no figure, not 0
    return epochImages ? epochImages / Math.max(seconds, 1e-9) : null;
  }

  /**
   * Share of this epoch's training time (this process's part of it, after a resume) spent waiting
   * for batches, loader start-up excluded (reported as loader_startup_s); null as imagesPerS.
   */
  dataWaitFraction(epochImages: number, seconds: number): number | null {
    return epochImages ? Math.min(1, this.waitShare(seconds)) : null;
  }

  /** data wait / (`seconds` of this epoch less the loader start-up); the step line shows it unclamped, as before. */
  private waitShare(seconds: number): number {
    return this.dataWaitMs / Math.max(seconds * 1000 - this.epochStartupMs, 1e-6);
  }

  /** The epoch record's loader_startup_s, present only when the loader started in this epoch. */
  loaderStartup(): { loader_startup_s?: number } {
    return this.epochStartupMs ? { loader_startup_s: this.epochStartupMs / 1000 } : {};
  }
}
