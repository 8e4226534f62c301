import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend, maxAbsDiff } from '../helpers.js';
import '../../training/kernels/wasm_conv_grad.js';

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
});
