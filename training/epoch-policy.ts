/**
 * The training loop's decisions, as functions of the config and the run state: what a skipped
 * (non-finite) step means, whether a validation result can be used, and when the run stops early
 * or at its epoch budget. Each returns the message the trainer logs (null: nothing to do); the
 * trainer does the logging, saving and throwing, so these stay testable without a model.
 */
import type { EpochRecord } from './checkpoint.js';
import { stepsPerEpoch, type TrainingConfig } from './config.js';
import type { RunState } from './run-state.js';
import type { ValidationMetrics } from './validation.js';

/** The warning for a step skipped because its loss or gradient was not finite. */
export function skippedStepMessage(c: TrainingConfig, run: RunState, r: { loss: number; gradNorm: number }): string {
  return `step ${run.global_step}: non-finite ${Number.isFinite(r.loss) ? 'gradient' : 'loss'} (loss ${r.loss}, grad norm ${r.gradNorm}); step skipped (${run.nonfinite_steps}/${c.max_nonfinite_steps})`;
}

/** The error once max_nonfinite_steps steps were skipped; `savedTo` is the state kept for inspection. */
export function nonfiniteLimitMessage(c: TrainingConfig, run: RunState, savedTo: string): string {
  return `training stopped: ${run.nonfinite_steps} optimizer steps had a non-finite loss or gradient (max_nonfinite_steps ${c.max_nonfinite_steps}); lower learning_rate, set max_grad_norm, or check the data. Last state saved to ${savedTo}`;
}

export function reachedNonfiniteLimit(c: TrainingConfig, run: RunState): boolean {
  return run.nonfinite_steps >= c.max_nonfinite_steps;
}

/**
 * The error for a validation with NaN/Inf metrics (a diverged model), else null. Raised before the
 * epoch's checkpoints, so no non-finite epoch is saved, picked as the best or exported.
 */
export function nonfiniteValidationMessage(epoch: number, v: ValidationMetrics & { loss: number }): string | null {
  const bad = v.num_items > 0 ? Object.entries(v).filter(([, x]) => !Number.isFinite(x)) : [];
  if (!bad.length) return null;
  return `epoch ${epoch}: non-finite validation metric${bad.length > 1 ? 's' : ''} ${bad.map(([k, x]) => `${k} ${x}`).join(', ')} (the model diverged; lower learning_rate or set max_grad_norm); nothing of this epoch was saved or exported`;
}

/**
 * Why a validation cannot drive the best checkpoint or early stopping: no validation images
 * (val_split 0), or none sharing a label, so separation, precision@1 and MAP@R measure nothing and
 * would pick a best epoch and stop the run by drift.
 */
export function unpairedValidationWarning(c: TrainingConfig, numItems: number): string {
  const why = numItems === 0 ? `0 validation images (val_split ${c.val_split})` : `no two of the ${numItems} validation images share a label`;
  return `validation: ${why}: no best checkpoint and no early stopping; every epoch is trained and last.ckpt is the final model (raise val_split or val_batches for a validated best)`;
}

/** Early stopping: `patience` evaluations in a row without a best_metric improvement > min_delta. */
export function earlyStopMessage(c: TrainingConfig, run: RunState, rec: EpochRecord): string | null {
  if (!rec.val || run.patience_counter < c.patience) return null;
  return `early stopping at epoch ${rec.epoch}: no ${c.best_metric} improvement > ${c.min_delta} for ${c.patience} evaluations`;
}

/** stop_after_epochs: a time-budget cut of the max_epochs schedule (the learning rate follows max_epochs). */
export function epochBudgetMessage(c: TrainingConfig, rec: EpochRecord): string | null {
  if (!(c.stop_after_epochs > 0 && rec.epoch >= c.stop_after_epochs && rec.epoch < c.max_epochs)) return null;
  return `stopped after epoch ${rec.epoch} of the ${c.max_epochs}-epoch schedule (stop_after_epochs)`;
}

/**
 * Optimizer steps the run will have taken when it ends, if nothing stops it early: at max_epochs,
 * or at stop_after_epochs when that cuts the schedule — but never before the end of the epoch in
 * progress (`epoch`, 0-based: a run resumed past stop_after_epochs still finishes one epoch).
 */
export function plannedSteps(c: TrainingConfig, epoch = 0): number {
  const epochs = c.stop_after_epochs > 0 ? Math.min(Math.max(c.stop_after_epochs, epoch + 1), c.max_epochs) : c.max_epochs;
  return stepsPerEpoch(c) * epochs;
}

/**
 * Why a checkpoint cannot be resumed under `c` (a changed gradient_accumulation_steps or
 * batches_per_epoch), else null:
 *   - stopped mid-epoch after a number of micro-batches that c's accumulation does not divide:
 *     the next optimizer step would start inside another's micro-batches (a fractional step count);
 *   - fewer steps per epoch than the run had: its steps so far plus those left overrun c's
 *     learning-rate schedule (total_steps), and the last ones would train at its floor (0 at
 *     min_lr_ratio 0), learning nothing. (Raising max_epochs adds as many steps to both.)
 */
export function resumePositionRefusal(c: TrainingConfig, run: Pick<RunState, 'epoch' | 'batch_in_epoch' | 'global_step'>, was: Partial<TrainingConfig>, source: string): string | null {
  const accum = c.gradient_accumulation_steps;
  const keep = (k: keyof TrainingConfig) => (was[k] !== undefined && was[k] !== c[k] ? ` (the checkpoint's: ${String(was[k])})` : '');
  if (run.batch_in_epoch % accum !== 0)
    return `--resume ${source}: stopped in epoch ${run.epoch + 1} after ${run.batch_in_epoch} micro-batches, which gradient_accumulation_steps ${accum}${keep('gradient_accumulation_steps')} does not divide: the next optimizer step would begin inside another's micro-batches — resume with the checkpoint's gradient_accumulation_steps, or from an epoch's end (epoch_N.ckpt)`;
  const spe = stepsPerEpoch(c);
  const total = spe * c.max_epochs;
  const left = run.epoch >= c.max_epochs ? 0 : Math.max(0, spe - run.batch_in_epoch / accum) + (c.max_epochs - run.epoch - 1) * spe;
  const over = run.global_step + left - total;
  if (left > 0 && over > 0)
    return `--resume ${source}: the checkpoint is at optimizer step ${run.global_step} with ${left} steps left under this config, but its learning-rate schedule ends at step ${total} (${spe} steps per epoch: batches_per_epoch ${c.batches_per_epoch}${keep('batches_per_epoch')} / gradient_accumulation_steps ${accum}${keep('gradient_accumulation_steps')}, × max_epochs ${c.max_epochs}): the last ${Math.min(over, left)} steps would train at its floor (learning rate ${c.learning_rate * c.min_lr_ratio}) — resume with the checkpoint's batches_per_epoch and gradient_accumulation_steps`;
  return null;
}
