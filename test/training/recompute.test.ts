import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend, maxAbsDiff, maxAbs, expectNoLeak } from '../helpers.js';
import { buildVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import { applyLora, activeSites } from '../../src/models/lora/index.js';
import { createHead, type EmbeddingHead } from '../../src/models/heads.js';
import { makeRng } from '../../src/util/rng.js';
import { getLoss } from '../../training/losses/index.js';
import { lossAndGrads, type LossAndGrads } from '../../training/recompute.js';
import { visionGraph } from '../../training/vision_graph.js';
import { LogolabError } from '../../src/errors.js';

const LABELS = Int32Array.from([0, 0, 1, 1, 2, 2]);

function step(m: VisionModel, head: EmbeddingHead, x: tf.Tensor4D, recompute: boolean, seed: number | null): LossAndGrads {
  const rng = seed === null ? null : makeRng(seed);
  const ctx = rng ? { training: true, nextSeed: () => rng.seed() } : { training: false };
  return lossAndGrads(visionGraph(m, head, x, LABELS, getLoss('combined')), { recompute, ctx });
}

function dispose(r: LossAndGrads): void {
  r.loss.dispose();
  for (const t of Object.values(r.grads)) t.dispose();
}

function compare(a: LossAndGrads, b: LossAndGrads): number {
  assert.deepEqual(Object.keys(a.grads).sort(), Object.keys(b.grads).sort());
  assert.ok(Math.abs(a.loss.dataSync()[0]! - b.loss.dataSync()[0]!) <= 1e-6);
  let worst = 0;
  for (const k of Object.keys(a.grads)) {
    const ga = a.grads[k]!.dataSync();
    const gb = b.grads[k]!.dataSync();
    assert.ok(maxAbs(ga) > 0, `${k}: zero gradient`);
    worst = Math.max(worst, maxAbsDiff(ga, gb) / maxAbs(ga));
  }
  return worst;
}

for (const backend of ['wasm', 'cpu']) {
  test(`recompute: gradients equal the plain path (LoRA on all targets of layers ≥ 1, dropout, projection head) [${backend}]`, async () => {
    await useBackend(backend);
    const m = buildVisionModel('clip', 'tiny', 'random', 11);
    const x = tf.randomNormal([6, 3, 32, 32], 0, 1, 'float32', 12) as tf.Tensor4D;
    const head = createHead('projection', m, 3);
    try {
      applyLora(m, { r: 4, lora_alpha: 8, lora_dropout: 0.1, freeze_layers: 1, target_modules: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] });
      // B ≠ 0 so every A gets a non-zero gradient
      for (const s of activeSites(m)) tf.tidy(() => s.lora.B.assign(tf.randomNormal(s.lora.B.shape, 0, 0.05, 'float32', 13)));
      await expectNoLeak(() => {
        const plain = step(m, head, x, false, 5);
        const rec = step(m, head, x, true, 5);
        const worst = compare(plain, rec);
        if (process.env.LOGOLAB_VERBOSE) console.log(`[${backend}] recompute vs plain (dropout on): worst max abs err ${worst.toExponential(2)} × max|g| over ${Object.keys(plain.grads).length} tensors`);
        assert.ok(worst <= 1e-5, `worst relative gradient error ${worst}`);
        assert.equal(Object.keys(plain.grads).length, 3 * 6 * 2 + 4);
        // dropout really is active (a different seed gives a different loss)
        const other = step(m, head, x, true, 6);
        assert.notEqual(other.loss.dataSync()[0], rec.loss.dataSync()[0]);
        for (const r of [plain, rec, other]) dispose(r);
      });
    } finally {
      x.dispose();
      head.dispose();
      m.dispose();
    }
  });
}

