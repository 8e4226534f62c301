import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { TrainLog } from '../../training/train-log.js';

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
});
