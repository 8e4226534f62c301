import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { makeDataDir } from '../training/prepared-data.js';
import { runCli } from './run.js';

test('bench loader: images/s of the training input pipeline as JSON (stdout and --json), with workers; bad options are errors', async () => {
  const data = await makeDataDir(4, 3);
  const out = join(tmpDir(), 'loader.json');
  try {
    const r = await runCli(['bench', 'loader', '--data', data, '--workers', '1', '--image-size', '32', '--augmentation', 'light', '--seconds', '0.3', '--p', '2', '--k', '2', '--json', out]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), j);
    assert.equal(j.workers, 1);
    assert.equal(j.image_size, 32);
    assert.equal(j.augmentation, 'light');
    assert.equal(j.batch, 4);
    assert.ok(j.images_per_s > 0 && j.images === j.batches * 4 && j.seconds >= 0.3);
    assert.ok(Array.isArray(j.loadavg) && j.cores >= 1);
    const bad = await runCli(['bench', 'loader', '--data', data, '--workers', '-1', '--seconds', '0.1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /logolab: usage error: --workers: '-1' is out of range: must be an integer ≥ 0/);
    const none = await runCli(['bench', 'loader', '--data', join(data, 'nope'), '--seconds', '0.1']);
    assert.match(none.stderr, /logolab: error: --data .*nope: not found \(a folder made by `logolab prepare`\)/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
