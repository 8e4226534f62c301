import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, useBackend } from '../helpers.js';
import type { TrainResult } from '../../training/trainer.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';
import { trainRun } from './run-trainer.js';

process.env.LOGOLAB_QUIET = '1';

const data = () => synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 1 });
const base = { lora_r: 4, lora_alpha: 8, freeze_layers: 1, batches_per_epoch: 4, learning_rate: 5e-3, save_every_n_epochs: 1 };

async function train(over: Record<string, unknown>, resume?: string): Promise<TrainResult> {
  return trainRun(cfg({ ...base, ...over }), data(), resume ? { resume } : {});
}

const sameParams = (a: string, b: string) => {
  const A = loadCheckpoint(a).params;
  const B = loadCheckpoint(b).params;
  return [...A].every(([k, v]) => Buffer.from(v.data.buffer).equals(Buffer.from(B.get(k)!.data.buffer)));
};

describe('resume from an older checkpoint: the exported best is this run’s (wasm)', () => {
  before(() => useBackend('wasm'));

  it('best.ckpt of the abandoned continuation is replaced by this run’s best (the resumed state, or epoch_<best>.ckpt); with neither, no best checkpoint', async () => {
    const dir = tmpDir();
    const a = await train({ checkpoint_dir: dir, max_epochs: 3, min_delta: 0 });
    assert.ok(a.best_epoch! >= 2, `precondition: the first run improves after epoch 1 (best epoch ${a.best_epoch})`);
    // resumed from epoch 1 (its own best), diverging (another learning rate) and never improving (min_delta)
    const b = await train({ checkpoint_dir: dir, max_epochs: 3, min_delta: 100, learning_rate: 2e-2 }, join(dir, 'epoch_1.ckpt'));
    assert.equal(b.best_epoch, 1);
    assert.equal(b.best_missing, null);
    assert.equal(b.best_checkpoint, join(dir, 'best.ckpt'));
    assert.equal(loadCheckpoint(b.best_checkpoint).state.epoch, 1);
    assert.ok(sameParams(b.best_checkpoint, join(dir, 'epoch_1.ckpt')), 'best.ckpt holds epoch 1’s weights, not the first run’s best');

    // best at epoch 1, resumed from epoch 2: epoch_1.ckpt holds the best epoch's end
    const dir2 = tmpDir();
    await train({ checkpoint_dir: dir2, max_epochs: 2, min_delta: 100 });
    const foreign = join(dir, 'epoch_3.ckpt'); // the first run's: another history
    copyFileSync(foreign, join(dir2, 'best.ckpt'));
    const c = await train({ checkpoint_dir: dir2, max_epochs: 3, min_delta: 100 }, join(dir2, 'epoch_2.ckpt'));
    assert.equal(c.best_epoch, 1);
    assert.equal(c.best_checkpoint, join(dir2, 'best.ckpt'));
    assert.ok(sameParams(c.best_checkpoint, join(dir2, 'epoch_1.ckpt')));
    // and with no checkpoint of epoch 1 left: no best checkpoint, and why
    copyFileSync(foreign, join(dir2, 'best.ckpt'));
    rmSync(join(dir2, 'epoch_1.ckpt'));
    const d = await train({ checkpoint_dir: dir2, max_epochs: 3, min_delta: 100 }, join(dir2, 'epoch_2.ckpt'));
    assert.equal(d.best_epoch, 1);
    assert.equal(d.best_checkpoint, null);
    assert.match(d.best_missing ?? '', /best epoch 1 has no checkpoint: .*best\.ckpt is not this run's epoch 1 \(it holds epoch 3, step 6, of another run\), and neither the resumed .*epoch_2\.ckpt \(epoch 2\) nor .*epoch_1\.ckpt holds that epoch's end$/);
    for (const x of [dir, dir2]) rmSync(x, { recursive: true, force: true });
  });
});
