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
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { makeRng, type Rng } from '../src/util/rng.js';
import { Progress, formatDuration } from '../src/util/progress.js';
import { log } from '../src/util/log.js';
import { checkpointPath, cleanStaleTemps, saveCheckpoint, type Checkpoint, type EpochRecord, type TrainState } from './checkpoint.js';
import { microBatchSize, mixedPrecisionNote, stepsPerEpoch, totalSteps, type TrainingConfig } from './config.js';
import { lossAndGrads, type GradFn } from './grads.js';
import { getLoss, type LossFn } from './losses/index.js';
import { assignParams, paramsToHost, type TrainableModel } from './model.js';
import { AdamW } from './optim/adamw.js';
import { clipByGlobalNorm, disposeGrads, globalNorm } from './optim/accumulate.js';
import { cosineWithWarmup } from './optim/schedule.js';
import type { Batch, DataSource } from './batch.js';
import { stepGradients } from './step-grads.js';
import { validateModel } from './validate-model.js';
import type { ValidationMetrics } from './validation.js';
import { acquireRunLock } from './run-lock.js';
// the wasm backend has no gradient for conv filters: register ours (full training of the patch embedding)
import './kernels/wasm_conv_grad.js';

export interface TrainerOptions {
  /** silence the progress bar (tests) */
  quiet?: boolean;
  /** called after every optimizer step (tests, demo) */
  onStep?: (info: StepInfo) => void;
  /** gradient implementation (per-block recomputation plugs in here) */
  gradFn?: GradFn;
  /** install SIGINT/SIGTERM handlers (CLI) */
  handleSignals?: boolean;
  /** stop after this many optimizer steps in this process (tests: simulate an interruption) */
  stopAfterSteps?: number;
}

export interface StepInfo {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  skipped: boolean;
}

/** The best-checkpoint score of a validation result, oriented so that higher is better. */
export function bestScoreOf(metric: TrainingConfig['best_metric'], v: { separation: number; precision_at_1: number; map_at_r: number; loss?: number }): number {
  if (metric === 'val_loss') {
    if (v.loss === undefined || !Number.isFinite(v.loss)) throw new LogolabError('best_metric val_loss: validation produced no finite loss');
    return -v.loss;
  }
  return v[metric];
}

export interface TrainResult {
  status: 'completed' | 'early_stopped' | 'interrupted';
  epochs: number;
  steps: number;
  best_separation: number | null;
  best_metric: TrainingConfig['best_metric'];
  /** the best epoch's best_metric value (null when never validated) */
  best_score: number | null;
  best_epoch: number | null;
  history: EpochRecord[];
  last_checkpoint: string;
  best_checkpoint: string | null;
  seconds: number;
}

export class Trainer {
  readonly params: Map<string, tf.Variable>;
  readonly optimizer: AdamW;
  readonly lr: (step: number) => number;
  private readonly loss: LossFn;
  private rng: Rng;
  private epoch = 0;
  private batchInEpoch = 0;
  private globalStep = 0;
  private bestSeparation: number | null = null;
  /** config.best_metric at the best epoch, oriented so that higher is better */
  private bestScore: number | null = null;
  private bestEpoch: number | null = null;
  private patience = 0;
  private nonfinite = 0;
  private epochLossSum = 0;
  private epochLossCount = 0;
  private history: EpochRecord[] = [];
  private stopRequested: string | null = null;
  private warnedNoPairs = false;
  /** ms this epoch's steps spent waiting for training batches (data_wait_fraction) */
  private dataWaitMs = 0;
  /** ms the first batch of this process took (loader start-up: workers booting, nothing prefetched); null until then */
  private startupMs: number | null = null;
  /** startupMs when it fell in the current epoch, else 0 */
  private epochStartupMs = 0;
  private readonly gradFn: GradFn;
  private readonly dir: string;

