/**
 * Where a training run stands: its position (epoch, micro-batch, optimizer step), the best epoch so
 * far and early-stopping patience, the non-finite step count, the running loss of the epoch in
 * progress, and the history. These are exactly the TrainState fields a resume restores, under the
 * same names, so the checkpoint and the loop cannot disagree about what the run's state is.
 */
import { LogolabError } from '../src/errors.js';
import type { EpochRecord, TrainState } from './checkpoint.js';
import type { TrainingConfig } from './config.js';

export type RunState = Pick<
  TrainState,
  'epoch' | 'batch_in_epoch' | 'global_step' | 'best_separation' | 'best_epoch' | 'patience_counter' | 'nonfinite_steps' | 'epoch_loss_sum' | 'epoch_loss_count' | 'history'
> & {
  /** config.best_metric at the best epoch, oriented so that higher is better (val_loss negated) */
  best_score: number | null;
};

export function freshRunState(): RunState {
  return {
    epoch: 0,
    batch_in_epoch: 0,
    global_step: 0,
    best_separation: null,
    best_score: null,
    best_epoch: null,
    patience_counter: 0,
    nonfinite_steps: 0,
    epoch_loss_sum: 0,
    epoch_loss_count: 0,
    history: [],
  };
}

/**
 * The run state a checkpoint holds; checkpoints older than best_score had separation as the only
 * criterion. A resume with another best_metric or min_delta re-derives the best epoch and patience
 * from the validations in the history: the stored best score is the old metric's, on another scale
 * (a val_loss resume compared losses with a negated separation and stopped early on a falling loss).
 */
export function runStateFrom(s: TrainState, bestMetric: TrainingConfig['best_metric'], minDelta?: number): RunState {
  const r: RunState = {
    epoch: s.epoch,
    batch_in_epoch: s.batch_in_epoch,
    global_step: s.global_step,
    best_separation: s.best_separation,
    best_score: s.best_score ?? (bestMetric === 'separation' ? s.best_separation : null),
    best_epoch: s.best_epoch,
    patience_counter: s.patience_counter,
    nonfinite_steps: s.nonfinite_steps,
    epoch_loss_sum: s.epoch_loss_sum,
    epoch_loss_count: s.epoch_loss_count,
    history: [...s.history],
  };
  const was = s.config as Partial<TrainingConfig> | undefined;
  const delta = minDelta ?? was?.min_delta ?? 0;
  if (was?.best_metric === undefined || (was.best_metric === bestMetric && was.min_delta === delta)) return r;
  Object.assign(r, { best_score: null, best_separation: null, best_epoch: null, patience_counter: 0 });
  const epoch = r.epoch;
  for (const rec of s.history) {
    const v = rec.val;
    // a record of an older checkpoint may lack the metric: it cannot be compared, so it is passed over
    const value = bestMetric === 'val_loss' ? v?.loss : v?.[bestMetric];
    if (!v || value === undefined || !Number.isFinite(value) || v.separation === undefined) continue;
    r.epoch = rec.epoch - 1;
    recordValidation(r, bestScoreOf(bestMetric, v as { separation: number; precision_at_1: number; map_at_r: number; loss?: number }), v.separation, delta);
  }
  r.epoch = epoch;
  return r;
}

/** The best-checkpoint score of a validation result, oriented so that higher is better. */
export function bestScoreOf(metric: TrainingConfig['best_metric'], v: { separation: number; precision_at_1: number; map_at_r: number; loss?: number }): number {
  if (metric === 'val_loss') {
    if (v.loss === undefined || !Number.isFinite(v.loss)) throw new LogolabError('best_metric val_loss: validation produced no finite loss');
    return -v.loss;
  }
  return v[metric];
}

/** The best epoch's best_metric value as the metric reads (val_loss positive again); null before any validation. */
export function bestMetricValue(metric: TrainingConfig['best_metric'], r: RunState): number | null {
  if (r.best_score === null) return null;
  return metric === 'val_loss' ? -r.best_score : r.best_score;
}

/**
 * A validation of the epoch in progress: a new best when its score beats the best by more than
 * min_delta (patience resets), else one more evaluation without improvement. True when a new best.
 * A non-finite score or separation is an error: NaN would win the first comparison (best_score
 * null) and a diverged model would be kept and exported as the best.
 */
export function recordValidation(r: RunState, score: number, separation: number, minDelta: number): boolean {
  if (!Number.isFinite(score) || !Number.isFinite(separation))
    throw new LogolabError(`epoch ${r.epoch + 1}: non-finite validation result (best_metric score ${score}, separation ${separation}); it cannot be the best checkpoint`);
  if (r.best_score === null || score > r.best_score + minDelta) {
    r.best_score = score;
    r.best_separation = separation;
    r.best_epoch = r.epoch + 1;
    r.patience_counter = 0;
    return true;
  }
  r.patience_counter += 1;
  return false;
}

/** Epoch done: the counters move to the next epoch BEFORE saving, so a resume starts there. */
export function closeEpoch(r: RunState, rec: EpochRecord): void {
  r.history.push(rec);
  r.epoch += 1;
  r.batch_in_epoch = 0;
  r.epoch_loss_sum = 0;
  r.epoch_loss_count = 0;
}
