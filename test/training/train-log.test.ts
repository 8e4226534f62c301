import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { TrainLog, epochSummary } from '../../training/train-log.js';

describe('train.log', () => {
  it('a full disk is one error naming train.log (the failing append itself carries no path)', { skip: !existsSync('/dev/full') && 'no /dev/full' }, () => {
    const dir = tmpDir();
    symlinkSync('/dev/full', join(dir, 'train.log')); // every write: ENOSPC
    assert.throws(
      () => new TrainLog(dir).line('step 1'),
      (e: unknown) => e instanceof LogolabError && e.message === `${join(dir, 'train.log')}: no space left on device (ENOSPC)`,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('an epoch line without a throughput figure (resumed after its last step) says n/a, not 0 or NaN', () => {
    const rec = { epoch: 2, train_loss: 0.5, lr: 1e-3, images_per_s: null, seconds: 0.01, data_wait_fraction: null, nonfinite_steps: 0 };
    assert.equal(epochSummary(rec, 3, false), 'epoch 2/3: train_loss 0.5000, n/a img/s, data wait n/a, 0s');
    assert.equal(epochSummary({ ...rec, images_per_s: 12.34, data_wait_fraction: 0.25 }, 3, false), 'epoch 2/3: train_loss 0.5000, 12.3 img/s, data wait 25.0%, 0s');
  });
});