  constructor(
    readonly config: TrainingConfig,
    readonly tm: TrainableModel,
    readonly data: DataSource,
    readonly opts: TrainerOptions = {},
  ) {
    this.params = tm.params;
    if (this.params.has('embeddings.patch_embedding.weight') && !tf.getKernel('Conv2DBackpropFilter', tf.getBackend()))
      throw new LogolabError(
        `freeze_layers 0 with lora_r 0 trains the patch embedding, whose gradient (Conv2DBackpropFilter) the '${tf.getBackend()}' backend lacks; use --backend cpu or tensorflow, or freeze_layers ≥ 1`,
      );
    this.optimizer = new AdamW(this.params, { beta1: config.adam_beta1, beta2: config.adam_beta2, epsilon: config.adam_epsilon, weightDecay: config.weight_decay });
    this.lr = cosineWithWarmup({ baseLr: config.learning_rate, warmupSteps: config.warmup_steps, totalSteps: totalSteps(config), minLrRatio: config.min_lr_ratio });
    this.loss = getLoss(config.loss_type, { temperature: config.temperature, margin: config.triplet_margin });
    this.rng = makeRng(`train:${config.seed}`);
    this.gradFn = opts.gradFn ?? lossAndGrads;
    this.dir = config.checkpoint_dir;
  }

  /** Restores everything a checkpoint holds (weights, optimizer, counters, RNG, history). */
  resume(ck: Checkpoint, source: string): void {
    const s = ck.state;
    assignParams(this.params, ck.params, source);
    this.optimizer.setState(ck.optimizer);
    this.epoch = s.epoch;
    this.batchInEpoch = s.batch_in_epoch;
    this.globalStep = s.global_step;
    this.rng = makeRng(`train:${this.config.seed}`, s.rng);
    this.bestSeparation = s.best_separation;
    this.bestScore = s.best_score ?? (this.config.best_metric === 'separation' ? s.best_separation : null);
    this.bestEpoch = s.best_epoch;
    this.patience = s.patience_counter;
    this.nonfinite = s.nonfinite_steps;
    this.epochLossSum = s.epoch_loss_sum;
    this.epochLossCount = s.epoch_loss_count;
    this.history = [...s.history];
  }

  private state(reason: string): TrainState {
    const c = this.config;
    return {
      format: 'logolab-train-checkpoint',
      version: 1,
      epoch: this.epoch,
      batch_in_epoch: this.batchInEpoch,
      global_step: this.globalStep,
      scheduler: { kind: 'cosine_with_warmup', base_lr: c.learning_rate, warmup_steps: c.warmup_steps, total_steps: totalSteps(c), min_lr_ratio: c.min_lr_ratio },
      rng: this.rng.state(),
      adam_t: this.optimizer.t,
      best_separation: this.bestSeparation,
      best_score: this.bestScore,
      best_epoch: this.bestEpoch,
      patience_counter: this.patience,
      nonfinite_steps: this.nonfinite,
      epoch_loss_sum: this.epochLossSum,
      epoch_loss_count: this.epochLossCount,
      history: this.history,
      config: c,
      model: this.tm.description,
      reason,
      saved_at: new Date().toISOString(),
    };
  }

  save(name: string, reason: string): string {
    const path = checkpointPath(this.dir, name);
    saveCheckpoint(path, { state: this.state(reason), params: paramsToHost(this.params), optimizer: this.optimizer.getState() });
    return path;
  }

  private logLine(msg: string): void {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(join(this.dir, 'train.log'), `${new Date().toISOString()} ${msg}\n`);
  }

  /**
   * Training micro-batch `index` of the current epoch; the time spent waiting counts as data wait,
   * except for the first batch of the process (loader start-up), which is reported on its own.
   */
  private async trainBatch(index: number): Promise<Batch> {
    const t0 = performance.now();
    try {
      return await this.data.trainBatch(this.epoch, index);
    } finally {
      const ms = performance.now() - t0;
      if (this.startupMs === null) {
        this.startupMs = this.epochStartupMs = ms;
        log('info', `first batch after ${(ms / 1000).toFixed(1)} s (loader start-up; not counted in data_wait_fraction)`);
      } else this.dataWaitMs += ms;
    }
  }

  /** One optimizer step over micro-batches [first, first + accum) of the current epoch. */
  private async step(): Promise<{ loss: number; gradNorm: number; skipped: boolean; images: number }> {
    const c = this.config;
    const first = this.batchInEpoch;
    const { loss, grads, finite, images } = await stepGradients(c, this.tm, this.loss, this.gradFn, (k) => this.trainBatch(first + k), () => this.rng.seed());
    try {
      const norm = globalNorm(grads);
      if (!finite || !Number.isFinite(norm)) return { loss, gradNorm: norm, skipped: true, images };
      if (c.max_grad_norm > 0) clipByGlobalNorm(grads, c.max_grad_norm, norm);
      this.optimizer.step(grads, this.lr(this.globalStep));
      return { loss, gradNorm: norm, skipped: false, images };
    } finally {
      disposeGrads(grads);
    }
  }

