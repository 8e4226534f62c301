/**
 * `bench gpu`: a run whose cells failed is a failed run (a table of error cells used to exit 0),
 * with one `logolab: error:` line naming the failed cells after the table; and the global
 * `--backend` is refused (each cell runs on the backend --backends names: it would be ignored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellName, outcome } from '../../scripts/bench-gpu.js';
import { expectFailure, runCli } from './run.js';

const cell = { model: 'tiny', iters: 1, warmup: 0 };

test('bench gpu: any failed cell makes the exit non-zero (4), naming the failed cells; none present is 3; all measured is 0', () => {
  const ok = { ...cell, backend: 'webgpu', mode: 'embed' as const, batch: 2, recompute: false, images_per_s: 10 };
  const bad1 = { ...cell, backend: 'webgpu', mode: 'embed' as const, batch: 12000, recompute: false, error: 'webgpu: the device rejected work …' };
  const bad2 = { ...cell, backend: 'webgpu', mode: 'train' as const, batch: 12000, recompute: false, error: 'out of memory' };
  assert.deepEqual(outcome(['webgpu'], [ok]), { code: 0, error: null });
  assert.deepEqual(outcome([], []), { code: 3, error: null });
  const r = outcome(['webgpu'], [ok, bad1, bad2]);
  assert.equal(r.code, 4);
  assert.equal(r.error, 'bench gpu: 2 of 3 cells failed: webgpu embed b12000, webgpu train b12000 recompute off (the table has each error)');
  assert.ok(!r.error!.includes('\n'));
  assert.equal(cellName({ backend: 'tensorflow-gpu', mode: 'train', batch: 32, recompute: true }), 'tensorflow-gpu train b32 recompute on');
});

test('bench gpu --backend X: refused like bench backends (the run would ignore it)', async () => {
  expectFailure(await runCli(['bench', 'gpu', '--backend', 'cpu', '--backends', 'tensorflow-gpu', '--model', 'tiny']), 2, /^logolab: usage error: --backend: `logolab bench gpu` runs every backend --backends lists; leave the flag out$/);
});
