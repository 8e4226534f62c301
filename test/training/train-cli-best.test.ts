/**
 * `logolab train` never exports a model that is not this run's best: a diverged run (NaN
 * validation) is one error line and no export; a resume whose best epoch has no checkpoint of
 * this run (best.ckpt written by another run) is one error line, no export, last.ckpt kept.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { makeDataDir } from './prepared-data.js';

process.env.LOGOLAB_QUIET = '1';

let DATA = '';
let WORK = '';

/** A tiny LoRA config writing to WORK/<name>/{ck,out}. */
function config(name: string): string {
  const p = join(WORK, `${name}.yaml`);
  writeFileSync(
    p,
    [
      'base_model: "preset:tiny"', `db_path: "${DATA}"`, 'split_level: image', 'train_split: 0.5', 'val_split: 0.5', 'test_split: 0', 'logos_per_batch: 2', 'samples_per_logo: 2',
      'gradient_accumulation_steps: 1', 'batches_per_epoch: 2', 'val_batches: 1', 'batch_size: 8', 'lora_r: 4', 'lora_alpha: 8', 'freeze_layers: 2', 'use_gradient_checkpointing: false',
      'learning_rate: 5.0e-3', 'warmup_steps: 0', 'num_workers: 0', 'augmentation_strength: light', 'mixed_precision: false',
      `checkpoint_dir: "${join(WORK, name, 'ck')}"`, `output_dir: "${join(WORK, name, 'out')}"`,
    ].join('\n') + '\n',
  );
  return p;
}

describe('`logolab train`: only this run’s best is exported', () => {
  before(async () => {
    DATA = await makeDataDir(4, 4);
    WORK = tmpDir();
  });
  after(() => {
    for (const d of [DATA, WORK]) rmSync(d, { recursive: true, force: true });
  });

  it('NaN validation metrics: one error line naming the epoch and metric, no best, no export', async () => {
    const r = await runCli(['train', '--backend', 'cpu', '--config', config('nan'), '--learning-rate', '1e30', '--max-nonfinite-steps', '100', '--max-epochs', '2']);
    expectFailure(r, 1, /^logolab: error: epoch 1: non-finite validation metrics? .*separation NaN/);
    assert.ok(!existsSync(join(WORK, 'nan', 'out')) && !existsSync(join(WORK, 'nan', 'ck', 'best.ckpt')));
  });

  it('resume whose best epoch survives in no checkpoint of this run: one error line, nothing exported', async () => {
    // another run's checkpoint, to stand in the folder as best.ckpt
    assert.equal((await runCli(['train', '--backend', 'cpu', '--config', config('other'), '--max-epochs', '1', '--seed', '3', '--skip-export'])).code, 0);
    // best at epoch 1 (min_delta: never improved), only epoch_2.ckpt kept
    const cfg = config('run');
    const ck = join(WORK, 'run', 'ck');
    assert.equal((await runCli(['train', '--backend', 'cpu', '--config', cfg, '--max-epochs', '2', '--min-delta', '100', '--save-every-n-epochs', '2', '--skip-export'])).code, 0);
    copyFileSync(join(WORK, 'other', 'ck', 'best.ckpt'), join(ck, 'best.ckpt'));
    const r = await runCli(['train', '--backend', 'cpu', '--resume', join(ck, 'epoch_2.ckpt'), '--max-epochs', '3', '--min-delta', '100']);
    expectFailure(r, 1, /^logolab: error: this run's best epoch 1 has no checkpoint: .*best\.ckpt is not this run's epoch 1 .*; nothing exported \(export a checkpoint of this run explicitly: logolab export --checkpoint .*last\.ckpt/);
    assert.ok(!existsSync(join(WORK, 'run', 'out')));
    assert.equal(loadCheckpoint(join(ck, 'last.ckpt')).state.epoch, 3);
    assert.equal(JSON.parse(r.stdout).best_checkpoint, null);
  });

  it('a resume into another run\'s checkpoint_dir is refused; into a folder of its own run it goes on', async () => {
    const other = join(WORK, 'other', 'ck');
    const before = loadCheckpoint(join(other, 'last.ckpt')).state.global_step;
    const from = join(WORK, 'run', 'ck', 'epoch_2.ckpt');
    const r = await runCli(['train', '--backend', 'cpu', '--resume', from, '--checkpoint-dir', other, '--max-epochs', '3', '--skip-export']);
    expectFailure(r, 1, /^logolab: error: checkpoint_dir .*other\/ck: holds another run's last\.ckpt and best\.ckpt; resuming .*epoch_2\.ckpt there would replace them/);
    assert.equal(loadCheckpoint(join(other, 'last.ckpt')).state.global_step, before);
    // a copy of this run's folder is this run's
    const copy = join(WORK, 'run-copy');
    const ok = await runCli(['train', '--backend', 'cpu', '--resume', from, '--checkpoint-dir', copy, '--max-epochs', '3', '--skip-export']);
    assert.equal(ok.code, 0, ok.stderr);
    const again = await runCli(['train', '--backend', 'cpu', '--resume', from, '--checkpoint-dir', copy, '--max-epochs', '3', '--skip-export']);
    assert.equal(again.code, 0, again.stderr);
  });
});
