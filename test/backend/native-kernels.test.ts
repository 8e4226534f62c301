/**
 * Every kernel that src/backend/native.ts replaces on the cpu backend equals the stock tfjs-backend-cpu
 * kernel: max |native − stock| / max |stock| ≤ 1e-5, over transposes, batch dims, broadcasting, odd
 * sizes, empty dims and unaligned TypedArray views. Where the stock kernel is itself wrong (its
 * BatchMatMul broadcasts batch dims by a flat modulo) the reference is the stock kernel on tiled inputs.
 * Skipped only when the addon is not built (the reason is printed).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend, expectNoLeak } from '../helpers.js';
import {
  nativeKernelsStatus, nativeKernel, stockKernel, installNativeKernels, uninstallNativeKernels, ADDON_PATH, NATIVE_KERNEL_NAMES, fusedLayerNorm, fusedQuickGelu, fusedAttention,
} from '../../src/backend/native.js';
import { layerNorm } from '../../src/models/layers.js';
import { activation, multiHeadAttention } from '../../src/models/vision/blocks.js';

const status = nativeKernelsStatus();
const skip = status.built ? false : `native addon unavailable: ${status.why}`;
if (skip) process.stderr.write(`[native-kernels.test] SKIPPED — ${skip} (${ADDON_PATH})\n`);

const TOL = 1e-5;

type Backend = Parameters<tf.KernelFunc>[0]['backend'];
let backend: Backend;

function values(t: tf.TensorInfo): Float32Array {
  return (backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
}
function dispose(t: tf.TensorInfo): void {
  (backend as unknown as { disposeIntermediateTensorInfo(t: tf.TensorInfo): void }).disposeIntermediateTensorInfo(t);
}

/** Deterministic pseudo-random values in [-1, 1) (LCG), so failures reproduce. */
function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
let seed = 1;
/** A tensor on the cpu backend whose data is an UNALIGNED-offset view (byteOffset 4·k) into a larger buffer. */
function t(shape: number[], opts: { positive?: boolean } = {}): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const k = (seed % 3) + 1;
  const big = rand(n + k + 2, seed++);
  if (opts.positive) for (let i = 0; i < big.length; i++) big[i] = Math.abs(big[i]!) + 0.5;
  return tf.tensor(big.subarray(k, k + n), shape, 'float32');
}

function relErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length, 'length');
  let m = 0, d = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue; // equal, incl. ±Infinity
    if (Number.isFinite(want[i]!)) m = Math.max(m, Math.abs(want[i]!));
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= d)) d = Number.isNaN(e) && Number.isNaN(got[i]!) && Number.isNaN(want[i]!) ? d : Number.isNaN(e) ? Infinity : e;
  }
  return m === 0 ? d : d / m;
}

const worst = new Map<string, number>();
/** Runs native and stock kernel `name` on the same inputs; asserts shapes equal and rel. error ≤ TOL. */
function compare(name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap = {}, ref?: () => tf.TensorInfo): number {
  const got = nativeKernel(name)({ inputs, backend, attrs }) as tf.TensorInfo;
  const want = ref ? ref() : (stockKernel(name)({ inputs, backend, attrs }) as tf.TensorInfo);
  try {
    assert.deepEqual(got.shape, want.shape, `${name} shape`);
    assert.equal(got.dtype, want.dtype, `${name} dtype`);
    // empty outputs: shape only (the stock BatchMatMul returns a wrongly sized buffer for [2,0,5,6]×[6,4])
    if (got.shape.includes(0)) {
      assert.equal(values(got).length, 0, `${name} empty output has data`);
      return 0;
    }
    const e = relErr(values(got), values(want));
    worst.set(name, Math.max(worst.get(name) ?? 0, e));
    assert.ok(e <= TOL, `${name} ${JSON.stringify(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape])))} ${JSON.stringify(attrs)}: rel err ${e}`);
    return e;
  } finally {
    dispose(got);
    if (got !== want) dispose(want);
  }
}

test('native addon loads and reports its BLAS', { skip }, () => {
  assert.ok(status.blas.length > 0 && status.threads >= 1, JSON.stringify(status));
});

