import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT, tmpDir } from '../helpers.js';
import { loadCheckpoint, saveCheckpoint } from '../../training/checkpoint.js';
import { makeDataDir } from './prepared-data.js';

function run(args: string[], onStderr?: (s: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/logolab.mjs'), ...args], { cwd: ROOT, env: { ...process.env, LOGOLAB_QUIET: '0' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, (sig) => p.kill(sig));
    });
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

describe('`logolab train` / `logolab export` on a prepared data dir', () => {
  it('SIGTERM saves and exits 143; --resume finishes and exports', async () => {
    const data = await makeDataDir(6, 6);
    const work = tmpDir();
    const cfgPath = join(work, 'tiny.yaml');
    writeFileSync(
      cfgPath,
      [
        'base_model: "preset:tiny"', `db_path: "${data}"`, 'split_level: image', 'train_split: 0.5', 'val_split: 0.35', 'test_split: 0.15', 'logos_per_batch: 3', 'samples_per_logo: 2', 'gradient_accumulation_steps: 1',
        'batches_per_epoch: 6', 'val_batches: 2', 'batch_size: 8', 'lora_r: 4', 'lora_alpha: 8', 'freeze_layers: 2', 'use_gradient_checkpointing: true',
        'learning_rate: 5.0e-3', 'warmup_steps: 1', 'max_epochs: 2', 'augmentation_strength: light', `checkpoint_dir: "${join(work, 'ck')}"`, `output_dir: "${join(work, 'out')}"`,
        'log_every_n_steps: 1', 'mixed_precision: true',
      ].join('\n') + '\n',
    );
    let sent = false;
    const r1 = await run(['train', '--backend', 'wasm', '--config', cfgPath], (err, kill) => {
      if (!sent && /step 3 epoch 1/.test(readLog(work))) {
        sent = true;
        kill('SIGTERM');
      }
    });
    assert.equal(r1.code, 143, r1.stderr);
    assert.match(r1.stderr, /mixed_precision: true accepted, but tfjs computes in float32/);
    assert.match(r1.stderr, /SIGTERM: checkpoint saved to .*last\.ckpt/);
    const ck = loadCheckpoint(join(work, 'ck', 'last.ckpt'));
    assert.equal(ck.state.reason, 'interrupt');
    assert.ok(ck.state.global_step >= 3 && ck.state.global_step < 12);
    // as a checkpoint of an older version: it recorded the default dataset_dir / reference_dir made
    // absolute against its working directory; resuming it neither checks nor reports them
    saveCheckpoint(join(work, 'ck', 'last.ckpt'), { ...ck, state: { ...ck.state, config: { ...ck.state.config, dataset_dir: '/old-cwd/LogoDet-3K', reference_dir: '/old-cwd/reference_logos' } } });
    const r2 = await run(['train', '--backend', 'wasm', '--resume', join(work, 'ck', 'last.ckpt')]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.doesNotMatch(r2.stderr, /config differs|reference_dir|dataset_dir/);
    const res = JSON.parse(r2.stdout);
    assert.equal(res.status, 'completed');
    assert.equal(res.steps, 12);
    assert.ok(existsSync(join(work, 'out', 'export_metadata.json')) && existsSync(join(work, 'out', 'adapter', 'adapter_model.safetensors')));
    const hist = JSON.parse(readFileSync(join(work, 'ck', 'training_history.json'), 'utf8'));
    assert.equal(hist.length, 2);
    assert.ok(typeof hist[1].val.separation === 'number' && typeof hist[1].val.map_at_r === 'number');
    assert.ok(hist.every((h: { data_wait_fraction: number }) => h.data_wait_fraction >= 0 && h.data_wait_fraction <= 1), 'data_wait_fraction per epoch');
    // each epoch names the backend its images_per_s was measured on; train.log too
    assert.deepEqual(hist.map((h: { backend?: string }) => h.backend), ['wasm', 'wasm']);
    assert.match(readFileSync(join(work, 'ck', 'train.log'), 'utf8'), /start epoch=0 batch_in_epoch=0 step=0 backend="wasm" config=/);
    // a fresh run into that checkpoint_dir does not replace the finished run's checkpoints unasked
    const best = readFileSync(join(work, 'ck', 'best.ckpt'));
    const r3 = await run(['train', '--backend', 'wasm', '--config', cfgPath, '--max-epochs', '1', '--skip-export']);
    assert.equal(r3.code, 1, r3.stderr);
    assert.match(r3.stderr, /^logolab: error: checkpoint_dir .*ck: holds an earlier run's last\.ckpt, best\.ckpt, training_history\.json and train\.log; resume it \(--resume .*last\.ckpt\), choose another checkpoint_dir, or add --overwrite to start over in it$/m);
    assert.ok(readFileSync(join(work, 'ck', 'best.ckpt')).equals(best));
    const r4 = await run(['train', '--backend', 'wasm', '--config', cfgPath, '--max-epochs', '1', '--skip-export', '--overwrite']);
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(loadCheckpoint(join(work, 'ck', 'last.ckpt')).state.global_step, 6);
  });
});

function readLog(work: string): string {
  try {
    return readFileSync(join(work, 'ck', 'train.log'), 'utf8');
  } catch {
    return '';
  }
}
