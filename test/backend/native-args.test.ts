/**
 * The addon's argument checks against hostile calls (native/src/binding.cc, conv.cc, pool.cc,
 * napi_args.h, sizes.h): sizes whose products overflow, negative or cancelling strides, conv
 * geometry that is not a convolution, thread counts out of range and non-integral integers are
 * each one thrown Error, never a crash or an access outside the arrays. The calls go to the addon
 * directly, as the kernels in src/backend/native/ make them. Skipped only when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { loadAddon, addonLoadError, ADDON_PATH } from '../../src/backend/native/addon.js';

const addon = loadAddon();
const skip = addon ? false : `native addon unavailable: ${addonLoadError()}`;
if (skip) process.stderr.write(`[native-args.test] SKIPPED — ${skip}\n`);

const f = (n: number) => new Float32Array(n);
const i = (a: number[]) => Int32Array.from(a);
const threw = (fn: () => unknown, message?: RegExp) => assert.throws(fn, (e: unknown) => e instanceof Error && (!message || message.test(e.message)));
const BIG = 2 ** 31 - 1;

test('native args: size products that overflow are refused, not wrapped', { skip }, () => {
  const a = addon!;
  threw(() => a.softmax(f(4), f(4), 2 ** 32, 2 ** 32), /softmax: array too small/);
  threw(() => a.rowsum(f(4), f(4), 2 ** 32, 2 ** 32, 1), /rowsum: array too small/);
  threw(() => a.rowsum(f(4), f(4), 4, 2 ** 52, 1), /rowsum: array too small/);
  threw(() => a.layernorm(f(4), f(4), f(4), f(4), f(4), f(4), 2 ** 32, 2 ** 32, 1e-5), /layernorm: array too small/);
  threw(() => a.layernormGrad(f(4), f(4), f(4), f(4), f(4), f(4), f(4), f(4), 2 ** 32, 2 ** 32), /layernormGrad: array too small/);
  // B·Tq·H·dh = 2^93: every dim a BLAS int, the product not an int64
  threw(() => a.attention(f(1), f(1), f(1), f(1), f(1), i([BIG, BIG, BIG, 1, BIG]), 1), /attention: array too small/);
  threw(() => a.attentionGrad(f(1), f(1), f(1), f(1), f(1), f(1), f(1), f(1), i([BIG, BIG, BIG, 1, BIG]), 1), /attentionGrad: array too small/);
  threw(() => a.attention(f(1), f(1), f(1), f(1), f(1), i([65536, 65536, 65536, 65536, 65536]), 1), /attention: too large for BLAS/);
  // matmul: dims beyond BLAS's int; batch·M·N = 5·(2^31 − 1)^2 wraps 2^64
  threw(() => a.matmul(f(1), f(1), f(1), 2 ** 32, 2 ** 32, 2 ** 32, false, false, i([0]), i([0])), /matmul: dimension too large/);
  threw(() => a.matmul(f(1), f(1), f(1), BIG, BIG, BIG, false, false, i([0, 0, 0, 0, 0]), i([0, 0, 0, 0, 0])), /matmul: out too small/);
  // a batch index whose index + 1 overflowed int32 in the old check
  threw(() => a.matmul(f(4), f(4), f(1), 1, 1, 1, false, false, i([BIG]), i([0])), /matmul: batch index out of range/);
  // a negative batch index: −1 passed the bound ((−1 + 1)·size = 0) and read the matrix before the array
  const big = new Float32Array(8).fill(7).fill(1, 4);
  for (const [ai, bi] of [[-1, 0], [0, -1], [-2, 0], [0, -(2 ** 31)]] as [number, number][]) {
    const out = f(8);
    threw(() => a.matmul(big.subarray(4), big.subarray(4), out, 2, 2, 2, false, false, i([0, ai]), i([0, bi])), /matmul: batch index out of range/);
    // also when the matrices are empty (nothing is read, but the index is still not one)
    threw(() => a.matmul(f(0), f(0), f(0), 0, 2, 0, false, false, i([ai]), i([bi])), /matmul: batch index out of range/);
  }
  // conv / pool sizes N·H·W·C = 2^120
  const G = 2 ** 30;
  threw(() => a.conv2d(f(1), f(1), f(1), i([G, G, G, G, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1])), /conv2d: geometry sizes overflow/);
  threw(() => a.fusedConv2d(f(1), f(1), null, null, f(1), i([G, G, G, G, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1]), 0, 0), /fusedConv2d: geometry sizes overflow/);
  threw(() => a.pool2d(f(1), f(1), i([G, G, G, G, 1, 1, 1, 1, 0, 0, 1, 1]), 0), /pool2d: array too small/);
  // strided views: Π shape overflows
  threw(() => a.transpose(f(4), f(4), i([G, G, G, G]), i([0, 0, 0, 0])), /transpose: shape and strides overflow/);
});

test('native args: negative strides are refused (they could cancel in the bounds check)', { skip }, () => {
  const a = addon!;
  threw(() => a.scatter(f(4), f(4), i([2, 2]), i([-(2 ** 30), 2 ** 30])), /scatter: negative stride/);
  // a 1-element view inside a larger buffer: strides [-100, 100] reach 100 elements either side of it
  const big = f(1000).fill(7), view = big.subarray(500, 501), out = f(4);
  view[0] = 1;
  threw(() => a.binary(0, view, f(1), out, i([2, 2]), i([-100, 100]), i([0, 0])), /binary: negative stride/);
  threw(() => a.binary(0, f(1), view, out, i([2, 2]), i([0, 0]), i([-5, 5])), /binary: negative stride/);
  threw(() => a.transpose(view, out, i([2, 2]), i([-100, 100])), /transpose: negative stride/);
  assert.deepEqual([...out], [0, 0, 0, 0]);
  // strides that reach past the view (positive) are refused as before; negative dims too; rank > 64
  threw(() => a.transpose(view, out, i([2, 2]), i([0, 100])), /transpose: array too small/);
  threw(() => a.binary(0, f(4), f(4), out, i([-2, -2]), i([1, 1]), i([1, 1])), /binary: negative dimension/);
  threw(() => a.transpose(f(1), f(1), new Int32Array(65).fill(1), new Int32Array(65)), /transpose: rank above 64/);
  // still fine: broadcast (stride 0) and a plain transpose
  const t = f(4);
  a.transpose(Float32Array.of(1, 2, 3, 4), t, i([2, 2]), i([1, 2]));
  assert.deepEqual([...t], [1, 3, 2, 4]);
  const s = f(4);
  a.binary(0, Float32Array.of(1, 2), Float32Array.of(10, 20), s, i([2, 2]), i([0, 1]), i([1, 0]));
  assert.deepEqual([...s], [11, 12, 21, 22]);
});

test('native args: conv2d and its gradients check geometry as fusedConv2d does', { skip }, () => {
  const a = addon!;
  // [N,H,W,C, fh,fw, sh,sw, dh,dw, padTop,padLeft, outH,outW, outC]
  const calls = [
    (p: Int32Array, o = f(4)) => a.conv2d(Float32Array.of(1, 2, 3, 4), f(1).fill(1), o, p),
    (p: Int32Array, o = f(1)) => a.conv2dBackpropFilter(Float32Array.of(1, 2, 3, 4), f(4), o, p),
    (p: Int32Array, o = f(4)) => a.conv2dBackpropInput(f(4), f(1).fill(1), o, p),
    (p: Int32Array, o = f(4)) => a.fusedConv2d(Float32Array.of(1, 2, 3, 4), f(1).fill(1), null, null, o, p, 0, 0),
  ];
  for (const call of calls) {
    threw(() => call(i([1, 2, 2, 1, 1, 1, 0, 0, 1, 1, 0, 0, 2, 2, 1])), /strides and dilations must be ≥ 1/);
    threw(() => call(i([1, 2, 2, 1, 1, 1, 1, 1, 0, 1, 0, 0, 2, 2, 1])), /strides and dilations must be ≥ 1/);
    threw(() => call(i([1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, -1, -1, 1])), /negative geometry/);
    threw(() => call(i([1, 2, 2, -1, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 1])), /negative geometry/);
    // the last output row would need a bottom padding beyond int32
    threw(() => call(i([1, 2, 2, 1, 1, 1, BIG, 1, 1, 1, 0, 0, 3, 2, 1])), /output size inconsistent/);
    // a valid 1×1 conv still runs
    call(i([1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 1]));
  }
  const o = f(4);
  calls[0]!(i([1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 1]), o);
  assert.deepEqual([...o], [1, 2, 3, 4]);
  // the reviewer's oh = ow = -1 call left its output untouched and returned; now it throws
  const o5 = Float32Array.of(5);
  threw(() => a.conv2d(f(1), f(1), o5, i([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, -1, -1, 1])), /conv2d: negative geometry/);
  threw(() => a.pool2d(f(4), f(4), i([1, 2, 2, 1, 1, 1, 0, 1, 0, 0, 2, 2]), 0), /pool2d: bad geometry/);
});

test('native args: integers must be integral and safe; setThreads is clamped', { skip }, () => {
  const a = addon!;
  const before = a.info().threads;
  try {
    const o = f(4);
    threw(() => a.softmax(Float32Array.of(1, 2, 3, 4), o, 1.9, 2.9), /softmax: rows must be an integer/);
    assert.deepEqual([...o], [0, 0, 0, 0]);
    threw(() => a.rowsum(f(4), f(4), 2, NaN, 1), /rowsum: cols must be an integer/);
    threw(() => a.rowsum(f(4), f(4), 2, Infinity, 1), /rowsum: cols must be an integer/);
    threw(() => a.rowsum(f(4), f(4), 2 ** 53 + 2, 0, 1), /rowsum: rows must be an integer/);
    threw(() => a.unary(0.5, f(4), f(4)), /unary: op must be an integer/);
    threw(() => a.setThreads(1.5), /setThreads: n must be an integer/);
    threw(() => a.setThreads(2 ** 60), /setThreads: n must be an integer/);
    threw(() => a.mallocTune(2 ** 40, 0), /mallocTune: settings must fit a C int/);
    // clamped to [1, 4 × cores] (and OpenBLAS's own maximum)
    const cap = 4 * Math.max(1, cpus().length, availableParallelism());
    for (const n of [1000, 2 ** 31, 2 ** 53 - 1]) {
      a.setThreads(n);
      const t = a.info().threads;
      assert.ok(t >= 1 && t <= cap, `threads ${t} after setThreads(${n})`);
    }
    a.setThreads(0);
    assert.equal(a.info().threads, 1);
    a.setThreads(-5);
    assert.equal(a.info().threads, 1);
  } finally {
    a.setThreads(before);
  }
});

test('native args: the reviewer\'s crashing calls throw in a fresh process, which exits normally', { skip }, () => {
  const script = `
    const A = require(${JSON.stringify(ADDON_PATH)});
    const f = (n) => new Float32Array(n), i = (a) => Int32Array.from(a);
    const calls = [
      () => A.softmax(f(4), f(4), 2**32, 2**32),
      () => A.scatter(f(4), f(4), i([2,2]), i([-(2**30), 2**30])),
      () => A.binary(0, f(1), f(1), f(4), i([2,2]), i([-5,5]), i([0,0])),
      () => A.transpose(new Float32Array(1000).subarray(500, 501), f(4), i([2,2]), i([-100,100])),
      () => A.conv2d(f(1), f(1), f(1), i([1,1,1,1, 1,1, 1,1, 1,1, 0,0, -1,-1, 1])),
      () => A.conv2d(Float32Array.of(1,2,3,4), f(1).fill(1), f(4), i([1,2,2,1, 1,1, 0,0, 1,1, 0,0, 2,2, 1])),
      () => A.matmul(f(1), f(1), f(1), 2**32, 2**32, 2**32, false, false, i([0]), i([0])),
      () => A.attention(f(1),f(1),f(1),f(1),f(1), i([65536,65536,65536,65536,65536]), 1),
      () => A.softmax(Float32Array.of(1,2,3,4), f(4), 1.9, 2.9),
    ];
    let n = 0;
    for (const c of calls) { try { c(); } catch (e) { if (e instanceof Error) n++; } }
    A.setThreads(2**31);
    process.stdout.write(n + '/' + calls.length + ' ' + A.info().threads);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const [count, threads] = r.stdout.trim().split(' ');
  assert.equal(count, '9/9');
  assert.ok(Number(threads) >= 1 && Number(threads) < 2 ** 31);
});
