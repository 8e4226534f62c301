/**
 * The addon's one argument parser (native/src/napi_args.h) and the one dimension-collapsing helper
 * (src/backend/native/cpu.ts): a bad call is one error naming the entry point and the argument, and
 * collapsed views walk the same elements. Skipped only when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadAddon, addonLoadError, ADDON_PATH } from '../../src/backend/native/addon.js';
import { collapseDims } from '../../src/backend/native/cpu.js';
import { UnaryOp } from '../../src/backend/native/op-codes.js';

const addon = loadAddon();
const skip = addon ? false : `native addon unavailable: ${addonLoadError()}`;

test('native binding: wrong argument types and counts are errors naming the entry point and argument', { skip }, () => {
  const a = addon!;
  const f = (n: number) => new Float32Array(n);
  assert.throws(() => a.softmax(new Int32Array(4) as unknown as Float32Array, f(4), 2, 2), { name: 'TypeError', message: 'logolab_native: softmax: x must be a Float32Array' });
  assert.throws(() => a.transpose(f(4), f(4), new Float32Array(2) as unknown as Int32Array, new Int32Array(2)), { name: 'TypeError', message: 'logolab_native: transpose: shape must be an Int32Array' });
  assert.throws(() => (a.rowsum as unknown as (...x: unknown[]) => void)(f(4), f(2), 2), { name: 'RangeError', message: 'logolab_native: rowsum: needs 5 arguments' });
  assert.throws(() => a.rowsum(f(4), f(2), 'two' as unknown as number, 2, 1), { name: 'TypeError', message: 'logolab_native: rowsum: rows must be an integer' });
  assert.throws(() => a.rowsum(f(3), f(2), 2, 2, 1), { name: 'RangeError', message: 'logolab_native: rowsum: array too small' });
  assert.throws(() => a.unary(99, f(4), f(4)), { name: 'RangeError', message: 'logolab_native: unary: unknown op' });
  // optional arguments: null bias and absent act/alpha are a plain product
  const out = f(4);
  a.matmul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 0, 0, 1]), out, 2, 2, 2, false, false, Int32Array.of(0), Int32Array.of(0), null);
  assert.deepEqual([...out], [1, 2, 3, 4]);
  const sq = f(3);
  a.unary(UnaryOp.Square, Float32Array.from([1, -2, 3]), sq);
  assert.deepEqual([...sq], [1, 4, 9]);
});

test('native binding: concurrent calls from worker threads leave OpenBLAS at the configured thread count', { skip }, () => {
  // a fresh process, as the count is process-wide: workers run the kernels that use single-threaded
  // sgemm sections (fusedConv2d's row chunks, batched small matmuls) at the same time, and check results
  const worker = `const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.path);
    const x = new Float32Array(20 * 20 * 4).fill(1), w = new Float32Array(3 * 3 * 4 * 8).fill(1), o = new Float32Array(18 * 18 * 8);
    const params = Int32Array.from([1, 20, 20, 4, 3, 3, 1, 1, 1, 1, 0, 0, 18, 18, 8]);
    const A = new Float32Array(8 * 256).fill(1), C = new Float32Array(8 * 256), idx = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    let bad = 0;
    for (let i = 0; i < workerData.iters; i++) {
      a.fusedConv2d(x, w, null, null, o, params, 0, 0);
      if (o.some((v) => v !== 36)) bad++;
      a.matmul(A, A, C, 16, 16, 16, false, false, idx, idx);
      if (C.some((v) => v !== 16)) bad++;
    }
    parentPort.postMessage(bad);`;
  const main = `const { Worker } = require('node:worker_threads');
    const a = require(${JSON.stringify(ADDON_PATH)});
    a.setThreads(2);
    const runs = [0, 1, 2].map(() => new Promise((res, rej) => {
      const w = new Worker(${JSON.stringify(worker)}, { eval: true, workerData: { path: ${JSON.stringify(ADDON_PATH)}, iters: 1500 } });
      w.on('message', res); w.on('error', rej);
    }));
    Promise.all(runs).then((bad) => console.log(JSON.stringify({ bad, info: a.info() })));`;
  const r = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const { bad, info } = JSON.parse(r.stdout) as { bad: number[]; info: { threads: number; blasThreadsNow: number } };
  assert.deepEqual(bad, [0, 0, 0], 'wrong results');
  assert.equal(info.threads, 2, 'configured count');
  assert.equal(info.blasThreadsNow, 2, 'OpenBLAS\'s own count after the calls');
});

test('collapseDims: size-1 dims dropped, dims contiguous in every stride set merged', () => {
  const show = (r: ReturnType<typeof collapseDims>) => ({ shape: [...r.shape], strides: r.strides.map((s) => [...s]) });
  // contiguous [2, 3, 4] → one run of 24
  assert.deepEqual(show(collapseDims([2, 3, 4], [[12, 4, 1]])), { shape: [24], strides: [[1]] });
  // a transpose [3, 2] of [2, 3]: nothing merges
  assert.deepEqual(show(collapseDims([3, 2], [[1, 3]])), { shape: [3, 2], strides: [[1, 3]] });
  // broadcast: a [2, 3, 4] against b [1, 1, 4] → a merges fully, b does not: [6, 4] with b strides [0, 1]
  assert.deepEqual(show(collapseDims([2, 3, 4], [[12, 4, 1], [0, 0, 1]])), { shape: [6, 4], strides: [[4, 1], [0, 1]] });
  // size-1 dims dropped; scalar view → rank 0
  assert.deepEqual(show(collapseDims([1, 5, 1], [[5, 1, 1]])), { shape: [5], strides: [[1]] });
  assert.deepEqual(show(collapseDims([1, 1], [[1, 1]])), { shape: [], strides: [[]] });
});
