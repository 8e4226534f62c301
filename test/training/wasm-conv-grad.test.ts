import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend, maxAbsDiff } from '../helpers.js';
import { conv2dBackpropFilterHost } from '../../training/kernels/wasm_conv_grad.js';

/** d/dW of Σ(conv2d(x, W) ⊙ G) on a backend. */
async function filterGrad(backend: string, x: Float32Array, xs: number[], w: Float32Array, ws: number[], stride: number, pad: 'valid' | 'same', fmt: 'NHWC' | 'NCHW', seed: number) {
  await useBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const f = (wv: tf.Tensor) => {
      const y = tf.conv2d(xt, wv as tf.Tensor4D, stride, pad, fmt);
      const g = tf.randomNormal(y.shape, 0, 1, 'float32', seed);
      return tf.sum(tf.mul(y, g));
    };
    return tf.grad(f)(wt).dataSync().slice();
  });
}

describe('Conv2DBackpropFilter on wasm (training/kernels/wasm_conv_grad.ts)', () => {
  const cases: [string, number[], number[], number, 'valid' | 'same'][] = [
    ['patchify: stride = kernel, valid', [2, 16, 16, 3], [8, 8, 3, 5], 8, 'valid'],
    ['overlapping, same padding', [1, 9, 7, 2], [3, 3, 2, 4], 2, 'same'],
  ];
  for (const [name, xs, ws, stride, pad] of cases) {
    it(`equals the cpu kernel: ${name}`, async () => {
      const n = xs.reduce((a, b) => a * b, 1);
      const m = ws.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
      const w = Float32Array.from({ length: m }, (_, i) => Math.cos(i * 0.11));
      const a = await filterGrad('cpu', x, [...xs], w, [...ws], stride, pad, 'NHWC', 3);
      const b = await filterGrad('wasm', x, [...xs], w, [...ws], stride, pad, 'NHWC', 3);
      const d = maxAbsDiff(a, b);
      assert.ok(d <= 1e-4 * Math.max(1, Math.max(...Array.from(a, Math.abs))), `max |Δ| ${d}`);
    });
  }

  it('propagates NaN and ±Infinity in dy where x is 0, as the cpu kernel does (and stays exact for finite dy)', async () => {
    await useBackend('cpu');
    const xs: [number, number, number, number] = [2, 4, 5, 2], fs: [number, number, number, number] = [2, 2, 2, 3];
    const n = xs.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    x.fill(0, 0, 2 * 5 * 2); // the first two rows of image 0 are zero
    const info = tf.backend_util.computeConv2DInfo(xs, fs, 1, 1, 'valid');
    for (const bad of [NaN, Infinity, -Infinity, null]) {
      const dy = Float32Array.from({ length: info.outShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.23));
      if (bad !== null) dy[1] = bad; // image 0, output (0, 0), channel 1: meets only zero x
      const attrs = { strides: 1, pad: 'valid' as const, dataFormat: 'NHWC' as const, dimRoundingMode: undefined, filterShape: fs };
      const want = tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, xs), dy: tf.tensor4d(dy, info.outShape) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync().slice());
      const got = conv2dBackpropFilterHost(x, xs, dy, info.outShape, attrs);
      for (let i = 0; i < want.length; i++) {
        const ok = Number.isNaN(want[i]!) ? Number.isNaN(got[i]!) : Math.abs(got[i]! - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!));
        assert.ok(ok, `dy[1] = ${bad}: dW[${i}] = ${got[i]}, cpu ${want[i]}`);
      }
      if (bad !== null) assert.ok(Array.from(want).some(Number.isNaN), 'the case reaches a 0 · non-finite product');
    }
  });

  it('reads a dy that does not match the conv geometry as the cpu kernel does, or refuses it as the cpu kernel does', async () => {
    await useBackend('cpu');
    // tfjs does not check dy against the geometry (conv2dTranspose with a non-inverse outputShape)
    const cases: [string, number[], [number, number, number, number], number, 'same' | 'valid', number[], 'NHWC' | 'NCHW'][] = [
      ['dy larger than the output', [2, 8, 8, 3], [3, 3, 3, 2], 2, 'valid', [2, 4, 4, 2], 'NHWC'],
      ['dy larger, one dim', [1, 6, 6, 2], [2, 2, 2, 3], 2, 'valid', [1, 3, 5, 3], 'NHWC'],
      ['dy larger, NCHW', [2, 3, 8, 8], [3, 3, 3, 2], 2, 'valid', [2, 2, 4, 4], 'NCHW'],
      ['dy smaller than the output', [2, 5, 5, 3], [3, 3, 3, 2], 1, 'same', [2, 4, 4, 2], 'NHWC'],
    ];
    for (const [name, xs, fs, strides, pad, dys, fmt] of cases) {
      const x = Float32Array.from({ length: xs.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
      const dy = Float32Array.from({ length: dys.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.23));
      const attrs = { strides, pad, dataFormat: fmt, dimRoundingMode: undefined, filterShape: fs };
      let want: Float32Array | null = null;
      try {
        want = tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, xs as [number, number, number, number]), dy: tf.tensor4d(dy, dys as [number, number, number, number]) },
          attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync().slice() as Float32Array);
      } catch { /* the cpu kernel refuses it: so must this one */ }
      if (want === null) {
        assert.throws(() => conv2dBackpropFilterHost(x, xs, dy, dys, attrs), /does not hold the conv's output/, name);
        continue;
      }
      const got = conv2dBackpropFilterHost(x, xs, dy, dys, attrs);
      const d = maxAbsDiff(got, want);
      assert.ok(d <= 1e-5 * Math.max(1, ...Array.from(want, Math.abs)), `${name}: max |Δ| ${d}`);
    }
  });
});