describe('native cpu kernels vs stock tfjs-backend-cpu', { skip }, () => {
  before(async () => {
    await useBackend('cpu');
    installNativeKernels(); // also when LOGOLAB_NATIVE=0 disabled them for the backend
    backend = tf.backend() as unknown as Backend;
  });
  after(() => {
    process.stderr.write(`[native-kernels.test] worst rel. error per kernel: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}\n`);
  });

  test('status reports the replaced kernels', () => {
    const s = nativeKernelsStatus();
    assert.ok(s.threads >= 1);
    for (const k of ['BatchMatMul', '_FusedMatMul', 'Transpose', 'Softmax', 'Add']) assert.ok(s.active.includes(k), `${k} active`);
    assert.equal(tf.getKernel('BatchMatMul', 'cpu').kernelFunc !== stockKernel('BatchMatMul'), true);
  });

  test('BatchMatMul: transposes, batch dims, broadcasting, odd and empty sizes', () => {
    const cases: [number[], number[]][] = [
      [[5, 7], [7, 3]], [[1, 1], [1, 1]], [[33, 129], [129, 65]], [[4, 33, 17], [4, 17, 9]],
      [[2, 3, 5, 6], [6, 4]], [[5, 6], [2, 3, 6, 4]], [[1, 5, 6], [3, 6, 4]], [[3, 5, 6], [1, 6, 4]], [[2, 3, 5, 6], [3, 6, 4]],
      [[0, 5], [5, 3]], [[4, 0], [0, 3]], [[2, 0, 5, 6], [6, 4]], [[3, 5, 0], [3, 0, 2]], [[16, 17, 8], [16, 8, 17]],
    ];
    for (const [as, bs] of cases) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const sa = ta ? [...as.slice(0, -2), as[as.length - 1]!, as[as.length - 2]!] : as;
          const sb = tb ? [...bs.slice(0, -2), bs[bs.length - 1]!, bs[bs.length - 2]!] : bs;
          const a = t(sa), b = t(sb);
          compare('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb });
          a.dispose(); b.dispose();
        }
      }
    }
  });

  test('BatchMatMul: true broadcasting of batch dims ([2,1] × [1,3]) equals the stock kernel on tiled inputs', () => {
    // the stock kernel maps output batch i to input batch i % batchA, which is only right when one side is
    // 1 or both are equal; the native kernel follows numpy rules. Reference: tile, then stock.
    for (const [as, bs] of [[[2, 1, 5, 6], [1, 3, 6, 4]], [[3, 1, 2, 2], [4, 2, 2]]] as [number[], number[]][]) {
      const a = t(as), b = t(bs);
      const outB = tf.backend_util.assertAndGetBroadcastShape(as.slice(0, -2), bs.slice(0, -2));
      const at = tf.broadcastTo(a, [...outB, ...as.slice(-2)]), bt = tf.broadcastTo(b, [...outB, ...bs.slice(-2)]);
      compare('BatchMatMul', { a, b }, { transposeA: false, transposeB: false },
        () => stockKernel('BatchMatMul')({ inputs: { a: at, b: bt }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo);
      tf.dispose([a, b, at, bt]);
    }
  });

  test('_FusedMatMul: bias (row / full / broadcast), every activation, transposes', () => {
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu', 'prelu']) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        for (const biasShape of [null, [7], [1, 7], [5, 7], [5, 1]]) {
          const a = t(ta ? [2, 9, 5] : [2, 5, 9]), b = t(tb ? [7, 9] : [9, 7]);
          const inputs: Record<string, tf.Tensor> = { a, b };
          if (biasShape) inputs.bias = t(biasShape);
          if (activation === 'prelu') inputs.preluActivationWeights = t([7]);
          compare('_FusedMatMul', inputs, { transposeA: ta, transposeB: tb, activation, leakyreluAlpha: 0.3 });
          tf.dispose(Object.values(inputs));
        }
      }
    }
  });

  test('_FusedMatMul: large outputs (bias and activation pass split over the threads) equal the stock kernel', () => {
    // (threads = all cores unless LOGOLAB_THREADS says otherwise: the split is exercised on ≥ 2 cores)
    for (const activation of ['linear', 'relu', 'sigmoid', 'elu']) {
      const a = t([301, 16]), b = t([16, 515]), bias = t([515]); // 301 rows × 515: two row chunks of 127+ rows, odd ends
      compare('_FusedMatMul', { a, b, bias }, { transposeA: false, transposeB: false, activation });
      tf.dispose([a, b, bias]);
    }
  });

  test('large inputs (work split in chunks over the pool threads) equal the stock kernels', () => {
    // ≥ 4 chunks of ≥ 64K elements each on 2+ threads: every kernel that splits work over threads
    const x = t([5, 257, 400]), y = t([257, 400]), row = t([400]);
    compare('Add', { a: x, b: y });
    compare('Multiply', { a: x, b: row });
    compare('Sigmoid', { x });
    compare('Transpose', { x }, { perm: [2, 0, 1] });
    compare('Softmax', { logits: x }, { dim: -1 });
    compare('Sum', { x }, { axis: [0], keepDims: false });
    tf.dispose([x, y, row]);
  });

  test('binary ops with broadcasting (Add Sub Multiply RealDiv SquaredDifference Maximum Minimum)', () => {
    const pairs: [number[], number[]][] = [
      [[4, 5], [4, 5]], [[4, 5], [5]], [[4, 5], []], [[], [4, 5]], [[4, 1], [1, 5]], [[2, 3, 4], [3, 1]], [[2, 1, 3], [1, 4, 1]],
      [[2, 3, 257, 7], [2, 3, 257, 1]], [[1], [3]], [[0, 3], [3]], [[3, 0], [3, 1]], [[1, 1, 1], [1]], [[5, 1, 3, 1], [1, 4, 1, 6]],
    ];
    for (const name of ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum', 'Minimum']) {
      for (const [as, bs] of pairs) {
        const a = t(as), b = t(bs, { positive: name === 'RealDiv' });
        compare(name, { a, b });
        a.dispose(); b.dispose();
      }
    }
  });

  test('Transpose over ranks 1–5, size-1 dims, empty dims', () => {
    const cases: [number[], number[]][] = [
      [[7], [0]], [[5, 7], [1, 0]], [[65, 33], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [0, 2, 1]], [[2, 257, 16, 8], [0, 2, 1, 3]],
      [[2, 17, 4, 8], [0, 2, 3, 1]], [[1, 5, 1, 3], [3, 1, 2, 0]], [[2, 3, 4, 5, 6], [4, 0, 3, 1, 2]], [[0, 3], [1, 0]], [[3, 1], [1, 0]],
    ];
    for (const [shape, perm] of cases) {
      const x = t(shape);
      compare('Transpose', { x }, { perm });
      x.dispose();
    }
  });

  test('Slice and PadV2 (strided gather / scatter), contiguous and not, empty', () => {
    const cases: [number[], number[], number[]][] = [
      [[64, 65, 128], [0, 0, 0], [64, 1, 128]], [[5, 7], [1, 2], [3, 4]], [[5, 7], [2, 0], [2, 7]], [[4, 5, 6], [1, 1, 1], [2, 3, 4]],
      [[4, 5, 6], [0, 0, 5], [4, 5, 1]], [[4, 5, 6], [3, 4, 5], [1, 1, 1]], [[9], [2], [5]], [[4, 5], [1, 0], [0, 5]], [[2, 3, 4, 5], [1, 0, 2, 1], [1, 3, 2, -1]],
    ];
    for (const [shape, begin, sz] of cases) {
      const x = t(shape);
      compare('Slice', { x }, { begin, size: sz });
      x.dispose();
    }
    for (const [shape, paddings, constantValue] of [[[3, 4], [[1, 2], [0, 3]], 0], [[64, 1, 128], [[0, 0], [0, 64], [0, 0]], 0], [[2, 3, 4], [[1, 1], [2, 0], [0, 1]], 1.5],
      [[5], [[3, 0]], -1], [[1, 1], [[1, 1], [1, 1]], 0], [[0, 3], [[1, 0], [0, 1]], 2]] as [number[], [number, number][], number][]) {
      const x = t(shape);
      compare('PadV2', { x }, { paddings, constantValue });
      x.dispose();
    }
  });

  test('Tile (broadcastTo): reps over every dim, size-1 and empty dims', () => {
    const cases: [number[], number[]][] = [
      [[1, 1, 64], [32, 1, 1]], [[2, 3], [1, 1]], [[2, 3], [3, 2]], [[1, 5, 1], [4, 1, 3]], [[3], [5]], [[2, 1, 3, 2], [1, 4, 1, 2]], [[2, 3], [0, 2]], [[0, 3], [2, 1]], [[1], [7]],
      [[2, 257, 64], [3, 1, 1]],
    ];
    for (const [shape, reps] of cases) {
      const x = t(shape);
      compare('Tile', { x }, { reps });
      x.dispose();
    }
  });

  test('Softmax over the last axis', () => {
    for (const shape of [[3, 7], [2, 3, 257], [1, 1], [5, 1], [4, 1000]]) {
      const logits = tf.mul(t(shape), 20); // large logits exercise the max subtraction
      compare('Softmax', { logits }, { dim: -1 });
      logits.dispose();
    }
  });

  test('Sum and Mean over innermost and non-innermost axes, keepDims, empty', () => {
    for (const name of ['Sum', 'Mean']) {
      for (const [shape, axis, keepDims] of [[[6, 7], [0], false], [[2, 3, 4], [0, 2], true], [[2, 3, 4], [1], false], [[4, 5], [1], true], [[4, 5], [-1], false],
        [[2, 257, 64], [2], true], [[3, 0, 2], [0], false], [[3, 0, 2], [1], false], [[5], [0], false], [[2, 3], [0, 1], false]] as [number[], number[], boolean][]) {
        const x = t(shape);
        compare(name, { x }, { axis, keepDims });
        x.dispose();
      }
    }
  });

  test('unary ops (Sigmoid Exp Erf Tanh Rsqrt Square Sqrt Neg Relu Log Abs) and Pow', () => {
    for (const name of ['Sigmoid', 'Exp', 'Erf', 'Tanh', 'Rsqrt', 'Square', 'Sqrt', 'Neg', 'Relu', 'Log', 'Abs']) {
      const positive = ['Rsqrt', 'Sqrt', 'Log'].includes(name);
      for (const shape of [[1000], [3, 5, 7], [0, 4], []]) {
        const x = tf.mul(t(shape, { positive }), name === 'Erf' ? 0.01 : 4); // Erf near 0 where the polynomial cancels
        compare(name, { x });
        x.dispose();
      }
    }
    // exp/sigmoid over their whole float range: overflow to Infinity, underflow to 0 and denormals, NaN
    const wide = tf.tensor([-200, -104, -103, -100, -90, -87.5, -50, -1e-3, 0, 1e-3, 10, 80, 88, 88.7, 88.8, 100, NaN, Infinity, -Infinity]);
    for (const name of ['Exp', 'Sigmoid']) {
      const got = nativeKernel(name)({ inputs: { x: wide }, backend }) as tf.TensorInfo;
      const want = stockKernel(name)({ inputs: { x: wide }, backend }) as tf.TensorInfo;
      const g = values(got), w = values(want);
      for (let i = 0; i < w.length; i++) {
        const ok = (Number.isNaN(w[i]!) && Number.isNaN(g[i]!)) || g[i] === w[i] || Math.abs(g[i]! - w[i]!) <= TOL * Math.abs(w[i]!) || (Math.abs(w[i]!) < 1e-37 && Math.abs(g[i]!) < 1e-37);
        assert.ok(ok, `${name}(${wide.dataSync()[i]}) = ${g[i]}, stock ${w[i]}`);
      }
      dispose(got); dispose(want);
    }
    wide.dispose();
    // the subnormal range of exp (x in [-104, -88]): within 2 ulp of float32 (2^-149 there) of the stock
    // value, not merely tiny; also through Softmax, rows [0, x]
    const xsUnder = Array.from({ length: 161 }, (_, i) => -104 + i * 0.1);
    const under = tf.tensor(xsUnder), rows = tf.tensor(xsUnder.flatMap((v) => [0, v]), [xsUnder.length, 2]);
    for (const [name, x] of [['Exp', under], ['Softmax', rows]] as const) {
      const attrs: tf.NamedAttrMap = name === 'Softmax' ? { dim: -1 } : {};
      const got = nativeKernel(name)({ inputs: name === 'Softmax' ? { logits: x } : { x }, backend, attrs }) as tf.TensorInfo;
      const want = stockKernel(name)({ inputs: name === 'Softmax' ? { logits: x } : { x }, backend, attrs }) as tf.TensorInfo;
      const g = values(got), w = values(want);
      for (let i = 0; i < w.length; i++) {
        const at = name === 'Softmax' ? `[0, ${xsUnder[i >> 1]}][${i & 1}]` : `${xsUnder[i]}`;
        assert.ok(Math.abs(g[i]! - w[i]!) <= Math.max(2 * 2 ** -149, 4 * TOL * Math.abs(w[i]!)), `${name}(${at}) = ${g[i]}, stock ${w[i]}`);
      }
      dispose(got); dispose(want);
    }
    tf.dispose([under, rows]);
    for (const [as, bs] of [[[4, 5], []], [[4, 5], [5]], [[3, 1], [1, 4]]] as [number[], number[]][]) {
      const a = t(as, { positive: true }), b = tf.mul(t(bs), 3);
      compare('Pow', { a, b });
      tf.dispose([a, b]);
    }
    // every pairing of special bases and exponents (JS Math.pow: NaN for a NaN exponent and for (±1)^±Infinity)
    const specials = [1, -1, 0, -0, 2, -2, 0.5, -0.5, 3.5, NaN, Infinity, -Infinity];
    const sa = tf.tensor(specials, [specials.length, 1]), sb = tf.tensor(specials, [1, specials.length]);
    compare('Pow', { a: sa, b: sb });
    tf.dispose([sa, sb]);
    // integer exponents 2 and 3 (scalar and [1]) take the x², x³ path; negative bases too
    for (const e of [2, 3]) {
      for (const b of [tf.scalar(e), tf.tensor([e])]) {
        const a = tf.mul(t([3, 70001]), 5);
        compare('Pow', { a, b });
        tf.dispose([a, b]);
      }
    }
    // erf / tanh over a wide range incl. tiny and large |x| (vectorised double paths), and large arrays
    const xs = tf.tensor([0, -0, 1e-30, -1e-12, 1e-7, 5e-4, 1e-3, 2e-3, 0.1, -0.5, 1, 3, 6, 10, 27, 30, -30, 400, NaN, Infinity, -Infinity]);
    for (const name of ['Erf', 'Tanh']) {
      const got = nativeKernel(name)({ inputs: { x: xs }, backend }) as tf.TensorInfo;
      const want = stockKernel(name)({ inputs: { x: xs }, backend }) as tf.TensorInfo;
      const g = values(got), w = values(want);
      for (let i = 0; i < w.length; i++) {
        const ok = (Number.isNaN(w[i]!) && Number.isNaN(g[i]!)) || g[i] === w[i] || Math.abs(g[i]! - w[i]!) <= TOL * Math.abs(w[i]!);
        assert.ok(ok, `${name}(${xs.dataSync()[i]}) = ${g[i]}, stock ${w[i]}`);
      }
      dispose(got); dispose(want);
      const big = tf.mul(t([100003]), 4);
      compare(name, { x: big });
      big.dispose();
    }
    xs.dispose();
  });

  test('Conv2D (NHWC): strides, padding, dilations, patch embedding', () => {
    const cases: [number[], number[], number | [number, number], 'same' | 'valid' | number, number | [number, number]][] = [
      [[2, 9, 11, 3], [3, 3, 3, 5], 1, 'same', 1], [[2, 9, 11, 3], [3, 3, 3, 5], 2, 'valid', 1], [[1, 10, 10, 2], [3, 2, 2, 4], [2, 1], 'same', 1],
      [[1, 12, 12, 2], [3, 3, 2, 3], 1, 'valid', 2], [[2, 28, 28, 3], [14, 14, 3, 8], 14, 'valid', 1], [[1, 7, 7, 1], [2, 2, 1, 1], 1, 1, 1],
      [[3, 128, 128, 32], [3, 3, 32, 2], 1, 'same', 1], // > 8M im2col floats: one image per sgemm group
    ];
    for (const [xs, fs, strides, pad, dilations] of cases) {
      const x = t(xs), filter = t(fs);
      compare('Conv2D', { x, filter }, { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap);
      x.dispose(); filter.dispose();
    }
  });

  test('Concat over every axis, several inputs, size-1 and empty inputs', () => {
    const cases: [number[][], number][] = [
      [[[64, 1, 128], [64, 64, 128]], 1], [[[2, 3], [2, 5], [2, 1]], 1], [[[2, 3], [4, 3]], 0], [[[3, 4, 5], [3, 4, 2]], -1],
      [[[2, 0, 3], [2, 4, 3]], 1], [[[5], [7]], 0], [[[2, 3, 4]], 2],
    ];
    for (const [shapes, axis] of cases) {
      const xs = shapes.map((s) => t(s));
      compare('Concat', xs as unknown as Record<string, tf.Tensor>, { axis } as unknown as tf.NamedAttrMap);
      tf.dispose(xs);
    }
  });

  test('Conv2DBackpropFilter and Conv2DBackpropInput (NHWC): strides, padding, patch embedding, multi-group', () => {
    const cases: [number[], number[], number | [number, number], 'same' | 'valid' | number][] = [
      [[2, 9, 11, 3], [3, 3, 3, 5], 1, 'same'], [[2, 9, 11, 3], [3, 3, 3, 5], 2, 'valid'], [[1, 10, 10, 2], [3, 2, 2, 4], [2, 1], 'same'],
      [[2, 28, 28, 3], [14, 14, 3, 8], 14, 'valid'], [[4, 64, 64, 3], [16, 16, 3, 16], 16, 'valid'], [[1, 7, 7, 1], [2, 2, 1, 1], 1, 1],
      [[2, 128, 128, 32], [3, 3, 32, 1], 1, 'same'], // > 8M im2col floats: one image per sgemm group
      [[0, 5, 5, 2], [3, 3, 2, 2], 1, 'same'], [[2, 5, 5, 0], [3, 3, 0, 2], 1, 'same'],
    ];
    for (const [xs, fs, strides, pad] of cases) {
      const x = t(xs), filter = t(fs);
      const c = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], fs as [number, number, number, number], strides, 1, pad);
      const dy = t(c.outShape);
      compare('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fs } as unknown as tf.NamedAttrMap);
      compare('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: xs } as unknown as tf.NamedAttrMap);
      tf.dispose([x, filter, dy]);
    }
  });

  test('Conv2DBackpropFilter and Conv2DBackpropInput with a dy that does not match the conv geometry (conv2dTranspose with a non-inverse outputShape) equal the stock kernels', () => {
    // [x or input shape, filter shape, strides, pad, dy shape]: tfjs accepts all of these (dy's spatial size is not checked)
    const cases: [number[], number[], number, 'same' | 'valid', number[]][] = [
      [[2, 8, 8, 3], [3, 3, 3, 2], 2, 'valid', [2, 4, 4, 2]], // geometry says 3×3
      [[2, 5, 5, 3], [3, 3, 3, 2], 1, 'same', [2, 4, 4, 2]], // geometry says 5×5: dy smaller than the addon would read
      [[1, 6, 6, 2], [2, 2, 2, 3], 2, 'valid', [1, 2, 4, 3]], // one spatial dim off
    ];
    /** compare(), or where the stock kernel refuses the shapes (it reads dy out of range), the same error natively. */
    const compareOrSameError = (name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap): void => {
      let stockError: unknown = null;
      try { dispose(stockKernel(name)({ inputs, backend, attrs }) as tf.TensorInfo); } catch (e) { stockError = e; }
      if (stockError === null) compare(name, inputs, attrs);
      else assert.throws(() => nativeKernel(name)({ inputs, backend, attrs }), { message: (stockError as Error).message }, `${name} ${JSON.stringify(attrs)}`);
    };
    for (const [xs, fs, strides, pad, dys] of cases) {
      const x = t(xs), filter = t(fs), dy = t(dys);
      compareOrSameError('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fs } as unknown as tf.NamedAttrMap);
      compareOrSameError('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: xs } as unknown as tf.NamedAttrMap);
      tf.dispose([x, filter, dy]);
    }
    // the same through the public op and its filter gradient (tfjs itself refuses the gradient of its input here)
    const x = t([2, 4, 4, 2]), f = t([3, 3, 3, 2]);
    const run = (): Float32Array[] => tf.tidy(() => {
      const fn = (ff: tf.Tensor): tf.Tensor => tf.conv2dTranspose(x as tf.Tensor4D, ff as tf.Tensor4D, [2, 8, 8, 3], 2, 'valid').square().sum();
      const y = tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 8, 8, 3], 2, 'valid');
      return [y, tf.grad(fn)(f)].map((r) => r.dataSync() as Float32Array);
    });
    const nat = run();
    uninstallNativeKernels();
    let stk: Float32Array[];
    try { stk = run(); } finally { installNativeKernels(); }
    for (let i = 0; i < nat.length; i++) assert.ok(relErr(nat[i]!, stk[i]!) <= TOL, `conv2dTranspose output/gradient ${i}: rel err ${relErr(nat[i]!, stk[i]!)}`);
    tf.dispose([x, f]);
  });

  // FusedConv2D / MaxPool / AvgPool (native-conv.ts): ≤ 1e-6 relative to the stock kernel.
  const CONV_TOL = 1e-6;
  type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
  const CONV_GRID: [string, number[], number[], number | [number, number], Pad, number | [number, number], ('floor' | 'ceil')?][] = [
    ['7×7/2 stem, symmetric pad 3', [1, 23, 29, 3], [7, 7, 3, 8], 2, [[0, 0], [3, 3], [3, 3], [0, 0]], 1],
    ['3×3/1 same', [2, 9, 11, 5], [3, 3, 5, 7], 1, 'same', 1],
    ['3×3/2 symmetric pad 1', [2, 13, 10, 4], [3, 3, 4, 6], 2, [[0, 0], [1, 1], [1, 1], [0, 0]], 1],
    ['3×3/2 same (bottom/right pad)', [1, 12, 15, 3], [3, 3, 3, 5], 2, 'same', 1],
    ['3×3/1 valid', [1, 8, 9, 2], [3, 3, 2, 3], 1, 'valid', 1],
    ['1×1/1 (plain sgemm)', [2, 7, 9, 6], [1, 1, 6, 5], 1, 'valid', 1],
    ['1×1/2 (strided gather)', [2, 9, 7, 6], [1, 1, 6, 10], 2, 'valid', 1],
    ['1×1/1 same', [1, 5, 5, 3], [1, 1, 3, 4], 1, 'same', 1],
    ['3×3 dilation 2 same', [1, 12, 12, 3], [3, 3, 3, 4], 1, 'same', 2],
    ['2×3 dilation [2,1] valid', [2, 10, 9, 2], [2, 3, 2, 3], 1, 'valid', [2, 1]],
    ['3×2 strides [2,1] same', [1, 11, 8, 3], [3, 2, 3, 4], [2, 1], 'same', 1],
    ['numeric pad 1, ceil rounding', [1, 10, 10, 2], [3, 3, 2, 3], 2, 1, 1, 'ceil'],
    ['numeric pad 2, floor rounding', [1, 9, 11, 2], [5, 5, 2, 3], 3, 2, 1, 'floor'],
    ['1×1 input', [3, 1, 1, 4], [1, 1, 4, 2], 1, 'valid', 1],
    ['many rows: row chunks over threads', [1, 45, 47, 16], [3, 3, 16, 24], 1, 'same', 1],
    ['many rows, 1×1', [2, 40, 37, 32], [1, 1, 32, 48], 1, 'valid', 1],
    ['few rows: output channels split over threads', [1, 5, 6, 16], [3, 3, 16, 40], 1, 'same', 1],
    ['few rows, 1×1, odd channel split', [1, 4, 4, 32], [1, 1, 32, 33], 1, 'valid', 1],
  ];

  test(`FusedConv2D (NHWC): stem 7×7/2, 3×3/1 and /2, 1×1, dilation, odd sizes; bias; every activation (≤ ${CONV_TOL})`, () => {
    for (const [what, xs, fs, strides, pad, dilations, dimRoundingMode] of CONV_GRID) {
      const oc = fs[3]!;
      for (const [activation, biasShape] of [['linear', null], ['linear', [oc]], ['relu', [oc]], ['relu6', [1, 1, 1, oc]], ['prelu', [oc]], ['leakyrelu', [1]],
        ['sigmoid', [oc]], ['elu', null], ['relu', [3, 1, 1, oc]]] as [string, number[] | null][]) {
        if (biasShape && biasShape[0] === 3 && xs[0] !== 3) continue; // (a batch-shaped bias only where it broadcasts)
        const x = t(xs), filter = t(fs);
        const inputs: Record<string, tf.Tensor> = { x, filter };
        if (biasShape) inputs.bias = t(biasShape);
        if (activation === 'prelu') inputs.preluActivationWeights = t(what.startsWith('1×1') ? [1] : [oc]);
        const attrs = { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode, activation, leakyreluAlpha: 0.3 } as unknown as tf.NamedAttrMap;
        const e = compare('FusedConv2D', inputs, attrs);
        assert.ok(e <= CONV_TOL, `FusedConv2D ${what} ${activation} bias ${JSON.stringify(biasShape)}: rel err ${e}`);
        tf.dispose(Object.values(inputs));
      }
    }
  });

  test(`fused conv + bias + residual + relu (ResNet bottleneck end) equals the composite on stock kernels (≤ ${CONV_TOL})`, async () => {
    const { conv2dResidual } = await import('../../src/backend/native-conv.js');
    const cases = CONV_GRID.filter(([, , , , , dil, round]) => dil === 1 && !round);
    for (const [what, xs, fs, strides, pad] of cases) {
      if (Array.isArray(strides)) continue;
      for (const activation of ['relu', 'linear'] as const) {
        const x = t(xs) as tf.Tensor4D, filter = t(fs) as tf.Tensor4D, bias = t([fs[3]!]) as tf.Tensor1D;
        const outShape = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], fs as [number, number, number, number], strides, 1, pad).outShape;
        const res = t(outShape) as tf.Tensor4D;
        const got = conv2dResidual(x, filter, bias, res, strides, pad, activation);
        uninstallNativeKernels();
        let want: tf.Tensor;
        try {
          want = tf.tidy(() => {
            const y = tf.add(tf.fused.conv2d({ x, filter, strides, pad, bias }), res);
            return activation === 'relu' ? tf.relu(y) : y;
          });
        } finally {
          installNativeKernels();
        }
        assert.deepEqual(got.shape, want.shape);
        const e = relErr(got.dataSync() as Float32Array, want.dataSync() as Float32Array);
        worst.set('conv+residual', Math.max(worst.get('conv+residual') ?? 0, e));
        assert.ok(e <= CONV_TOL, `conv+residual ${what} ${activation}: rel err ${e}`);
        tf.dispose([x, filter, bias, res, got, want]);
      }
    }
  });

  test('FusedConv2D runs natively for the DETR shapes (and falls back only for what it does not cover)', async () => {
    const { traceNativeFallbacks } = await import('../../src/backend/native.js');
    const x = t([1, 9, 9, 4]), filter = t([3, 3, 4, 6]), bias = t([6]), full = t([1, 9, 9, 6]);
    traceNativeFallbacks(true);
    try {
      tf.dispose(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }));
      tf.dispose(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same', bias: full, activation: 'relu' }));
      tf.dispose(tf.maxPool(x as tf.Tensor4D, 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]));
    } finally {
      const trace = traceNativeFallbacks(false)!;
      assert.deepEqual(trace.get('FusedConv2D'), [false, true], 'per-channel bias native, full-shape bias stock');
      assert.deepEqual(trace.get('MaxPool'), [false]);
    }
    tf.dispose([x, filter, bias, full]);
  });

  test(`MaxPool and AvgPool (NHWC): windows, strides, paddings, odd sizes, NaN and ±Infinity (≤ ${CONV_TOL})`, () => {
    const cases: [number[], number | [number, number], number | [number, number], Pad, ('floor' | 'ceil')?][] = [
      [[1, 23, 29, 8], 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]], // DETR's stem pooling
      [[2, 9, 11, 5], 3, 2, 'same'], [[2, 9, 11, 5], 3, 2, 'valid'], [[1, 10, 7, 3], [2, 3], [1, 2], 'same'], [[1, 8, 8, 2], 2, 2, 'valid'],
      [[3, 5, 5, 4], 1, 1, 'valid'], [[1, 4, 6, 3], 5, 1, 'same'], [[1, 10, 10, 2], 3, 2, 1, 'ceil'], [[1, 9, 9, 2], 3, 3, 1, 'floor'], [[2, 1, 1, 7], 2, 1, 'same'],
      [[1, 64, 70, 32], 3, 2, 'same'], // split over threads
    ];
    for (const name of ['MaxPool', 'AvgPool']) {
      for (const [xs, filterSize, strides, pad, dimRoundingMode] of cases) {
        const x = t(xs);
        const e = compare(name, { x }, { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap);
        assert.ok(e <= CONV_TOL, `${name} ${JSON.stringify(xs)} ${JSON.stringify([filterSize, strides, pad])}: rel err ${e}`);
        x.dispose();
      }
    }
    // NaN is skipped by the max (as stock), ±Infinity kept; avg propagates them
    const special = tf.tensor4d([NaN, 1, -Infinity, 2, NaN, NaN, Infinity, -3, 0.5, NaN, -1, 7], [1, 2, 3, 2]);
    for (const name of ['MaxPool', 'AvgPool']) {
      for (const [filterSize, pad] of [[2, 'valid'], [3, 'same'], [2, 'same']] as [number, Pad][]) {
        const got = nativeKernel(name)({ inputs: { x: special }, backend, attrs: { filterSize, strides: 1, pad } }) as tf.TensorInfo;
        const want = stockKernel(name)({ inputs: { x: special }, backend, attrs: { filterSize, strides: 1, pad } }) as tf.TensorInfo;
        assert.deepEqual([...values(got)].map(String), [...values(want)].map(String), `${name} ${filterSize} ${pad}`);
        dispose(got); dispose(want);
      }
    }
    special.dispose();
  });

  test('gradients of tf.fused.conv2d (bias; linear and relu) and of maxPool with native kernels equal the stock ones', async () => {
    const x = t([2, 9, 8, 3]), filter = t([3, 3, 3, 4]), bias = t([4]), w = t([2, 5, 4, 4]);
    const run = (): Float32Array[] => tf.tidy(() => {
      const out: Float32Array[] = [];
      for (const activation of ['linear', 'relu'] as const) {
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: c, activation }), w));
        out.push(...tf.grads(f)([x, filter, bias]).map((g) => g.dataSync() as Float32Array));
      }
      out.push(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]), t([2, 5, 4, 3]))))(x).dataSync() as Float32Array);
      return out;
    });
    seed = 1000;
    const nat = await expectNoLeak(() => run());
    uninstallNativeKernels();
    let ref: Float32Array[];
    try {
      seed = 1000;
      ref = run();
    } finally {
      installNativeKernels();
    }
    for (let i = 0; i < ref.length; i++) assert.ok(relErr(nat[i]!, ref[i]!) <= CONV_TOL, `grad ${i}: ${relErr(nat[i]!, ref[i]!)}`);
    tf.dispose([x, filter, bias, w]);
  });

  test('gradients through the native kernels equal the stock ones (matmul with transposes, softmax, bias add, transpose)', async () => {
    const f = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.tidy(() => {
        // (tfjs's BatchMatMul gradient does not support broadcast batch dims, so x is 2-D as in applyLinear)
        const h = tf.add(tf.matMul(x, w), bias).reshape([2, 5, 6]);
        const att = tf.softmax(tf.matMul(h, h, false, true)); // [2,5,5]
        return tf.sum(tf.mul(tf.matMul(att, h).transpose([0, 2, 1]), 1.5));
      });
    const x = t([10, 4]), w = t([4, 6]), bias = t([6]);
    const grads = (): Float32Array[] => tf.tidy(() => tf.grads(f)([x, w, bias]).map((g) => g.dataSync() as Float32Array));
    const nat = await expectNoLeak(() => grads());
    uninstallNativeKernels();
    try {
      const ref = grads();
      for (let i = 0; i < ref.length; i++) assert.ok(relErr(nat[i]!, ref[i]!) <= TOL, `grad ${i}: ${relErr(nat[i]!, ref[i]!)}`);
    } finally {
      installNativeKernels();
    }
    tf.dispose([x, w, bias]);
  });

  test('large inputs (split over threads): binary, transpose, unary, softmax, sum', () => {
    const x = t([3, 301, 257]), y = t([301, 1]), z = t([257]);
    compare('Add', { a: x, b: y });
    compare('Multiply', { a: x, b: z });
    compare('Sub', { a: t([90001]), b: t([90001]) });
    compare('Transpose', { x }, { perm: [2, 0, 1] });
    compare('Transpose', { x: t([515, 300]) }, { perm: [1, 0] });
    compare('Sigmoid', { x });
    compare('Exp', { x });
    compare('Softmax', { logits: x }, { dim: -1 });
    compare('Sum', { x }, { axis: [0, 1], keepDims: false });
    tf.dispose([x, y, z]);
  });

  /**
   * A fused op (native kernels behind tf.customGrad) against its composite on the stock kernels:
   * `probe` must give a tensor with the native kernels installed and null without them; `run`
   * computes the outputs to compare (value, loss, gradients) through the public op, which takes the
   * fused path in the first run and the composite in the second. `skip` names outputs not compared.
   */
  async function compareFused(label: string, where: string, probe: () => tf.Tensor | null, run: () => Float32Array[], names: string[], skip: string[] = []): Promise<void> {
    const fused = probe();
    assert.ok(fused, 'fused path active on cpu');
    fused.dispose();
    const nat = await expectNoLeak(() => run());
    uninstallNativeKernels();
    let ref: Float32Array[];
    try {
      assert.equal(probe(), null, 'fused path off when the native kernels are uninstalled');
      ref = run();
    } finally {
      installNativeKernels();
    }
    for (const [i, what] of names.entries()) {
      if (skip.includes(what)) continue;
      const e = relErr(nat[i]!, ref[i]!);
      worst.set(`${label} ${what}`, Math.max(worst.get(`${label} ${what}`) ?? 0, e));
      assert.ok(e <= TOL, `${label} ${what} ${where}: rel err ${e}`);
    }
  }

  test('fused LayerNorm (forward, gradients of x, gamma, beta) equals the composite layerNorm on stock kernels', async () => {
    for (const shape of [[2, 5, 16], [3, 257, 64], [1, 7], [4, 1]]) {
      const d = shape[shape.length - 1]!;
      const x = tf.add(tf.mul(t(shape), 3), 0.7), gamma = t([d]), beta = t([d]), w = t(shape);
      const p = { weight: gamma as tf.Tensor1D, bias: beta as tf.Tensor1D, eps: 1e-5 };
      // loss Σ w·LN(x) so every gradient is non-trivial
      const run = (): Float32Array[] => tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, { ...p, weight: g as tf.Tensor1D, bias: b as tf.Tensor1D }), w)))([x, gamma, beta]);
        return [layerNorm(x, p).dataSync() as Float32Array, value.dataSync() as Float32Array, ...grads.map((g) => g.dataSync() as Float32Array)];
      });
      await compareFused('LayerNorm', JSON.stringify(shape), () => fusedLayerNorm(x, gamma, beta, 1e-5), run, ['y', 'loss', 'dx', 'dgamma', 'dbeta']);
      tf.dispose([x, gamma, beta, w]);
    }
  });

  test('Sigmoid below −88, where e^−x overflows float32: e^x graded through the subnormals as the stock kernel gives it, not 0 (elementwise, fused matmul activation, quick_gelu and its gradient)', () => {
    // 2 ulp of float32's subnormal spacing (2^-149), or 4·TOL relative above it
    const near = (g: number, w: number, scale = 1) => Math.abs(g - w) <= Math.max(scale * 2 * 2 ** -149, 4 * TOL * Math.abs(w));
    const xs = Array.from({ length: 181 }, (_, i) => -106 + i * 0.1); // [-106, -88]: stock σ is 0 only below about −103.9
    const x = tf.tensor(xs), col = tf.tensor(xs, [xs.length, 1]), one = tf.tensor([[1]]);
    const cases: [string, () => tf.TensorInfo, () => tf.TensorInfo][] = [
      ['Sigmoid', () => nativeKernel('Sigmoid')({ inputs: { x }, backend }) as tf.TensorInfo, () => stockKernel('Sigmoid')({ inputs: { x }, backend }) as tf.TensorInfo],
      // x·[[1]] with the sigmoid activation: σ(x) through the fused matmul's own activation pass
      ['_FusedMatMul sigmoid', () => nativeKernel('_FusedMatMul')({ inputs: { a: col, b: one }, backend, attrs: { transposeA: false, transposeB: false, activation: 'sigmoid' } }) as tf.TensorInfo,
        () => stockKernel('_FusedMatMul')({ inputs: { a: col, b: one }, backend, attrs: { transposeA: false, transposeB: false, activation: 'sigmoid' } }) as tf.TensorInfo],
    ];
    for (const [name, nat, stock] of cases) {
      const got = nat(), want = stock();
      const g = values(got), w = values(want);
      assert.ok(w.filter((v) => v > 0).length > 150, `${name}: the stock values are nonzero down to about −103.9`);
      for (let i = 0; i < w.length; i++) assert.ok(near(g[i]!, w[i]!), `${name}(${xs[i]}) = ${g[i]}, stock ${w[i]}`);
      dispose(got); dispose(want);
    }
    // quick_gelu x·σ(1.702x) where 1.702x lies in [-106, -88], and d/dx of Σ quick_gelu(x), against
    // the composite's float32 steps (Multiply, then the stock Sigmoid in double, then Multiply)
    const f = Math.fround;
    const qx = xs.map((v) => f(v / 1.702));
    const q = tf.tensor(qx);
    const y = fusedQuickGelu(q)!, dx = tf.grad((a: tf.Tensor) => tf.sum(fusedQuickGelu(a)!))(q);
    const [yv, dxv] = [y.dataSync(), dx.dataSync()];
    for (const [i, v] of qx.entries()) {
      const sg = f(1 / (1 + Math.exp(-f(v * 1.702))));
      assert.ok(near(yv[i]!, f(v * sg), Math.abs(v)), `quick_gelu(${v}) = ${yv[i]}, composite ${f(v * sg)}`);
      const d = f(sg + 1.702 * v * sg * (1 - sg));
      assert.ok(near(dxv[i]!, d, 1 + 1.702 * Math.abs(v)), `quick_gelu'(${v}) = ${dxv[i]}, composite ${d}`);
    }
    tf.dispose([x, col, one, q, y, dx]);
  });

  test('fused quick_gelu (forward and gradient) equals the composite x·σ(1.702x) on stock kernels', async () => {
    for (const shape of [[2, 5, 16], [3, 65, 512], [7], [100003]]) {
      // wide range (|x| up to ~12) so both saturated tails and the middle are exercised
      const x = tf.mul(t(shape), 6), w = t(shape);
      const run = (): Float32Array[] => tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => tf.sum(tf.mul(activation(a, 'quick_gelu'), w)))([x]);
        return [activation(x, 'quick_gelu').dataSync() as Float32Array, value.dataSync() as Float32Array, grads[0]!.dataSync() as Float32Array];
      });
      await compareFused('QuickGelu', JSON.stringify(shape), () => fusedQuickGelu(x), run, ['y', 'loss', 'dx']);
      tf.dispose([x, w]);
    }
  });

  test('fused multi-head attention (forward, gradients of q, k, v) equals the composite on stock kernels', async () => {
    const cases: [number[], number[], number][] = [[[2, 5, 16], [2, 5, 16], 4], [[3, 65, 128], [3, 65, 128], 4], [[2, 7, 12], [2, 9, 12], 3], [[1, 3, 2], [1, 3, 2], 2], [[1, 257, 64], [1, 257, 64], 1]];
    for (const [qs, ks, h] of cases) {
      const q = tf.mul(t(qs), 2) as tf.Tensor3D, k = tf.mul(t(ks), 2) as tf.Tensor3D, v = t(ks) as tf.Tensor3D, w = t(qs);
      const run = (): Float32Array[] => tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(multiHeadAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, h), w));
        const { value, grads } = tf.valueAndGrads(f)([q, k, v]);
        return [multiHeadAttention(q, k, v, h).dataSync() as Float32Array, value.dataSync() as Float32Array, ...grads.map((g) => g.dataSync() as Float32Array)];
      });
      // (not the scalar loss Σ w·out: its cancellation turns ≤ 1e-6 differences of out into 1e-5 relative)
      await compareFused('Attention', `q ${JSON.stringify(qs)} k ${JSON.stringify(ks)} heads ${h}`, () => fusedAttention(q, k, v, h), run, ['out', 'loss', 'dq', 'dk', 'dv'], ['loss']);
      tf.dispose([q, k, v, w]);
    }
  });

  test('every replaced kernel is covered by this file', () => {
    const covered = new Set(['BatchMatMul', '_FusedMatMul', 'Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum', 'Minimum', 'Pow', 'Transpose',
      'Softmax', 'Sum', 'Mean', 'Concat', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Slice', 'PadV2', 'Sigmoid', 'Exp', 'Erf', 'Tanh', 'Rsqrt', 'Square', 'Sqrt', 'Neg', 'Relu', 'Log', 'Abs', 'Floor',
      'FusedConv2D', 'MaxPool', 'AvgPool', 'Tile']);
    for (const k of NATIVE_KERNEL_NAMES) assert.ok(covered.has(k), `kernel ${k} has no parity test`);
  });

  test('non-float32 inputs fall back to the stock kernel', () => {
    const a = tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), b = tf.tensor([[5, 6], [7, 8]], [2, 2], 'int32');
    const got = nativeKernel('Add')({ inputs: { a, b }, backend }) as tf.TensorInfo;
    assert.equal(got.dtype, 'int32');
    assert.deepEqual([...(values(got) as unknown as Int32Array)], [6, 8, 10, 12]);
    dispose(got);
    tf.dispose([a, b]);
  });

  // last in the file: its random inputs come after every other test's, which stay as they were
  test('Floor (LoRA dropout\'s mask) equals the stock kernel, incl. negative, integral, ±0 and huge values', () => {
    for (const shape of [[1000], [3, 5, 7], [0, 4], []]) {
      const x = tf.mul(t(shape), 4);
      compare('Floor', { x });
      x.dispose();
    }
    const edge = tf.tensor1d([-2.5, -2, -0.5, -0, 0, 0.5, 2, 2.5, 1e30, -1e30, NaN, Infinity, -Infinity]);
    compare('Floor', { x: edge });
    edge.dispose();
  });
});
