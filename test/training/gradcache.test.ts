import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PARITY_BACKENDS, useBackend, maxAbsDiff, maxAbs, expectNoLeak } from '../helpers.js';
import { makeRng } from '../../src/util/rng.js';
import { buildVisionModel } from '../../src/models/vision/index.js';
import { applyLora, activeSites } from '../../src/models/lora/apply.js';
import { getLoss } from '../../training/losses/index.js';
import { lossAndGrads } from '../../training/grads.js';
import { cachedLossAndGrads } from '../../training/gradcache.js';
import { makeFullyTrainable, fullTrainable } from '../../training/model.js';

const INFER = { training: false };

// not on webgpu: ~40 s of shader compilation over Mesa for a same-backend consistency check; the
// trainer's webgpu path is covered by trainer-webgpu.test.ts and the LoRA/loss parity suites
for (const backend of PARITY_BACKENDS.filter((b) => b !== 'webgpu')) {
  describe(`GradCache (contrastive_batch: cached) (${backend})`, () => {
    before(() => useBackend(backend));

    for (const lossName of ['infonce', 'supcon'] as const) {
      it(`cached gradients equal full-batch gradients ≤1e-5 (${lossName}, LoRA)`, async () => {
        const model = buildVisionModel('clip', 'tiny', 'random', 3);
        applyLora(model, { r: 4, lora_alpha: 8, lora_dropout: 0, freeze_layers: 2, seed: 1 });
        const params = new Map<string, tf.Variable>();
        for (const s of activeSites(model)) {
          params.set(`${s.layer}.${s.target}.A`, s.lora.A);
          params.set(`${s.layer}.${s.target}.B`, s.lora.B);
        }
        // non-zero B so gradients of A are non-trivial
        const rng = makeRng(5);
        for (const [n, v] of params) if (n.endsWith('.B')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', rng.seed())));
        const n = 12;
        const pixels = tf.randomNormal([n, 3, 32, 32], 0, 1, 'float32', 11) as tf.Tensor4D;
        const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
        const lossFn = getLoss(lossName, { temperature: 0.1 });
        await expectNoLeak(() => {
          const full = lossAndGrads(model, params, pixels, (e) => lossFn(e, labels), INFER);
          const chunks = [0, 4, 8].map((s) => ({ pixels: pixels.slice([s, 0, 0, 0], [4, 3, 32, 32]) as tf.Tensor4D }));
          const cached = cachedLossAndGrads(model, params, chunks, labels, lossFn, () => INFER);
          for (const c of chunks) c.pixels.dispose();
          assert.ok(Math.abs(full.loss - cached.loss) < 1e-5, `loss ${full.loss} vs ${cached.loss}`);
          let worst = 0;
          let scale = 0;
          for (const [name, g] of full.grads) {
            const a = g.dataSync();
            const b = cached.grads.get(name)!.dataSync();
            worst = Math.max(worst, maxAbsDiff(a, b));
            scale = Math.max(scale, maxAbs(a));
          }
          assert.ok(scale > 1e-4, `gradients are not trivially zero (max ${scale})`);
          assert.ok(worst <= 1e-5, `max |Δgrad| ${worst}`);
          console.log(`# ${backend} ${lossName}: cached vs full-batch max |Δgrad| ${worst.toExponential(2)} (max |grad| ${scale.toExponential(2)}), |Δloss| ${Math.abs(full.loss - cached.loss).toExponential(2)}`);
          for (const g of full.grads.values()) g.dispose();
          for (const g of cached.grads.values()) g.dispose();
        });
        pixels.dispose();
        model.dispose();
      });
    }

    it('cached == full batch for full training (all weights variables)', async () => {
      const { model, params } = makeFullyTrainable(buildVisionModel('clip', 'tiny', 'random', 4), (n) => fullTrainable(n, 3));
      assert.ok(params.has('visual_projection.weight') && params.has('encoder.layers.3.self_attn.q_proj.weight') && !params.has('encoder.layers.2.mlp.fc1.weight'));
      const pixels = tf.randomNormal([8, 3, 32, 32], 0, 1, 'float32', 12) as tf.Tensor4D;
      const labels = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
      const lossFn = getLoss('infonce', { temperature: 0.07 });
      const full = lossAndGrads(model, params, pixels, (e) => lossFn(e, labels), INFER);
      const chunks = [0, 3, 6].map((s, i) => ({ pixels: pixels.slice([s, 0, 0, 0], [i === 2 ? 2 : 3, 3, 32, 32]) as tf.Tensor4D }));
      const cached = cachedLossAndGrads(model, params, chunks, labels, lossFn, () => INFER);
      let worst = 0;
      for (const [name, g] of full.grads) worst = Math.max(worst, maxAbsDiff(g.dataSync(), cached.grads.get(name)!.dataSync()));
      assert.ok(worst <= 1e-5, `max |Δgrad| ${worst}`);
      for (const g of [...full.grads.values(), ...cached.grads.values(), ...chunks.map((c) => c.pixels), pixels]) g.dispose();
      model.dispose();
    });
  });
}
