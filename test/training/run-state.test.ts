import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../training/config.js';
import type { EpochRecord, TrainState } from '../../training/checkpoint.js';
import { bestMetricValue, bestScoreOf, closeEpoch, freshRunState, recordValidation, runStateFrom } from '../../training/run-state.js';

// a checkpoint written before best_score existed: separation was the only criterion
function oldState(): TrainState {
  return {
    format: 'logolab-train-checkpoint', version: 1, epoch: 3, batch_in_epoch: 2, global_step: 14,
    scheduler: { kind: 'cosine_with_warmup', base_lr: 1e-3, warmup_steps: 0, total_steps: 40, min_lr_ratio: 0 },
    rng: {}, adam_t: 14, best_separation: 0.25, best_epoch: 2, patience_counter: 1, nonfinite_steps: 0,
    epoch_loss_sum: 7.5, epoch_loss_count: 2, history: [], config: defaultConfig(),
    model: { base_model: 'preset:tiny', family: 'clip', vision_config: {}, lora: null, trainable: [], head: 'none' }, reason: 'epoch', saved_at: '',
  };
}

const rec = (epoch: number): EpochRecord => ({ epoch, train_loss: 1, lr: 1e-3, images_per_s: 1, seconds: 1, nonfinite_steps: 0 });

describe('run state', () => {
  it('a checkpoint without best_score resumes with separation as the best score only when that is the metric', () => {
    const s = oldState();
    assert.equal(runStateFrom(s, 'separation').best_score, 0.25);
    assert.equal(runStateFrom(s, 'map_at_r').best_score, null);
    const r = runStateFrom({ ...s, best_score: 0.6, config: { ...s.config, best_metric: 'map_at_r' } }, 'map_at_r');
    assert.deepEqual([r.epoch, r.batch_in_epoch, r.global_step, r.best_score, r.best_epoch, r.patience_counter, r.epoch_loss_sum], [3, 2, 14, 0.6, 2, 1, 7.5]);
  });

  it('a resume with another best_metric or min_delta re-derives the best epoch and patience from the history', () => {
    const val = (separation: number, map_at_r: number, loss: number) => ({ separation, precision_at_1: 0.5, map_at_r, loss, num_items: 8 });
    // separation best at epoch 1; val_loss falls to epoch 3; map_at_r best at epoch 2 (epoch 4 not validated)
    const history = [{ ...rec(1), val: val(0.4, 0.2, 1.0) }, { ...rec(2), val: val(0.3, 0.5, 0.8) }, { ...rec(3), val: val(0.35, 0.45, 0.6) }, rec(4)];
    const s: TrainState = { ...oldState(), epoch: 4, batch_in_epoch: 0, history, best_score: 0.4, best_separation: 0.4, best_epoch: 1, patience_counter: 2, config: { ...defaultConfig(), best_metric: 'separation', min_delta: 0.001 } };
    const same = runStateFrom(s, 'separation', 0.001);
    assert.deepEqual([same.best_score, same.best_epoch, same.patience_counter], [0.4, 1, 2], 'unchanged metric: as stored');
    const loss = runStateFrom(s, 'val_loss', 0.001);
    assert.deepEqual([bestMetricValue('val_loss', loss), loss.best_epoch, loss.best_separation, loss.patience_counter], [0.6, 3, 0.35, 0]);
    const map = runStateFrom(s, 'map_at_r', 0.001);
    assert.deepEqual([map.best_score, map.best_epoch, map.patience_counter], [0.5, 2, 1]);
    // a larger min_delta: neither later loss is more than 0.45 below epoch 1's 1.0
    const strict = runStateFrom({ ...s, config: { ...s.config, best_metric: 'val_loss' } }, 'val_loss', 0.45);
    assert.deepEqual([strict.best_epoch, strict.patience_counter], [1, 2]);
    assert.equal(loss.epoch, 4, 'the position is the checkpoint\'s');
  });

  it('history is copied, not shared with the checkpoint', () => {
    const s = { ...oldState(), history: [rec(1)] };
    const r = runStateFrom(s, 'separation');
    closeEpoch(r, rec(2));
    assert.equal(s.history.length, 1);
    assert.equal(r.history.length, 2);
  });

  it('a new best needs more than min_delta; otherwise patience grows', () => {
    const r = freshRunState();
    assert.equal(recordValidation(r, 0.5, 0.2, 0.01), true); // first validation is always the best
    assert.deepEqual([r.best_score, r.best_separation, r.best_epoch, r.patience_counter], [0.5, 0.2, 1, 0]);
    r.epoch = 1;
    assert.equal(recordValidation(r, 0.505, 0.3, 0.01), false);
    assert.deepEqual([r.best_score, r.best_epoch, r.patience_counter], [0.5, 1, 1]);
    r.epoch = 2;
    assert.equal(recordValidation(r, 0.52, 0.1, 0.01), true);
    assert.deepEqual([r.best_score, r.best_separation, r.best_epoch, r.patience_counter], [0.52, 0.1, 3, 0]);
  });

  it('a non-finite score or separation is never accepted as the best (NaN would beat a null best)', () => {
    const r = freshRunState();
    assert.throws(() => recordValidation(r, NaN, 0.2, 0), /epoch 1: non-finite validation result \(best_metric score NaN/);
    assert.throws(() => recordValidation(r, 0.5, Infinity, 0), /separation Infinity/);
    assert.deepEqual([r.best_score, r.best_epoch, r.patience_counter], [null, null, 0]);
    recordValidation(r, 0.5, 0.2, 0);
    r.epoch = 1;
    assert.throws(() => recordValidation(r, -Infinity, 0.2, 0), /epoch 2:/);
    assert.deepEqual([r.best_score, r.best_epoch, r.patience_counter], [0.5, 1, 0]);
  });

  it('closing an epoch moves to the next one and clears its running loss', () => {
    const r = { ...freshRunState(), epoch: 4, batch_in_epoch: 8, epoch_loss_sum: 3, epoch_loss_count: 8 };
    closeEpoch(r, rec(5));
    assert.deepEqual([r.epoch, r.batch_in_epoch, r.epoch_loss_sum, r.epoch_loss_count, r.history.length], [5, 0, 0, 0, 1]);
  });

  it('val_loss is negated so that higher is better, must be finite, and is reported un-negated', () => {
    const v = { separation: 0.3, precision_at_1: 0.7, map_at_r: 0.4 };
    assert.equal(bestScoreOf('val_loss', { ...v, loss: 2 }), -2);
    assert.equal(bestScoreOf('precision_at_1', v), 0.7);
    assert.throws(() => bestScoreOf('val_loss', { ...v, loss: NaN }), /no finite loss/);
    // reported back as the metric reads
    const r = freshRunState();
    assert.equal(bestMetricValue('val_loss', r), null);
    recordValidation(r, bestScoreOf('val_loss', { ...v, loss: 2 }), 0.3, 0);
    assert.equal(bestMetricValue('val_loss', r), 2);
    assert.equal(bestMetricValue('map_at_r', { ...r, best_score: 0.4 }), 0.4);
  });
});
