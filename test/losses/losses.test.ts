import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, PARITY_BACKENDS, useBackend, maxAbsDiff, maxAbs, expectNoLeak } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { l2Normalize } from '../../src/models/heads.js';
import { getLoss, type LossFn } from '../../training/losses/index.js';
import { LogolabError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';
import { normalizeRows, refCombined, refInfonce, refMilnce, refSupcon, refSupconPython, refTriplet } from './reference.js';

const io = readSafetensors(join(FIXTURES, 'losses/io.safetensors'));
const values = JSON.parse(readFileSync(join(FIXTURES, 'losses/values.json'), 'utf8')).values as Record<string, number>;
const CASES = ['pk', 'singletons', 'tight'] as const;
// fixture key → (loss name, temperature)
const KEYS: [string, string, number | undefined][] = [
  ['infonce.t0.07', 'infonce', 0.07],
  ['infonce.t0.5', 'infonce', 0.5],
  ['supcon.t0.07', 'supcon', 0.07],
  ['supcon.t0.5', 'supcon', 0.5],
  ['triplet', 'triplet', undefined],
  ['combined.t0.07', 'combined', 0.07],
  ['combined.t0.5', 'combined', 0.5],
];

/** loss(normalize(raw)) and d loss / d raw */
function lossAndGrad(loss: LossFn, raw: tf.Tensor2D, labels: Int32Array): { value: number; grad: Float32Array } {
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss(l2Normalize(x as tf.Tensor2D), labels))(raw);
  const out = { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  value.dispose();
  grad.dispose();
  return out;
}

for (const backend of PARITY_BACKENDS) {
  test(`losses: fixture parity (values ≤ 1e-5, grad_raw ≤ 1e-3·max|g| + 1e-7) [${backend}]`, async () => {
    await useBackend(backend);
    const report: string[] = [];
    await expectNoLeak(() => {
      for (const c of CASES) {
        const rawT = io.get(`${c}.raw`)!;
        const labels = io.get(`${c}.labels`)!.data as Int32Array;
        const raw = tf.tensor2d(rawT.data as Float32Array, rawT.shape as [number, number]);
        for (const [key, name, t] of KEYS) {
          const loss = getLoss(name, { temperature: t, margin: 0.3 });
          const { value, grad } = lossAndGrad(loss, raw, labels);
          // supcon: the fixture holds the Python original's value, whose +1e-8 inside the log (row
          // max over self) biases it where the non-self terms are tiny (pk, singletons at T 0.07:
          // 1.6e-4, 1.0e-4). Ours is exact: expect the fixture minus that bias, computed in float64
          // from the fixture's own inputs (0 to ~1e-8 elsewhere); the tolerance is unchanged.
          const rows = name === 'supcon' ? normalizeRows(rawT.data as Float32Array, labels.length, rawT.shape[1]!) : null;
          const bias = rows ? refSupconPython(rows, labels, t!) - refSupcon(rows, labels, t!) : 0;
          const want = values[`${c}.${key}`]! - bias;
          const wantGrad = io.get(`${c}.${key}.grad_raw`)!.data as Float32Array;
          const dv = Math.abs(value - want);
          const dg = maxAbsDiff(grad, wantGrad);
          const tol = 1e-3 * maxAbs(wantGrad) + 1e-7;
          report.push(`${c}.${key}: |Δloss| ${dv.toExponential(1)}, max|Δgrad| ${dg.toExponential(1)} (tol ${tol.toExponential(1)})`);
          assert.ok(dv <= 1e-5, `${c}.${key}: loss ${value} vs ${want}`);
          assert.ok(dg <= tol, `${c}.${key}: grad max abs err ${dg} > ${tol}`);
        }
        raw.dispose();
      }
    });
    if (process.env.LOGOLAB_VERBOSE) console.log(report.join('\n'));
  });
}

function randomBatch(seed: number, labels: number[], d: number, spread = 1): { raw: Float32Array; labels: Int32Array } {
  const rng = makeRng(seed);
  const base = Array.from({ length: d }, () => rng.normal());
  const raw = new Float32Array(labels.length * d);
  for (let i = 0; i < raw.length; i++) raw[i] = base[i % d]! + spread * rng.normal();
  return { raw, labels: Int32Array.from(labels) };
}

test('losses: vectorised tf = loop-based float64 reference on varied batches', async () => {
  await useBackend('cpu');
  const batches = [
    randomBatch(1, [0, 0, 1, 1, 2, 2, 3, 3], 8),
    randomBatch(2, [5, 1, 5, 2, 1, 7, 5, 9, 9, 3], 6), // mixed sizes and singletons
    randomBatch(3, [0, 1, 2, 3], 5), // no positives at all → 0
    randomBatch(4, [4, 4, 4, 4, 4], 5), // one class: no negatives → triplet 0
    randomBatch(5, [1], 5), // N = 1
    randomBatch(6, [0, 0, 1, 1, 2], 16, 0.05), // close embeddings
  ];
  for (const [bi, b] of batches.entries()) {
    const n = b.labels.length;
    const d = b.raw.length / n;
    const rows = normalizeRows(b.raw, n, d);
    for (const t of [0.07, 0.5]) {
      const refs: Record<string, number> = {
        infonce: refInfonce(rows, b.labels, t),
        milnce: refMilnce(rows, b.labels, t),
        supcon: refSupcon(rows, b.labels, t),
        triplet: refTriplet(rows, b.labels, 0.3),
        combined: refCombined(rows, b.labels, t, 0.3),
      };
      for (const [name, want] of Object.entries(refs)) {
        const got = tf.tidy(() => getLoss(name, { temperature: t })(l2Normalize(tf.tensor2d(b.raw, [n, d])), b.labels).dataSync()[0]!);
        assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `batch ${bi} ${name} t=${t}: ${got} vs ref ${want}`);
      }
    }
  }
});