test('recompute: lower peak memory than the plain path (tf.profile peakBytes)', async () => {
  await useBackend('wasm');
  const m = buildVisionModel('clip', { hidden_size: 64, num_hidden_layers: 6, num_attention_heads: 4, intermediate_size: 256, patch_size: 4, image_size: 32, projection_dim: 24 }, 'random', 1);
  const x = tf.randomNormal([6, 3, 32, 32], 0, 1, 'float32', 2) as tf.Tensor4D;
  const head = createHead('clip', m);
  try {
    applyLora(m, { r: 4, lora_alpha: 8, lora_dropout: 0, freeze_layers: 0 });
    const peak: Record<string, number> = {};
    for (const recompute of [false, true]) {
      let r: LossAndGrads | null = null;
      const info = await tf.profile(() => {
        r = step(m, head, x, recompute, null);
        return [r.loss, ...Object.values(r.grads)];
      });
      dispose(r!);
      peak[String(recompute)] = info.peakBytes;
    }
    if (process.env.LOGOLAB_VERBOSE) console.log(`peak bytes (6 layers, T=65, batch 6): plain ${peak.false}, recompute ${peak.true}`);
    assert.ok(peak.true! < 0.6 * peak.false!, `recompute peak ${peak.true} vs plain ${peak.false}`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('recompute: head-only training works in both paths; nothing to train is an error', async () => {
  await useBackend('cpu');
  const m = buildVisionModel('clip', 'tiny', 'random', 4);
  const x = tf.randomNormal([6, 3, 32, 32], 0, 1, 'float32', 5) as tf.Tensor4D;
  const head = createHead('projection', m, 1);
  try {
    const a = step(m, head, x, false, null);
    const b = step(m, head, x, true, null);
    assert.ok(compare(a, b) <= 1e-6);
    assert.equal(Object.keys(a.grads).length, 4);
    dispose(a);
    dispose(b);
    const clip = createHead('clip', m);
    assert.throws(() => step(m, clip, x, true, null), LogolabError);
    assert.throws(() => step(m, clip, x, false, null), LogolabError);
  } finally {
    x.dispose();
    head.dispose();
    m.dispose();
  }
});

test('recompute: recomputeGradFn (trainer GradFn) = plain lossAndGrads for LoRA and for full training incl. embeddings', async () => {
  await useBackend('cpu');
  const { recomputeGradFn } = await import('../../training/vision_graph.js');
  const { lossAndGrads: plainGradFn } = await import('../../training/grads.js');
  const { makeFullyTrainable } = await import('../../training/model.js');
  const x = tf.randomNormal([6, 3, 32, 32], 0, 1, 'float32', 21) as tf.Tensor4D;
  const objective = (e: tf.Tensor2D) => getLoss('infonce', { temperature: 0.1 })(e, LABELS);
  const cases: [string, () => { model: VisionModel; params: Map<string, tf.Variable> }][] = [
    ['lora', () => {
      const model = buildVisionModel('clip', 'tiny', 'random', 22);
      applyLora(model, { r: 2, lora_alpha: 4, lora_dropout: 0.2, freeze_layers: 2 });
      for (const s of activeSites(model)) tf.tidy(() => s.lora.B.assign(tf.randomNormal(s.lora.B.shape, 0, 0.05, 'float32', 23)));
      const params = new Map<string, tf.Variable>();
      for (const s of activeSites(model)) {
        params.set(`${s.layer}.${s.target}.A`, s.lora.A);
        params.set(`${s.layer}.${s.target}.B`, s.lora.B);
      }
      return { model, params };
    }],
    ['full', () => makeFullyTrainable(buildVisionModel('clip', 'tiny', 'random', 24), () => true)],
  ];
  for (const [what, make] of cases) {
    const { model, params } = make();
    try {
      await expectNoLeak(() => {
        const ctx = (seed: number) => {
          const rng = makeRng(seed);
          return { training: true, nextSeed: () => rng.seed() };
        };
        const a = plainGradFn(model, params, x, objective, ctx(1));
        const b = recomputeGradFn(model, params, x, objective, ctx(1));
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-6, `${what}: loss ${a.loss} vs ${b.loss}`);
        assert.deepEqual([...b.grads.keys()], [...params.keys()]);
        let worst = 0;
        for (const [k, ga] of a.grads) {
          const da = ga.dataSync();
          const db = b.grads.get(k)!.dataSync();
          const m = maxAbs(da);
          worst = Math.max(worst, m === 0 ? maxAbs(db) : maxAbsDiff(da, db) / m);
        }
        if (process.env.LOGOLAB_VERBOSE) console.log(`${what}: recomputeGradFn vs plain: worst ${worst.toExponential(2)} × max|g| over ${params.size} tensors`);
        assert.ok(worst <= 1e-5, `${what}: worst ${worst}`);
        for (const r of [a, b]) for (const t of r.grads.values()) t.dispose();
      });
    } finally {
      model.dispose();
    }
  }
  x.dispose();
});

test('recompute: the installed BatchMatMul gradient (explicit transposes) = loop-based gradients, all transpose cases, rank 2 and 3', async () => {
  for (const backend of ['wasm', 'cpu']) {
    await useBackend(backend);
    const rng = makeRng(31);
    for (const batch of [0, 2]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const [m, k, n] = [3, 4, 5];
          const bs = batch || 1;
          const rnd = (len: number) => Float32Array.from({ length: len }, () => rng.normal());
          const shapeA = ta ? [k, m] : [m, k];
          const shapeB = tb ? [n, k] : [k, n];
          const A = rnd(bs * m * k);
          const B = rnd(bs * k * n);
          const W = rnd(bs * m * n);
          const at = (arr: Float32Array, z: number, r: number, c: number, cols: number, rows: number) => arr[z * rows * cols + r * cols + c]!;
          // op(A)[i][p], op(B)[p][j]
          const opA = (z: number, i: number, p: number) => (ta ? at(A, z, p, i, m, k) : at(A, z, i, p, k, m));
          const opB = (z: number, p: number, j: number) => (tb ? at(B, z, j, p, k, n) : at(B, z, p, j, n, k));
          const dA = new Float32Array(A.length);
          const dB = new Float32Array(B.length);
          for (let z = 0; z < bs; z++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) {
            const w = W[z * m * n + i * n + j]!;
            // dL/dop(A)[i][p] += w·op(B)[p][j]; map back through the transpose
            const ia = ta ? z * k * m + p * m + i : z * m * k + i * k + p;
            dA[ia]! += w * opB(z, p, j);
            const ib = tb ? z * n * k + j * k + p : z * k * n + p * n + j;
            dB[ib]! += w * opA(z, i, p);
          }
          const pre = batch ? [bs] : [];
          const [ga, gb] = tf.tidy(() => {
            const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, ta, tb), tf.tensor(W, [...pre, m, n]))));
            return g([tf.tensor(A, [...pre, ...shapeA]), tf.tensor(B, [...pre, ...shapeB])]).map((x) => x.dataSync());
          });
          assert.ok(maxAbsDiff(ga!, dA) <= 1e-4 && maxAbsDiff(gb!, dB) <= 1e-4, `${backend} batch=${batch} ta=${ta} tb=${tb}`);
        }
      }
    }
  }
});
