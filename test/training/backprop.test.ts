import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeak, useBackend } from '../helpers.js';
import { buildVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import { activeSites, applyLora, loraVariables } from '../../src/models/lora/index.js';
import { applyLinear, type Linear } from '../../src/models/layers.js';
import { makeRng } from '../../src/util/rng.js';
import { gradients, variableGrads, type TapeStats } from '../../training/backprop.js';

/** LoRA on q/v of the upper half; B ≠ 0 so every adapter gets a non-zero gradient. */
function loraModel(seed: number, conf: Record<string, number> | 'tiny' = 'tiny', dropout = 0.1): VisionModel {
  const m = buildVisionModel('clip', conf as never, 'random', seed);
  applyLora(m, { r: 4, lora_alpha: 8, lora_dropout: dropout, freeze_layers: m.config.num_hidden_layers >> 1 });
  for (const s of activeSites(m)) tf.tidy(() => s.lora.B.assign(tf.randomNormal(s.lora.B.shape, 0, 0.05, 'float32', seed + 1)));
  return m;
}

function loss(m: VisionModel, x: tf.Tensor4D, seed: number): () => tf.Scalar {
  return () => {
    const rng = makeRng(seed);
    const out = m.forward(x, { training: true, nextSeed: () => rng.seed() });
    return tf.sum(tf.square(tf.sub(out.imageEmbeds, 0.1)));
  };
}

for (const backend of ['cpu', 'wasm']) {
  test(`backprop: variableGrads equals tf.variableGrads bit for bit (LoRA ViT with dropout) [${backend}]`, async () => {
    await useBackend(backend);
    const m = loraModel(3);
    const x = tf.randomNormal([3, 3, 32, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
    try {
      await expectNoLeak(() => {
        const vars = loraVariables(m);
        const ref = tf.variableGrads(loss(m, x, 9), vars);
        const lean = variableGrads(loss(m, x, 9), vars);
        assert.equal(lean.value.dataSync()[0], ref.value.dataSync()[0]);
        assert.deepEqual(Object.keys(lean.grads).sort(), Object.keys(ref.grads).sort());
        for (const k of Object.keys(ref.grads)) assert.deepEqual(lean.grads[k]!.dataSync(), ref.grads[k]!.dataSync(), k);
        tf.dispose([ref.value, lean.value, ...Object.values(ref.grads), ...Object.values(lean.grads)]);
      });
    } finally {
      x.dispose();
      m.dispose();
    }
  });
}

test('backprop: gradients with a given dy, duplicated inputs, multi-output kernels, unreachable xs', async () => {
  await useBackend('cpu');
  const a = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 1));
  const b = tf.variable(tf.randomNormal([6, 3], 0, 1, 'float32', 2));
  const unused = tf.variable(tf.ones([2]));
  const dy = tf.randomNormal([2, 3], 0, 1, 'float32', 3);
  try {
    await expectNoLeak(() => {
      const f = () => {
        const [top, bottom] = tf.split(tf.matMul(tf.mul(a, a), b), 2, 0) as [tf.Tensor, tf.Tensor]; // x·x (one input twice), split (two outputs, one used)
        tf.keep(bottom).dispose();
        return tf.sigmoid(top);
      };
      const ref = tf.engine().gradients(f, [a, b, unused], dy, true);
      const lean = gradients(f, [a, b, unused], dy);
      assert.deepEqual(lean.value.dataSync(), ref.value.dataSync());
      assert.deepEqual(lean.grads[0]!.dataSync(), ref.grads[0]!.dataSync());
      assert.deepEqual(lean.grads[1]!.dataSync(), ref.grads[1]!.dataSync());
      assert.equal(lean.grads[2], null);
      assert.equal(dy.isDisposed, false, 'the caller’s dy is the caller’s');
      tf.dispose([ref.value, lean.value, ...ref.grads.filter((g) => g), ...lean.grads.filter((g): g is tf.Tensor => g !== null)]);
    });
  } finally {
    tf.dispose([a, b, unused, dy]);
  }
});

test('backprop: an error in f leaves the engine usable; inside another tape it defers to tfjs', async () => {
  await useBackend('cpu');
  const v = tf.variable(tf.scalar(3));
  try {
    await expectNoLeak(() => {
      assert.throws(() => gradients(() => {
        tf.square(v);
        throw new Error('boom');
      }, [v]), /boom/);
      const g = gradients(() => tf.square(v), [v]);
      assert.equal(g.grads[0]!.dataSync()[0], 6);
      tf.dispose([g.value, g.grads[0]!]);
      // second order: d/dv (d/dv v³) = 6v, through tf.grad around our gradients
      const second = tf.grad((x: tf.Tensor) => {
        const inner = gradients(() => tf.pow(x, 3) as tf.Scalar, [x]);
        inner.value.dispose();
        return inner.grads[0]!;
      })(v);
      assert.ok(Math.abs(second.dataSync()[0]! - 18) < 1e-4);
      second.dispose();
      // a gradient taken inside f sees the whole tape (same result as tfjs's own)
      const c = tf.scalar(3);
      const f = () => {
        const w = tf.mul(v, 2);
        const dw = tf.grad((u: tf.Tensor) => tf.square(tf.mul(u, c)))(w); // 2·c²·w
        return tf.mul(v, dw) as tf.Scalar;
      };
      const inner = gradients(f, [v]);
      const ref = tf.engine().gradients(f, [v], undefined, true);
      assert.equal(inner.value.dataSync()[0], 36 * 9);
      assert.equal(inner.grads[0]!.dataSync()[0], ref.grads[0]!.dataSync()[0]);
      tf.dispose([ref.value, ref.grads[0]!]);
      tf.dispose([c, inner.value, inner.grads[0]!]);
    });
  } finally {
    v.dispose();
  }
});

test('backprop: frozen layers are not recorded, and the tape holds far less than tfjs’s (peak bytes)', async () => {
  await useBackend('cpu');
  const m = loraModel(5, { hidden_size: 64, num_hidden_layers: 6, num_attention_heads: 4, intermediate_size: 256, patch_size: 4, image_size: 32, projection_dim: 24 }, 0);
  const x = tf.randomNormal([4, 3, 32, 32], 0, 1, 'float32', 6) as tf.Tensor4D;
  try {
    const vars = loraVariables(m);
    const peak: Record<string, number> = {};
    const stats: TapeStats = { recorded: 0, skipped: 0, savedBytes: 0 };
    for (const which of ['tfjs', 'lean'] as const) {
      let r: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
      const info = await tf.profile(() => {
        r = which === 'tfjs' ? tf.variableGrads(loss(m, x, 1), vars) : variableGrads(loss(m, x, 1), vars, stats);
        return [r.value, ...Object.values(r.grads)];
      });
      tf.dispose([r!.value, ...Object.values(r!.grads)]);
      peak[which] = info.peakBytes - tf.memory().numBytes;
    }
    if (process.env.LOGOLAB_VERBOSE) console.log(`peak bytes above weights: tfjs ${peak.tfjs}, lean ${peak.lean}; tape ${JSON.stringify(stats)}`);
    // the stem and the 3 frozen layers ran under the tape without being recorded
    assert.ok(stats.skipped > 30 && stats.recorded > 0, JSON.stringify(stats));
    // per adapted layer the tape keeps x and h (the layer norms' inputs), the adapters' input (the
    // normalised x), q, k, v, the attention probabilities and the MLP pre-activation: with T = 65,
    // D = 64, MLP 256, 4 heads, batch 4 that is 4·65·(6·64 + 256) + 4·4·65² floats = 936 KB. Not the
    // frozen Linears' inputs, not the buffers behind reshapes and residual adds.
    const perLayer = 4 * (4 * 65 * (6 * 64 + 256) + 4 * 4 * 65 * 65);
    // (+ small ones: layer norm statistics, the adapters’ rank-r activations, the pooled tokens)
    assert.ok(stats.savedBytes >= 3 * perLayer && stats.savedBytes <= 3 * perLayer + 32768, `saved ${stats.savedBytes} B for 3 layers (expected ${3 * perLayer} + small ones)`);
    assert.ok(peak.lean! < 0.5 * peak.tfjs!, `peak: lean ${peak.lean} vs tfjs ${peak.tfjs}`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('applyLinear: a frozen Linear is one op with dx = dy·Wᵀ (same values and input gradient as the plain ops)', async () => {
  for (const backend of ['cpu', 'wasm']) {
    await useBackend(backend);
    const w = tf.randomNormal([5, 7], 0, 1, 'float32', 1) as tf.Tensor2D, b = tf.randomNormal([7], 0, 1, 'float32', 2) as tf.Tensor1D;
    const x = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 3);
    const l: Linear = { weight: w, bias: b, lora: null };
    try {
      await expectNoLeak(() => {
        const stats: TapeStats = { recorded: 0, skipped: 0, savedBytes: 0 };
        const lean = gradients(() => tf.sum(tf.sin(applyLinear(x, l, { training: true }))), [x], undefined, stats);
        const ref = tf.engine().gradients(() => tf.sum(tf.sin(tf.add(tf.matMul(x.reshape([6, 5]), w), b).reshape([2, 3, 7]))), [x], undefined, true);
        assert.deepEqual(lean.value.dataSync(), ref.value.dataSync());
        assert.deepEqual(lean.grads[0]!.dataSync(), ref.grads[0]!.dataSync());
        // saved: only sin's input [2, 3, 7] (the linear keeps neither x nor W; sum and the reshapes keep shapes)
        assert.equal(stats.savedBytes, 2 * 3 * 7 * 4, backend);
        tf.dispose([lean.value, ref.value, lean.grads[0]!, ref.grads[0]!]);
      });
    } finally {
      tf.dispose([w, b, x]);
    }
  }
});