test('losses: supcon = the float64 definition at low temperature (the row max over non-self entries, no 1e-8 in the log)', async () => {
  await useBackend('cpu');
  const pairs = Array.from({ length: 16 }, (_, i) => i >> 1); // every anchor has one positive: supcon = infonce
  const batches = [randomBatch(21, pairs, 64, 3), randomBatch(22, [0, 0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 5], 32, 3), randomBatch(23, [0, 0, 1, 1, 2, 2], 8, 0.5)];
  for (const [bi, b] of batches.entries()) {
    const n = b.labels.length;
    const d = b.raw.length / n;
    const rows = normalizeRows(b.raw, n, d);
    for (const t of [0.01, 0.02, 0.03, 0.05, 0.1, 0.2]) {
      const want = refSupcon(rows, b.labels, t);
      if (bi === 0) assert.ok(Math.abs(want - refInfonce(rows, b.labels, t)) < 1e-9, 'oracles agree on one-positive batches');
      const got = tf.tidy(() => getLoss('supcon', { temperature: t })(l2Normalize(tf.tensor2d(b.raw, [n, d])), b.labels).dataSync()[0]!);
      // float32: a few ulp of the value (the old numerics were off by 15.5 vs 7.26 at T 0.03)
      assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `batch ${bi} T=${t}: supcon ${got} vs float64 ${want}`);
    }
  }
});

test('losses: finite values and gradients for near-identical embeddings, singletons, one class, zero rows', async () => {
  for (const backend of PARITY_BACKENDS) {
    await useBackend(backend);
    const cases: { raw: Float32Array; labels: Int32Array; what: string }[] = [
      { ...randomBatch(7, [0, 0, 1, 1, 2, 2], 8, 1e-7), what: 'near-identical' },
      { raw: new Float32Array(6 * 8).fill(0.3), labels: Int32Array.from([0, 0, 1, 1, 2, 2]), what: 'identical' },
      { ...randomBatch(8, [0, 1, 2, 3, 4], 8), what: 'singletons' },
      { ...randomBatch(9, [3, 3, 3, 3], 8), what: 'one class' },
      { raw: new Float32Array(4 * 8), labels: Int32Array.from([0, 0, 1, 1]), what: 'zero rows' },
    ];
    await expectNoLeak(() => {
      for (const c of cases) {
        const n = c.labels.length;
        const raw = tf.tensor2d(c.raw, [n, c.raw.length / n]);
        for (const name of ['infonce', 'milnce', 'supcon', 'triplet', 'combined']) {
          for (const t of [0.07, 0.5, 0.01]) {
            const loss = getLoss(name, { temperature: t });
            const { value, grad } = lossAndGrad(loss, raw, c.labels);
            assert.ok(Number.isFinite(value), `${backend} ${c.what} ${name} t=${t}: loss ${value}`);
            assert.ok(grad.every(Number.isFinite), `${backend} ${c.what} ${name} t=${t}: non-finite gradient`);
          }
        }
        raw.dispose();
      }
    });
  }
});

