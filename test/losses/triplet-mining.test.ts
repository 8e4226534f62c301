/**
 * Batch-hard triplet mining: the hardest pairs come from one [N, N] Gram matrix, never an
 * [N, N, D] difference tensor, and the pairs it picks are the ones a float64 loop picks on exact
 * distances (checked through the gradient, which goes to the selected entries only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PARITY_BACKENDS, expectNoLeak, maxAbsDiff, useBackend } from '../helpers.js';
import { getLoss } from '../../training/losses/index.js';
import { makeRng } from '../../src/util/rng.js';

/** float32-rounded unit rows: clusters of `per` around random centres, `spread` apart inside a cluster */
function batch(seed: number, classes: number, per: number, d: number, spread: number): { e: Float32Array; labels: Int32Array } {
  const rng = makeRng(seed);
  const n = classes * per;
  const base = Array.from({ length: d }, () => rng.normal());
  const e = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    const centre = base.map((b) => b + 10 * spread * rng.normal());
    for (let k = 0; k < per; k++) {
      const i = c * per + k;
      labels[i] = (c * 7) % classes; // labels not in slot order
      const row = centre.map((v) => v + spread * rng.normal());
      const norm = Math.hypot(...row);
      for (let j = 0; j < d; j++) e[i * d + j] = row[j]! / norm;
    }
  }
  return { e, labels };
}

/** d loss / d e of the batch-hard triplet loss, in float64, selecting on exact ‖e_i − e_j‖² (first index on ties). */
function oracleGrad(e: Float32Array, labels: Int32Array, d: number, margin: number): Float64Array {
  const n = labels.length;
  const dot = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += e[i * d + k]! * e[j * d + k]!;
    return s;
  };
  const sq = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += (e[i * d + k]! - e[j * d + k]!) ** 2;
    return s;
  };
  const g = new Float64Array(n * d);
  const picks: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    let p = -1;
    let q = -1;
    for (let j = 0; j < n; j++) {
      if (labels[j] === labels[i]) {
        if (j !== i && (p < 0 || sq(i, j) > sq(i, p))) p = j;
      } else if (q < 0 || sq(i, j) < sq(i, q)) q = j;
    }
    if (p >= 0 && q >= 0) picks.push([i, p, q]);
  }
  for (const [i, p, q] of picks) {
    if (1 - dot(i, p) - (1 - dot(i, q)) + margin <= 0) continue;
    for (let k = 0; k < d; k++) {
      g[i * d + k]! += (-e[p * d + k]! + e[q * d + k]!) / picks.length;
      g[p * d + k]! -= e[i * d + k]! / picks.length;
      g[q * d + k]! += e[i * d + k]! / picks.length;
    }
  }
  return g;
}

test('triplet: no [N, N, D] tensor is made (forward + backward)', async () => {
  await useBackend('cpu');
  const { e, labels } = batch(1, 12, 4, 64, 0.3);
  const n = labels.length;
  const x = tf.tensor2d(e, [n, 64]);
  const loss = getLoss('triplet', { margin: 0.3 });
  const prof = await tf.profile(() => {
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => loss(t as tf.Tensor2D, labels))(x);
    grad.dispose();
    return value;
  });
  x.dispose();
  (prof.result as tf.Tensor).dispose();
  const biggest = Math.max(...prof.kernels.flatMap((k) => k.outputShapes.map((s) => (s as number[]).reduce((a, b) => a * b, 1))));
  assert.ok(biggest <= n * n * 4, `largest intermediate has ${biggest} elements (N·N·D = ${n * n * 64})`);
});

test('triplet: hardest pairs = float64 selection on exact distances (gradient), tight to spread-out batches', async () => {
  for (const backend of PARITY_BACKENDS) {
    await useBackend(backend);
    await expectNoLeak(() => {
      for (const [seed, spread] of [[2, 1], [3, 0.05], [4, 1e-3], [5, 1e-5]] as const) {
        const d = 24;
        const { e, labels } = batch(seed, 8, 5, d, spread);
        const n = labels.length;
        const x = tf.tensor2d(e, [n, d]);
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => getLoss('triplet', { margin: 0.3 })(t as tf.Tensor2D, labels))(x);
        const got = grad.dataSync() as Float32Array;
        value.dispose();
        grad.dispose();
        x.dispose();
        const want = oracleGrad(e, labels, d, 0.3);
        const err = maxAbsDiff(got, want);
        assert.ok(err <= 1e-6, `${backend} spread ${spread}: max |Δgrad| ${err}`);
      }
    });
  }
});
