/**
 * The training loop: P×K micro-batches → (standard | cached) loss and gradients → accumulation →
 * finite check → optional clipping → AdamW at the scheduled learning rate; validation every
 * eval_every_n_epochs; best checkpoint by config.best_metric (reference: separation; min_delta); early stopping (patience);
 * periodic checkpoints; `last.ckpt` after every epoch and on SIGINT/SIGTERM; training_history.json
 * and train.log in checkpoint_dir.
 *
 * Exact resume: every random choice of a step is derived from saved state (the trainer RNG, whose
 * state is checkpointed) and the data source is deterministic in (epoch, batch index), so a run
 * resumed from any checkpoint produces the same next losses as the uninterrupted run.
 *
 * Reference bugs fixed: resuming re-ran the saved epoch (it stored the epoch index, then looped
 * from it); resume did not restore RNG state; the scheduler counted micro-batches (see
 * optim/schedule.ts); checkpoints were written in place (torch.save) and could be torn.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import type { Rng } from '../src/util/rng.js';
import { Progress } from '../src/util/progress.js';
import { log } from '../src/util/log.js';
import { backendLabel } from '../src/backend/label.js';
import { checkpointPath, cleanStaleTemps, saveCheckpoint, type Checkpoint, type DataDigest, type EpochRecord } from './checkpoint.js';
import { setAsideEarlierRun } from './run-paths.js';
import { restoreBestCheckpoint } from './best-checkpoint.js';
import { stepsPerEpoch, type TrainingConfig } from './config.js';
import { mixedPrecisionNote } from './config-checks.js';
import { lossAndGrads, type GradFn } from './grads.js';
import type { LossFn } from './losses/index.js';
import { assignParams, paramsToHost, type TrainableModel } from './model.js';
import type { AdamW } from './optim/adamw.js';
import { clipByGlobalNorm, disposeGrads, globalNorm } from './optim/accumulate.js';
import type { Batch, DataSource } from './batch.js';
import { stepGradients } from './step-grads.js';
import { validateModel } from './validate-model.js';
import type { ValidationMetrics } from './validation.js';
import { acquireRunLock } from './run-lock.js';
import { bestScoreOf, closeEpoch, freshRunState, recordValidation, runStateFrom, type RunState } from './run-state.js';
import type { TrainerOptions, TrainResult } from './trainer-types.js';
import { earlyStopMessage, epochBudgetMessage, nonfiniteLimitMessage, nonfiniteValidationMessage, plannedSteps, reachedNonfiniteLimit, resumePositionRefusal, skippedStepMessage, unpairedValidationWarning } from './epoch-policy.js';
import { TrainLog, epochSummary, inputBoundHint, installStopHandlers, startMessage } from './train-log.js';
import { EpochClock } from './epoch-clock.js';
import { checkTrainable, lossFor, lrScheduleFor, optimizerFor, trainerRng } from './trainer-setup.js';
import { trainResult, trainState } from './trainer-records.js';
// the wasm backend has no gradient for conv filters: register ours (full training of the patch embedding)
import './kernels/wasm_conv_grad.js';
import { mkdirp } from '../src/io/mkdirp.js';

export type { StepInfo, TrainerOptions, TrainResult } from './trainer-types.js';

export class Trainer {
  readonly params: Map<string, tf.Variable>;
  readonly optimizer: AdamW;
  readonly lr: (step: number) => number;
  private readonly loss: LossFn;
  private rng: Rng;
  /** position, best epoch, patience, running loss, history: what a checkpoint restores */
  private run: RunState = freshRunState();
  /** the checkpoint this run was resumed from (null: a fresh run) */
  private resumedFrom: string | null = null;
  /** set on resume when no checkpoint holds this run's best epoch; cleared by a new best */
  private bestMissing: string | null = null;
  private stopRequested: string | null = null;
  /** whether the last validation had two images of one label (else its metrics measure nothing) */
  private validationHasPairs = false;
  private warnedNoVal = false;
  /** data wait, loader start-up, throughput and the run ETA's origin */
  private readonly clock = new EpochClock();
  /** what the run trains on (checkpoint.ts dataDigest), recorded in every checkpoint; set by the caller, or kept from the resumed checkpoint */
  dataDigest: DataDigest | null = null;
  private readonly gradFn: GradFn;
  private readonly dir: string;
  private readonly trainLog: TrainLog;

  constructor(
    readonly config: TrainingConfig,
    readonly tm: TrainableModel,
    readonly data: DataSource,
    readonly opts: TrainerOptions = {},
  ) {
    this.params = tm.params;
    checkTrainable(this.params);
    this.optimizer = optimizerFor(config, this.params);
    this.lr = lrScheduleFor(config);
    this.loss = lossFor(config);
    this.rng = trainerRng(config);
    this.gradFn = opts.gradFn ?? lossAndGrads;
    this.dir = config.checkpoint_dir;
    this.trainLog = new TrainLog(this.dir);
  }

  /** Restores everything a checkpoint holds (weights, optimizer, counters, RNG, history). */
  resume(ck: Checkpoint, source: string): void {
    const refusal = resumePositionRefusal(this.config, ck.state, ck.state.config, source);
    if (refusal) throw new LogolabError(refusal);
    assignParams(this.params, ck.params, source);
    this.optimizer.setState(ck.optimizer);
    this.run = runStateFrom(ck.state, this.config.best_metric, this.config.min_delta);
    this.rng = trainerRng(this.config, ck.state.rng);
    this.resumedFrom = source;
    this.dataDigest ??= ck.state.data_digest ?? null;
  }

  save(name: string, reason: string): string {
    const path = checkpointPath(this.dir, name);
    saveCheckpoint(path, { state: trainState({ config: this.config, run: this.run, rng: this.rng, optimizer: this.optimizer, tm: this.tm, dataDigest: this.dataDigest }, reason), params: paramsToHost(this.params), optimizer: this.optimizer.getState() });
    return path;
  }

  /** Training micro-batch `index` of the current epoch, timed by the clock (data wait, loader start-up). */
  private trainBatch(index: number): Promise<Batch> {
    return this.clock.timeBatch(() => this.data.trainBatch(this.run.epoch, index));
  }

  /** One optimizer step over micro-batches [first, first + accum) of the current epoch. */
  private async step(): Promise<{ loss: number; gradNorm: number; skipped: boolean; images: number }> {
    const c = this.config;
    const first = this.run.batch_in_epoch;
    const { loss, grads, finite, images } = await stepGradients(c, this.tm, this.loss, this.gradFn, (k) => this.trainBatch(first + k), () => this.rng.seed());
    try {
      const norm = globalNorm(grads);
      if (!finite || !Number.isFinite(norm)) return { loss, gradNorm: norm, skipped: true, images };
      if (c.max_grad_norm > 0) clipByGlobalNorm(grads, c.max_grad_norm, norm);
      this.optimizer.step(grads, this.lr(this.run.global_step));
      return { loss, gradNorm: norm, skipped: false, images };
    } finally {
      disposeGrads(grads);
    }
  }

  /** One validation pass; null when a stop was requested during it (the pass is dropped). */
  async validate(): Promise<(ValidationMetrics & { loss: number }) | null> {
    const stop = () => this.stopRequested !== null;
    const pass = await validateModel(this.tm, this.data, this.loss, { batchSize: this.config.batch_size, valBatches: this.config.val_batches, stop, ...(this.opts.quiet ? { quiet: true } : {}) });
    if (!pass) return null;
    const { noPairs, images, ...v } = pass;
    this.validationHasPairs = images > 0 && !noPairs;
    return v;
  }

  /** `startOver`: a fresh run that moves an earlier run's files in checkpoint_dir aside first (train --overwrite). */
  async train(opts: { startOver?: boolean } = {}): Promise<TrainResult> {
    const t0 = Date.now();
    mkdirp(this.dir);
    const releaseLock = acquireRunLock(this.dir);
    try {
      // under the lock: no other run is writing the files moved
      const moved = opts.startOver && this.resumedFrom === null ? setAsideEarlierRun(this.dir) : null;
      if (moved) log('info', `--overwrite: the earlier run's ${moved.files.join(', ')} moved to ${moved.folder}`);
      return await this.trainLocked(t0);
    } finally {
      releaseLock();
    }
  }

  /** The training loop; each policy it applies is a named helper below. */
  private async trainLocked(t0: number): Promise<TrainResult> {
    this.logStart();
    this.ensureBestCheckpoint();
    // a resume from an older checkpoint (epoch_N.ckpt) starts from a shorter history than the file
    // of the abandoned continuation holds: the file follows the run from here
    if (this.resumedFrom !== null) this.writeHistory();
    // an early-stopped run resumed with its patience: it stays stopped, as a run finished at
    // max_epochs does (another epoch per resume could change the exported best)
    const stopped = this.alreadyStopped();
    if (stopped) {
      this.trainLog.both('info', stopped);
      return this.result('early_stopped', checkpointPath(this.dir, 'last'), t0);
    }
    const removeSignalHandlers = this.opts.handleSignals ? installStopHandlers(this.dir, (sig) => (this.stopRequested = sig)) : () => {};
    let status: TrainResult['status'] = 'completed';
    let lastPath = checkpointPath(this.dir, 'last');
    const thisProcess = { steps: 0 }; // optimizer steps since this process started (stopAfterSteps)
    try {
      while (this.run.epoch < this.config.max_epochs) {
        const rec = await this.trainEpoch(thisProcess);
        if (!rec) {
          status = 'interrupted';
          lastPath = this.saveInterrupted();
          break;
        }
        const improved = await this.validateEpoch(rec);
        // stopped during validation: the epoch's steps are done but it is not closed, so the
        // checkpoint resumes at its end (no step left) and validates it then
        if (improved === null) {
          status = 'interrupted';
          lastPath = this.saveInterrupted();
          break;
        }
        closeEpoch(this.run, rec);
        this.reportEpoch(rec, improved);
        lastPath = this.saveEpochCheckpoints(rec, improved);
        // a stop requested during this epoch's validation or saving (after its last step): stop
        // here as interrupted, as at any other point, even after the last epoch
        if (this.stopRequested) {
          status = 'interrupted';
          lastPath = this.saveInterrupted();
          break;
        }
        if (this.stopsEarly(rec)) {
          status = 'early_stopped';
          break;
        }
        if (this.stopsAtEpochBudget(rec)) break;
      }
    } finally {
      removeSignalHandlers();
    }
    return this.result(status, lastPath, t0);
  }

  /** Why the resumed run is already early-stopped (patience used up at its last, validated, epoch), else null. */
  private alreadyStopped(): string | null {
    const last = this.run.history.at(-1);
    if (this.resumedFrom === null || this.run.batch_in_epoch !== 0 || this.run.epoch >= this.config.max_epochs || !last) return null;
    const msg = earlyStopMessage(this.config, this.run, last);
    return msg && `${msg} (resumed: nothing to train; raise --patience to go on)`;
  }

  /** After a resume: best.ckpt must be this run's best epoch (best-checkpoint.ts), or the run has none. */
  private ensureBestCheckpoint(): void {
    if (this.resumedFrom === null) return;
    const r = restoreBestCheckpoint(this.dir, this.run, this.resumedFrom);
    if (r.kind === 'save-resumed') this.save('best', 'best');
    if (r.kind === 'save-resumed' || r.kind === 'copied') this.trainLog.both('info', r.note);
    if (r.kind === 'missing') {
      this.bestMissing = r.why;
      this.trainLog.both('warn', `${r.why}; unless this run finds a new best, it ends without a best checkpoint to export`);
    }
  }

  private logStart(): void {
    const c = this.config;
    for (const f of cleanStaleTemps(this.dir)) log('info', `removed stale temp file ${f} (an interrupted checkpoint write)`);
    const note = mixedPrecisionNote(c);
    if (note) log('info', note);
    const nTrain = [...this.params.values()].reduce((s, v) => s + v.size, 0);
    log('info', startMessage(c, this.params.size, nTrain));
    this.trainLog.line(`start epoch=${this.run.epoch} batch_in_epoch=${this.run.batch_in_epoch} step=${this.run.global_step} backend=${JSON.stringify(backendLabel() ?? 'unknown')} config=${JSON.stringify(c)}`);
  }

  /** The optimizer steps of one epoch (from batch_in_epoch after a resume); null when a stop was requested. */
  private async trainEpoch(thisProcess: { steps: number }): Promise<EpochRecord | null> {
    const c = this.config;
    const spe = stepsPerEpoch(c);
    this.clock.startEpoch();
    let epochImages = 0;
    const firstStep = this.run.batch_in_epoch / c.gradient_accumulation_steps;
    const bar = new Progress({ label: `epoch ${this.run.epoch + 1}/${c.max_epochs}`, total: spe, unit: 'step', ...(this.opts.quiet ? { quiet: true } : {}) });
    if (firstStep > 0) bar.tick(firstStep);
    // resumed after the epoch's last step (a stop during it or during validation): the epoch's lr
    // is its last step's, one schedule step back
    let lastLr = this.lr(firstStep >= spe && this.run.global_step > 0 ? this.run.global_step - 1 : this.run.global_step);
    for (let s = firstStep; s < spe; s++) {
      if (this.stopRequested || (this.opts.stopAfterSteps !== undefined && thisProcess.steps >= this.opts.stopAfterSteps)) return null;
      lastLr = this.lr(this.run.global_step);
      const r = await this.step();
      this.run.batch_in_epoch += c.gradient_accumulation_steps;
      this.run.global_step += 1;
      thisProcess.steps += 1;
      epochImages += r.images;
      this.recordStep(r, lastLr);
      bar.tick(1, this.clock.stepLine(r.loss, lastLr, epochImages, this.run.global_step, plannedSteps(c, this.run.epoch)));
      if (this.run.global_step % c.log_every_n_steps === 0) this.trainLog.line(`step ${this.run.global_step} epoch ${this.run.epoch + 1} loss ${r.loss.toFixed(6)} lr ${lastLr.toExponential(4)} grad_norm ${r.gradNorm.toFixed(4)}`);
    }
    const seconds = this.clock.epochSeconds();
    if (process.stderr.isTTY) bar.finish(); // off a TTY the tick at 100% already printed the line
    return {
      epoch: this.run.epoch + 1,
      train_loss: this.run.epoch_loss_count ? this.run.epoch_loss_sum / this.run.epoch_loss_count : null,
      lr: lastLr,
      images_per_s: this.clock.imagesPerS(epochImages, seconds),
      seconds,
      data_wait_fraction: this.clock.dataWaitFraction(epochImages, seconds),
      ...this.clock.loaderStartup(),
      nonfinite_steps: this.run.nonfinite_steps,
      backend: backendLabel() ?? 'unknown',
    };
  }

  /** Loss bookkeeping of one step; a skipped (non-finite) step counts toward max_nonfinite_steps, past which training stops. */
  private recordStep(r: { loss: number; gradNorm: number; skipped: boolean }, lr: number): void {
    const c = this.config;
    if (r.skipped) {
      this.run.nonfinite_steps += 1;
      this.trainLog.both('warn', skippedStepMessage(c, this.run, r));
    } else {
      this.run.epoch_loss_sum += r.loss;
      this.run.epoch_loss_count += 1;
    }
    this.opts.onStep?.({ step: this.run.global_step, epoch: this.run.epoch, loss: r.loss, lr, gradNorm: r.gradNorm, skipped: r.skipped });
    if (r.skipped && reachedNonfiniteLimit(c, this.run)) throw new LogolabError(nonfiniteLimitMessage(c, this.run, this.save('last', 'nonfinite')));
  }

  /** Validation on every eval_every_n_epochs-th epoch: best score and early-stopping patience. True when this epoch is the new best. */
  private async validateEpoch(rec: EpochRecord): Promise<boolean | null> {
    const c = this.config;
    if ((this.run.epoch + 1) % c.eval_every_n_epochs !== 0) return false;
    const v = await this.validate();
    if (v === null) return null;
    const diverged = nonfiniteValidationMessage(this.run.epoch + 1, v);
    if (diverged) {
      this.trainLog.line(diverged);
      throw new LogolabError(diverged);
    }
    if (v.num_items > 0) rec.val = { ...v };
    if (!this.validationHasPairs) {
      if (!this.warnedNoVal) {
        this.warnedNoVal = true;
        this.trainLog.both('warn', unpairedValidationWarning(c, v.num_items));
      }
      return false;
    }
    return recordValidation(this.run, bestScoreOf(c.best_metric, v), v.separation, c.min_delta);
  }

  private reportEpoch(rec: EpochRecord, improved: boolean): void {
    this.trainLog.both('info', epochSummary(rec, this.config.max_epochs, improved));
    const hint = inputBoundHint(rec, this.config.num_workers);
    if (hint) this.trainLog.both('warn', hint);
  }

  /** Checkpoint policy at an epoch's end: best.ckpt when improved, epoch_N every save_every_n_epochs, always last.ckpt. Returns last's path. */
  private saveEpochCheckpoints(rec: EpochRecord, improved: boolean): string {
    if (improved) {
      this.save('best', 'best');
      this.bestMissing = null;
    }
    if (rec.epoch % this.config.save_every_n_epochs === 0) this.save(`epoch_${rec.epoch}`, 'epoch');
    const last = this.save('last', 'epoch');
    // after last.ckpt: the history file is never ahead of the checkpoint a resume starts from
    this.writeHistory();
    return last;
  }

  private writeHistory(): void {
    writeJsonAtomic(join(this.dir, 'training_history.json'), this.run.history);
  }

  /** stop_after_epochs reached (epoch-policy.ts); logs why. */
  private stopsAtEpochBudget(rec: EpochRecord): boolean {
    const msg = epochBudgetMessage(this.config, rec);
    if (msg) this.trainLog.both('info', msg);
    return msg !== null;
  }

  /** Early stopping by patience (epoch-policy.ts); logs why. */
  private stopsEarly(rec: EpochRecord): boolean {
    const msg = earlyStopMessage(this.config, this.run, rec);
    if (msg) this.trainLog.both('info', msg);
    return msg !== null;
  }

  /** A requested stop (signal or stopAfterSteps): last.ckpt mid-epoch, resumable exactly. */
  private saveInterrupted(): string {
    const path = this.save('last', this.stopRequested ? 'interrupt' : 'stop');
    this.writeHistory();
    const msg = `${this.stopRequested ?? 'stopped'}: checkpoint saved to ${path} (epoch ${this.run.epoch + 1}, step ${this.run.global_step}); resume with --resume ${path}`;
    this.trainLog.both('warn', msg);
    return path;
  }

  private result(status: TrainResult['status'], lastPath: string, t0: number): TrainResult {
    return trainResult(this.config, this.run, this.dir, this.bestMissing, status, lastPath, t0);
  }

  get signal(): string | null {
    return this.stopRequested;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
