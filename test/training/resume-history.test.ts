/**
 * training_history.json follows the run a resume continues: a resume from an older epoch_N.ckpt
 * (or a stop before the next epoch's end) does not leave the abandoned continuation's epochs in the
 * file; and an epoch whose validation was interrupted, resumed, gets the record an uninterrupted run
 * writes (its lr is its last step's, not the next step's).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, useBackend } from '../helpers.js';
import { parseConfig, type TrainingConfig } from '../../training/config.js';
import type { DataSource } from '../../training/batch.js';
import { loadCheckpoint, type EpochRecord } from '../../training/checkpoint.js';
import { synthSource } from './synth-source.js';
import { trainRun } from './run-trainer.js';

function cfg(over: Record<string, unknown> = {}): TrainingConfig {
  return parseConfig({ base_model: 'preset:tiny', lora_r: 4, lora_alpha: 8, freeze_layers: 2, logos_per_batch: 2, samples_per_logo: 2,
    gradient_accumulation_steps: 2, batches_per_epoch: 4, val_batches: 2, batch_size: 8, warmup_steps: 1, learning_rate: 1e-2,
    max_epochs: 2, seed: 5, mixed_precision: false, checkpoint_dir: tmpDir('logolab-resume-history-'), ...over }, 'test config');
}
const small = () => synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 2, K: 2, seed: 1, valBatches: 2 });
const history = (dir: string) => JSON.parse(readFileSync(join(dir, 'training_history.json'), 'utf8')) as EpochRecord[];

describe('training history across resumes', () => {
  before(() => useBackend('wasm'));

  it('an epoch whose validation was interrupted, resumed, has the uninterrupted record (lr of its last step), and no throughput figure instead of a false 0', async () => {
    const a = cfg();
    await trainRun(a, small());
    const b = cfg();
    let n = 0;
    const src = small();
    const interrupting: DataSource = { ...src, async valBatch(i) { if (n++ === 0) process.emit('SIGINT'); return src.valBatch(i); } };
    assert.equal((await trainRun(b, interrupting, { handleSignals: true })).status, 'interrupted');
    // the interrupted save writes the history of the checkpoint it saved (no epoch closed yet)
    assert.deepEqual(history(b.checkpoint_dir), loadCheckpoint(join(b.checkpoint_dir, 'last.ckpt')).state.history);
    await trainRun(b, small(), { resume: join(b.checkpoint_dir, 'last.ckpt') });
    const [ha, hb] = [history(a.checkpoint_dir), history(b.checkpoint_dir)];
    assert.equal(hb.length, ha.length);
    for (let e = 0; e < ha.length; e++) for (const k of ['train_loss', 'lr', 'val', 'nonfinite_steps'] as const) assert.deepEqual(hb[e]![k], ha[e]![k], `epoch ${e + 1} ${k}`);
    // the resumed process ran none of epoch 1's steps: no throughput figure rather than a false 0;
    // epoch 2 was trained whole in it
    assert.equal(hb[0]!.images_per_s, null);
    assert.equal(hb[0]!.data_wait_fraction, null);
    assert.ok(hb[1]!.images_per_s! > 0 && hb[1]!.data_wait_fraction !== null);
    assert.match(readFileSync(join(b.checkpoint_dir, 'train.log'), 'utf8'), /epoch 1\/2: train_loss [\d.]+, n\/a img\/s, data wait n\/a, /);
  });

  it('a resume from an older epoch checkpoint in the same folder: the history file is the resumed run\'s, not the abandoned one\'s', async () => {
    const c = cfg({ max_epochs: 3, save_every_n_epochs: 1 });
    await trainRun(c, small());
    assert.equal(history(c.checkpoint_dir).length, 3);
    // resumed from epoch 1 and stopped after one step: last.ckpt holds epoch 1 only
    assert.equal((await trainRun(c, small(), { resume: join(c.checkpoint_dir, 'epoch_1.ckpt'), stopAfterSteps: 1 })).status, 'interrupted');
    const last = loadCheckpoint(join(c.checkpoint_dir, 'last.ckpt')).state;
    assert.equal(last.history.length, 1);
    assert.deepEqual(history(c.checkpoint_dir), last.history);
  });
});