test('losses: no positive pairs or N = 1 outside a tidy (validation): numTensors steady, value 0', async () => {
  await useBackend('cpu');
  const e4 = tf.tidy(() => l2Normalize(tf.tensor2d(randomBatch(14, [0, 1, 2, 3], 8).raw, [4, 8])));
  const e1 = tf.tidy(() => l2Normalize(tf.tensor2d(randomBatch(15, [0], 8).raw, [1, 8])));
  for (const name of ['infonce', 'milnce', 'supcon', 'triplet', 'combined']) {
    const loss = getLoss(name, { temperature: 0.1 });
    for (const [e, labels] of [[e4, [0, 1, 2, 3]], [e4, [5, 5, 5, 5]], [e1, [0]]] as const) {
      if (name !== 'triplet' && labels[0] === 5) continue; // one class: only triplet (no negatives) is 0
      const before = tf.memory().numTensors;
      const l = loss(e, Int32Array.from(labels));
      assert.equal(l.dataSync()[0], 0, `${name} ${labels}`);
      l.dispose();
      assert.equal(tf.memory().numTensors, before, `${name} labels ${labels}: tensors leaked`);
    }
  }
  e4.dispose();
  e1.dispose();
});

test('losses: the temperature bound (1e-4): at it every loss is its float64 definition; below it getLoss refuses', async () => {
  await useBackend('cpu');
  const b = randomBatch(24, [0, 0, 1, 1, 2, 2, 3, 3], 16, 1);
  const n = b.labels.length;
  const d = b.raw.length / n;
  const rows = normalizeRows(b.raw, n, d);
  const t = 1e-4;
  // cosines / 1e-4 reach 1e4: still far under the −1e9 masks (at 1e-9 a masked self-pair counted)
  const refs: Record<string, number> = { infonce: refInfonce(rows, b.labels, t), milnce: refMilnce(rows, b.labels, t), supcon: refSupcon(rows, b.labels, t) };
  for (const [name, want] of Object.entries(refs)) {
    const got = tf.tidy(() => getLoss(name, { temperature: t })(l2Normalize(tf.tensor2d(b.raw, [n, d])), b.labels).dataSync()[0]!);
    assert.ok(Number.isFinite(got) && Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${name} T=${t}: ${got} vs float64 ${want}`);
  }
  for (const bad of [9.9e-5, 1e-9, 1e-40]) assert.throws(() => getLoss('milnce', { temperature: bad }), /temperature must be ≥ 0\.0001/);
});

test('losses: bad names and inputs are LogolabErrors', async () => {
  await useBackend('cpu');
  assert.throws(() => getLoss('arcface'), LogolabError);
  assert.throws(() => getLoss('infonce', { temperature: 0 }), LogolabError);
  const e = tf.ones([3, 4]) as tf.Tensor2D;
  assert.throws(() => getLoss('infonce')(e, Int32Array.from([0, 1])), /2 labels for 3 embeddings/);
  e.dispose();
});

test('losses: milnce gradient = central differences of the float64 loop reference, and milnce ≤ infonce', async () => {
  await useBackend('cpu');
  const b = randomBatch(11, [0, 0, 0, 1, 1, 2, 3, 3], 6);
  const n = b.labels.length;
  const d = b.raw.length / n;
  const rows = normalizeRows(b.raw, n, d);
  const t = 0.2;
  const got = tf.tidy(() => tf.grad((x: tf.Tensor) => getLoss('milnce', { temperature: t })(x as tf.Tensor2D, b.labels))(tf.tensor2d(rows.flat(), [n, d])).dataSync());
  const h = 1e-6;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      const plus = rows.map((r) => r.slice());
      const minus = rows.map((r) => r.slice());
      plus[i]![k]! += h;
      minus[i]![k]! -= h;
      const fd = (refMilnce(plus, b.labels, t) - refMilnce(minus, b.labels, t)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - got[i * d + k]!));
    }
  }
  assert.ok(worst <= 1e-4, `max |tf grad − finite difference| ${worst}`);
  // one near positive satisfies milnce, while infonce still pays for the far one
  for (const [bi, bb] of [randomBatch(12, [0, 0, 0, 1, 1, 2], 8), randomBatch(13, [4, 4, 5, 5, 5, 5], 8, 0.3)].entries()) {
    const e = normalizeRows(bb.raw, bb.labels.length, 8);
    assert.ok(refMilnce(e, bb.labels, t) <= refInfonce(e, bb.labels, t) + 1e-12, `batch ${bi}`);
  }
});
