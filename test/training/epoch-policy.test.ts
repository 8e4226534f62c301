import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../training/config.js';
import type { EpochRecord } from '../../training/checkpoint.js';
import { freshRunState } from '../../training/run-state.js';
import { earlyStopMessage, epochBudgetMessage, nonfiniteValidationMessage, plannedSteps, reachedNonfiniteLimit, resumePositionRefusal, skippedStepMessage, unpairedValidationWarning } from '../../training/epoch-policy.js';
import { runStatus } from '../../training/train-log.js';

const rec = (epoch: number, validated: boolean): EpochRecord => ({
  epoch, train_loss: 1, lr: 1e-3, images_per_s: 1, seconds: 1, nonfinite_steps: 0,
  ...(validated ? { val: { separation: 0.1, precision_at_1: 0.5, map_at_r: 0.3, num_items: 8, loss: 2 } } : {}),
});
const val = (over: Record<string, number>) => ({ separation: 0.1, precision_at_1: 0.5, map_at_r: 0.3, num_items: 8, mean_pos_sim: 0.5, mean_neg_sim: 0.4, recall_at_1: 0.5, recall_at_5: 0.8, r_precision: 0.4, loss: 2, ...over });

describe('epoch policy', () => {
  it('early stopping needs a validated epoch and patience evaluations without improvement', () => {
    const c = { ...defaultConfig(), patience: 2, best_metric: 'map_at_r' as const, min_delta: 0.01 };
    const run = freshRunState();
    run.patience_counter = 1;
    assert.equal(earlyStopMessage(c, run, rec(4, true)), null);
    run.patience_counter = 2;
    assert.equal(earlyStopMessage(c, run, rec(4, false)), null); // an unvalidated epoch never stops the run
    assert.equal(earlyStopMessage(c, run, rec(4, true)), 'early stopping at epoch 4: no map_at_r improvement > 0.01 for 2 evaluations');
  });

  it('stop_after_epochs cuts the schedule only before its last epoch, and 0 never does', () => {
    const c = { ...defaultConfig(), max_epochs: 10, stop_after_epochs: 3 };
    assert.equal(epochBudgetMessage(c, rec(2, false)), null);
    assert.match(epochBudgetMessage(c, rec(3, false)) ?? '', /stopped after epoch 3 of the 10-epoch schedule/);
    assert.equal(epochBudgetMessage({ ...c, stop_after_epochs: 10 }, rec(10, false)), null);
    assert.equal(epochBudgetMessage({ ...c, stop_after_epochs: 0 }, rec(3, false)), null);
  });

  it('a resume under another accumulation or schedule is refused only where it cannot continue', () => {
    const was = { ...defaultConfig(), batches_per_epoch: 8, gradient_accumulation_steps: 2, max_epochs: 3 };
    const mid = { epoch: 1, batch_in_epoch: 4, global_step: 6 };
    assert.equal(resumePositionRefusal(was, mid, was, 'a.ckpt'), null);
    // at an epoch's end another accumulation continues (here with the same steps per epoch); a
    // finished run has nothing left to train
    assert.equal(resumePositionRefusal({ ...was, gradient_accumulation_steps: 3, batches_per_epoch: 12 }, { epoch: 1, batch_in_epoch: 0, global_step: 4 }, was, 'a.ckpt'), null);
    assert.equal(resumePositionRefusal({ ...was, gradient_accumulation_steps: 8, max_epochs: 3 }, { epoch: 3, batch_in_epoch: 0, global_step: 12 }, was, 'a.ckpt'), null);
    assert.match(resumePositionRefusal({ ...was, gradient_accumulation_steps: 8 }, mid, was, 'a.ckpt') ?? '', /^--resume a\.ckpt: stopped in epoch 2 after 4 micro-batches, which gradient_accumulation_steps 8 \(the checkpoint's: 2\) does not divide/);
    // fewer steps per epoch: the run overruns the schedule, whatever max_epochs (it adds to both)
    const short = { ...was, gradient_accumulation_steps: 4 };
    assert.match(resumePositionRefusal(short, { epoch: 2, batch_in_epoch: 0, global_step: 8 }, was, 'a.ckpt') ?? '', /step 8 with 2 steps left under this config, but its learning-rate schedule ends at step 6 .*: the last 2 steps would train at its floor \(learning rate 0\)/);
    assert.match(resumePositionRefusal({ ...short, max_epochs: 9 }, { epoch: 2, batch_in_epoch: 0, global_step: 8 }, was, 'a.ckpt') ?? '', /the last 4 steps would train at its floor/);
    // more steps per epoch (or none left: stopped at an epoch's end before validating it) is no overrun
    assert.equal(resumePositionRefusal({ ...was, gradient_accumulation_steps: 1 }, { epoch: 2, batch_in_epoch: 0, global_step: 8 }, was, 'a.ckpt'), null);
    assert.equal(resumePositionRefusal(was, { epoch: 2, batch_in_epoch: 8, global_step: 12 }, was, 'a.ckpt'), null);
  });

  it('a diverged validation names every non-finite metric; an empty one is not diverged', () => {
    assert.equal(nonfiniteValidationMessage(3, val({})), null);
    const m = nonfiniteValidationMessage(3, val({ separation: NaN, loss: Infinity })) ?? '';
    assert.match(m, /^epoch 3: non-finite validation metrics separation NaN, loss Infinity/);
    assert.equal(nonfiniteValidationMessage(3, val({ num_items: 0, separation: NaN })), null);
  });

  it('skipped steps name loss or gradient and count toward max_nonfinite_steps', () => {
    const c = { ...defaultConfig(), max_nonfinite_steps: 2 };
    const run = freshRunState();
    run.global_step = 7;
    run.nonfinite_steps = 1;
    assert.match(skippedStepMessage(c, run, { loss: NaN, gradNorm: NaN }), /^step 7: non-finite loss .* \(1\/2\)$/);
    assert.match(skippedStepMessage(c, run, { loss: 1.5, gradNorm: Infinity }), /^step 7: non-finite gradient/);
    assert.equal(reachedNonfiniteLimit(c, run), false);
    run.nonfinite_steps = 2;
    assert.equal(reachedNonfiniteLimit(c, run), true);
  });

  it('says why a validation cannot pick a best epoch', () => {
    const c = { ...defaultConfig(), val_split: 0 };
    assert.match(unpairedValidationWarning(c, 0), /0 validation images \(val_split 0\)/);
    assert.match(unpairedValidationWarning(c, 5), /no two of the 5 validation images share a label/);
  });
});

describe('run status', () => {
  it('planned steps follow stop_after_epochs when it cuts the schedule', () => {
    const c = { ...defaultConfig(), max_epochs: 10, batches_per_epoch: 8, gradient_accumulation_steps: 2 };
    assert.equal(plannedSteps(c), 40);
    assert.equal(plannedSteps({ ...c, stop_after_epochs: 3 }), 12);
    assert.equal(plannedSteps({ ...c, stop_after_epochs: 30 }), 40);
    // resumed at epoch index 4, past stop_after_epochs 3: the epoch in progress still ends the run
    assert.equal(plannedSteps({ ...c, stop_after_epochs: 3 }, 4), 20);
    assert.equal(plannedSteps({ ...c, stop_after_epochs: 3 }, 9), 40);
  });

  it('the run ETA is from the steps after this process\'s first one, and absent before a second step or at the end', () => {
    assert.equal(runStatus(5, 40, 0, 0), 'run 5/40 steps');
    assert.equal(runStatus(15, 40, 10, 20), 'run 15/40 steps, steps ETA 50s');
    assert.equal(runStatus(40, 40, 35, 70), 'run 40/40 steps');
  });
});
