import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { PARITY_BACKENDS, useBackend } from '../helpers.js';
import { makeRng } from '../../src/util/rng.js';
import * as tf from '@tensorflow/tfjs';
import { embeddingMetrics } from '../../training/validation.js';
import { validateModel } from '../../training/validate-model.js';
import { buildTrainableModel } from '../../training/model.js';
import { getLoss } from '../../training/losses/index.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';
import { embeddingMetricsLoop } from '../metrics/oracles.js';

function data(n: number, dim: number, classes: number, seed: number) {
  const r = makeRng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => r.normal()));
  const labels = Int32Array.from({ length: n }, () => r.int(classes));
  const e = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (e[i * dim + d] = centres[labels[i]!]![d]! + r.normal()) ** 2;
    for (let d = 0; d < dim; d++) e[i * dim + d]! /= Math.sqrt(s);
  }
  return { e, labels };
}

for (const backend of PARITY_BACKENDS) {
  describe(`validation metrics (${backend})`, () => {
    before(() => useBackend(backend));
    it('EmbeddingEvaluator metrics equal the loop reference', () => {
      const { e, labels } = data(60, 8, 7, 1);
      const a = embeddingMetrics(e, 8, labels);
      const b = embeddingMetricsLoop(e, 8, labels);
      for (const k of ['mean_pos_sim', 'mean_neg_sim', 'separation', 'recall_at_1', 'recall_at_5'] as const) assert.ok(Math.abs(a[k] - b[k]) < 1e-5, `${k}: ${a[k]} vs ${b[k]}`);
      assert.ok(a.separation > 0.1 && a.precision_at_1 > 0 && a.map_at_r > 0);
      assert.equal(embeddingMetrics(new Float32Array(4), 4, Int32Array.from([1])).separation, 0);
    });
  });
}

describe('validation pass (wasm)', () => {
  before(() => useBackend('wasm'));
  it('numTensors is steady when the validation batches have no positive pair (the losses return a connected zero)', async () => {
    // 2 items per brand: the validation half is one item per brand, so no batch has a positive pair
    const data = synthSource({ classes: 8, itemsPerClass: 2, size: 32, P: 2, K: 2, seed: 1 });
    const tm = await buildTrainableModel(cfg({ lora_r: 4, lora_alpha: 8, freeze_layers: 1 }));
    for (const name of ['infonce', 'supcon', 'triplet']) {
      const opts = { batchSize: 4, valBatches: 10 };
      await validateModel(tm, data, getLoss(name), opts); // warm-up (kernels, caches)
      const before = tf.memory().numTensors;
      for (let k = 0; k < 3; k++) {
        const v = (await validateModel(tm, data, getLoss(name), opts))!;
        assert.deepEqual([v.images, v.noPairs, v.loss], [8, true, 0]);
      }
      assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked by validation`);
    }
    tm.dispose();
  });
});