  async validate(): Promise<ValidationMetrics & { loss: number }> {
    const { noPairs, images, ...v } = await validateModel(this.tm, this.data, this.loss, { batchSize: this.config.batch_size, valBatches: this.config.val_batches });
    if (noPairs && !this.warnedNoPairs) {
      this.warnedNoPairs = true;
      log('warn', `validation: no two of the ${images} validation images share a label, so mean_pos_sim/separation are 0 (raise val_split or val_batches)`);
    }
    return v;
  }

  async train(): Promise<TrainResult> {
    const t0 = Date.now();
    mkdirSync(this.dir, { recursive: true });
    const releaseLock = acquireRunLock(this.dir);
    try {
      return await this.trainLocked(t0);
    } finally {
      releaseLock();
    }
  }

  /** The training loop; each policy it applies is a named helper below. */
  private async trainLocked(t0: number): Promise<TrainResult> {
    this.logStart();
    const removeSignalHandlers = this.opts.handleSignals ? this.installSignalHandlers() : () => {};
    let status: TrainResult['status'] = 'completed';
    let lastPath = checkpointPath(this.dir, 'last');
    const run = { steps: 0 };
    try {
      while (this.epoch < this.config.max_epochs) {
        const rec = await this.trainEpoch(run);
        if (!rec) {
          status = 'interrupted';
          lastPath = this.saveInterrupted();
          break;
        }
        const improved = await this.validateEpoch(rec);
        this.closeEpoch(rec);
        this.reportEpoch(rec, improved);
        lastPath = this.saveEpochCheckpoints(rec, improved);
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

  private logStart(): void {
    const c = this.config;
    for (const f of cleanStaleTemps(this.dir)) log('info', `removed stale temp file ${f} (an interrupted checkpoint write)`);
    const note = mixedPrecisionNote(c);
    if (note) log('info', note);
    const nTrain = [...this.params.values()].reduce((s, v) => s + v.size, 0);
    log('info', `training: ${this.params.size} trainable tensors (${nTrain.toLocaleString('en')} parameters), ${stepsPerEpoch(c)} steps/epoch × ${c.max_epochs} epochs, micro-batch ${microBatchSize(c)} images × ${c.gradient_accumulation_steps} accumulation, contrastive_batch ${c.contrastive_batch}, loss ${c.loss_type}`);
    this.logLine(`start epoch=${this.epoch} batch_in_epoch=${this.batchInEpoch} step=${this.globalStep} config=${JSON.stringify(c)}`);
  }

  /**
   * SIGINT/SIGTERM: the first finishes the current step and saves a checkpoint; a second stops at
   * once (checkpoints are written atomically, so the previous last.ckpt stays intact). Returns the remover.
   */
  private installSignalHandlers(): () => void {
    const onSignal = (sig: string) => () => {
      if (this.stopRequested) {
        log('warn', `${sig} again: stopping at once without saving; resume from the last complete checkpoint in ${this.dir}`);
        process.exit(sig === 'SIGTERM' ? 143 : 130);
      }
      this.stopRequested = sig;
      log('warn', `${sig}: finishing the current step, then saving a checkpoint (send it again to stop at once)`);
    };
    const handlers: [string, () => void][] = [['SIGINT', onSignal('SIGINT')], ['SIGTERM', onSignal('SIGTERM')]];
    for (const [s, h] of handlers) process.on(s, h);
    return () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
  }

  /** The optimizer steps of one epoch (from batch_in_epoch after a resume); null when a stop was requested. */
  private async trainEpoch(run: { steps: number }): Promise<EpochRecord | null> {
    const c = this.config;
    const spe = stepsPerEpoch(c);
    const epochStart = Date.now();
    this.dataWaitMs = 0;
    this.epochStartupMs = 0;
    let epochImages = 0;
    const firstStep = this.batchInEpoch / c.gradient_accumulation_steps;
    const bar = new Progress({ label: `epoch ${this.epoch + 1}/${c.max_epochs}`, total: spe, unit: 'step', ...(this.opts.quiet ? { quiet: true } : {}) });
    if (firstStep > 0) bar.tick(firstStep);
    let lastLr = this.lr(this.globalStep);
    for (let s = firstStep; s < spe; s++) {
      if (this.stopRequested || (this.opts.stopAfterSteps !== undefined && run.steps >= this.opts.stopAfterSteps)) return null;
      lastLr = this.lr(this.globalStep);
      const r = await this.step();
      this.batchInEpoch += c.gradient_accumulation_steps;
      this.globalStep += 1;
      run.steps += 1;
      epochImages += r.images;
      this.recordStep(r, lastLr);
      const el = (Date.now() - epochStart) / 1000;
      bar.tick(1, `loss ${r.loss.toFixed(4)} | lr ${lastLr.toExponential(2)} | ${(epochImages / Math.max(el, 1e-9)).toFixed(1)} img/s | data wait ${((100 * this.dataWaitMs) / Math.max(el * 1000 - this.epochStartupMs, 1e-6)).toFixed(0)}%`);
      if (this.globalStep % c.log_every_n_steps === 0) this.logLine(`step ${this.globalStep} epoch ${this.epoch + 1} loss ${r.loss.toFixed(6)} lr ${lastLr.toExponential(4)} grad_norm ${r.gradNorm.toFixed(4)}`);
    }
    const seconds = (Date.now() - epochStart) / 1000;
    if (process.stderr.isTTY) bar.finish(); // off a TTY the tick at 100% already printed the line
    return {
      epoch: this.epoch + 1,
      train_loss: this.epochLossCount ? this.epochLossSum / this.epochLossCount : null,
      lr: lastLr,
      images_per_s: epochImages / Math.max(seconds, 1e-9),
      seconds,
      // share of this epoch's training time (this process's part of it, after a resume) spent
      // waiting for batches, loader start-up excluded (reported as loader_startup_s)
      data_wait_fraction: Math.min(1, this.dataWaitMs / Math.max(seconds * 1000 - this.epochStartupMs, 1e-6)),
      ...(this.epochStartupMs ? { loader_startup_s: this.epochStartupMs / 1000 } : {}),
      nonfinite_steps: this.nonfinite,
    };
  }

  /** Loss bookkeeping of one step; a skipped (non-finite) step counts toward max_nonfinite_steps, past which training stops. */
  private recordStep(r: { loss: number; gradNorm: number; skipped: boolean }, lr: number): void {
    const c = this.config;
    if (r.skipped) {
      this.nonfinite += 1;
      const msg = `step ${this.globalStep}: non-finite ${Number.isFinite(r.loss) ? 'gradient' : 'loss'} (loss ${r.loss}, grad norm ${r.gradNorm}); step skipped (${this.nonfinite}/${c.max_nonfinite_steps})`;
      log('warn', msg);
      this.logLine(msg);
    } else {
      this.epochLossSum += r.loss;
      this.epochLossCount += 1;
    }
    this.opts.onStep?.({ step: this.globalStep, epoch: this.epoch, loss: r.loss, lr, gradNorm: r.gradNorm, skipped: r.skipped });
    if (r.skipped && this.nonfinite >= c.max_nonfinite_steps) {
      const path = this.save('last', 'nonfinite');
      throw new LogolabError(
        `training stopped: ${this.nonfinite} optimizer steps had a non-finite loss or gradient (max_nonfinite_steps ${c.max_nonfinite_steps}); lower learning_rate, set max_grad_norm, or check the data. Last state saved to ${path}`,
      );
    }
  }

  /** Validation on every eval_every_n_epochs-th epoch: best score and early-stopping patience. True when this epoch is the new best. */
  private async validateEpoch(rec: EpochRecord): Promise<boolean> {
    const c = this.config;
    if ((this.epoch + 1) % c.eval_every_n_epochs !== 0) return false;
    const v = await this.validate();
    rec.val = { ...v };
    const score = bestScoreOf(c.best_metric, v);
    if (this.bestScore === null || score > this.bestScore + c.min_delta) {
      this.bestScore = score;
      this.bestSeparation = v.separation;
      this.bestEpoch = this.epoch + 1;
      this.patience = 0;
      return true;
    }
    this.patience += 1;
    return false;
  }

  /** Epoch done: counters move to the next epoch BEFORE saving, so a resume starts there. */
  private closeEpoch(rec: EpochRecord): void {
    this.history.push(rec);
    this.epoch += 1;
    this.batchInEpoch = 0;
    this.epochLossSum = 0;
    this.epochLossCount = 0;
  }

  private reportEpoch(rec: EpochRecord, improved: boolean): void {
    const c = this.config;
    const summary = `epoch ${rec.epoch}/${c.max_epochs}: train_loss ${rec.train_loss === null ? 'n/a' : rec.train_loss.toFixed(4)}, ${rec.images_per_s.toFixed(1)} img/s, data wait ${(100 * rec.data_wait_fraction!).toFixed(1)}%, ${formatDuration(rec.seconds)}${
      rec.val
        ? ` | val loss ${rec.val.loss!.toFixed(4)} pos ${rec.val.mean_pos_sim!.toFixed(3)} neg ${rec.val.mean_neg_sim!.toFixed(3)} separation ${rec.val.separation!.toFixed(4)} R@1 ${rec.val.recall_at_1!.toFixed(3)} P@1 ${rec.val.precision_at_1!.toFixed(3)} MAP@R ${rec.val.map_at_r!.toFixed(3)}${improved ? ' (best)' : ''}`
        : ''
    }`;
    log('info', summary);
    this.logLine(summary);
    if (rec.data_wait_fraction! > 0.1) {
      const hint = `epoch ${rec.epoch}: input-bound (${(100 * rec.data_wait_fraction!).toFixed(0)}% of the time waiting for data): raise num_workers (now ${c.num_workers})`;
      log('warn', hint);
      this.logLine(hint);
    }
  }

  /** Checkpoint policy at an epoch's end: best.ckpt when improved, epoch_N every save_every_n_epochs, always last.ckpt. Returns last's path. */
  private saveEpochCheckpoints(rec: EpochRecord, improved: boolean): string {
    if (improved) this.save('best', 'best');
    if (rec.epoch % this.config.save_every_n_epochs === 0) this.save(`epoch_${rec.epoch}`, 'epoch');
    const last = this.save('last', 'epoch');
    // after last.ckpt: the history file is never ahead of the checkpoint a resume starts from
    writeJsonAtomic(join(this.dir, 'training_history.json'), this.history);
    return last;
  }

  /** stop_after_epochs: a time-budget cut of the max_epochs schedule (the learning rate follows max_epochs). */
  private stopsAtEpochBudget(rec: EpochRecord): boolean {
    const c = this.config;
    if (!(c.stop_after_epochs > 0 && rec.epoch >= c.stop_after_epochs && rec.epoch < c.max_epochs)) return false;
    const msg = `stopped after epoch ${rec.epoch} of the ${c.max_epochs}-epoch schedule (stop_after_epochs)`;
    log('info', msg);
    this.logLine(msg);
    return true;
  }

  /** Early stopping: `patience` evaluations in a row without a best_metric improvement > min_delta. */
  private stopsEarly(rec: EpochRecord): boolean {
    const c = this.config;
    if (!rec.val || this.patience < c.patience) return false;
    const msg = `early stopping at epoch ${rec.epoch}: no ${c.best_metric} improvement > ${c.min_delta} for ${c.patience} evaluations`;
    log('info', msg);
    this.logLine(msg);
    return true;
  }

  /** A requested stop (signal or stopAfterSteps): last.ckpt mid-epoch, resumable exactly. */
  private saveInterrupted(): string {
    const path = this.save('last', this.stopRequested ? 'interrupt' : 'stop');
    const msg = `${this.stopRequested ?? 'stopped'}: checkpoint saved to ${path} (epoch ${this.epoch + 1}, step ${this.globalStep}); resume with --resume ${path}`;
    log('warn', msg);
    this.logLine(msg);
    return path;
  }

  private result(status: TrainResult['status'], lastPath: string, t0: number): TrainResult {
    const c = this.config;
    return {
      status,
      epochs: this.epoch,
      steps: this.globalStep,
      best_separation: this.bestSeparation,
      best_metric: c.best_metric,
      best_score: this.bestScore === null ? null : c.best_metric === 'val_loss' ? -this.bestScore : this.bestScore,
      best_epoch: this.bestEpoch,
      history: this.history,
      last_checkpoint: lastPath,
      best_checkpoint: this.bestEpoch !== null ? checkpointPath(this.dir, 'best') : null,
      seconds: (Date.now() - t0) / 1000,
    };
  }

  get signal(): string | null {
    return this.stopRequested;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
