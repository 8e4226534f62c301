import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, PARITY_BACKENDS, expectNoLeak, maxAbsDiff, useBackend } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadVisionModel, type LoadReport } from '../../src/models/vision/index.js';

const TOL = 1e-4;
const io = readSafetensors(join(FIXTURES, 'clip_tiny/io.safetensors'));
const ref = (k: string) => io.get(k)!.data as Float32Array;
const pixels = () => tf.tensor4d(ref('pixel_values'), io.get('pixel_values')!.shape as [number, number, number, number]);

for (const backend of PARITY_BACKENDS) {
  test(`clip_tiny (full CLIPModel checkpoint) matches transformers on ${backend}`, async () => {
    await useBackend(backend);
    let report: LoadReport | undefined;
    const m = await loadVisionModel(join(FIXTURES, 'clip_tiny/model'), { quiet: true, report: (r) => (report = r) });
    try {
      assert.equal(m.family, 'clip');
      assert.equal(m.config.projection_dim, 24);
      // the text tower and logit_scale are ignored and reported
      assert.ok(report!.unused.includes('logit_scale'));
      assert.ok(report!.unused.includes('text_projection.weight'));
      assert.ok(report!.unused.some((k) => k.startsWith('text_model.')));
      assert.ok(!report!.unused.some((k) => k.startsWith('vision_model.') || k === 'visual_projection.weight'));
      const x = pixels();
      const out = m.forward(x, { training: false, outputHiddenStates: true });
      const errs: Record<string, number> = {};
      out.hiddenStates!.forEach((h, i) => (errs[`hidden_states.${i}`] = maxAbsDiff(h.dataSync(), ref(`hidden_states.${i}`))));
      errs.last_hidden_state = maxAbsDiff(out.lastHiddenState.dataSync(), ref('last_hidden_state'));
      errs.pooler_output = maxAbsDiff(out.poolerOutput.dataSync(), ref('pooler_output'));
      errs.image_embeds = maxAbsDiff(out.imageEmbeds.dataSync(), ref('image_embeds'));
      const normed = tf.tidy(() => tf.div(out.imageEmbeds, tf.norm(out.imageEmbeds, 2, 1, true)));
      errs.image_embeds_normalized = maxAbsDiff(normed.dataSync(), ref('image_embeds_normalized'));
      console.log(`clip_tiny ${backend} max abs err: ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
      for (const [k, v] of Object.entries(errs)) assert.ok(v <= TOL, `${k}: max abs err ${v} > ${TOL}`);
      assert.equal(out.hiddenStates!.length, 5);
      tf.dispose([out.hiddenStates!, out.lastHiddenState, out.poolerOutput, out.imageEmbeds, normed]);
      // repeated forwards do not leak
      await expectNoLeak(() => {
        for (let i = 0; i < 3; i++) tf.dispose(Object.values(m.forward(x)) as tf.Tensor[]);
      });
      // per-layer path (what the trainer's block recomputation uses) = forward
      const viaLayers = tf.tidy(() => {
        let h = m.embeddings(x);
        for (const l of m.layers) h = l.forward(h);
        return m.project(m.pool(h).poolerOutput);
      });
      assert.ok(maxAbsDiff(viaLayers.dataSync(), ref('image_embeds')) <= TOL);
      viaLayers.dispose();
      x.dispose();
    } finally {
      m.dispose();
    }
  });
}

test('CLIPVisionModelWithProjection checkpoint (lora/merged) loads with its projection', async () => {
  await useBackend('wasm');
  let report: LoadReport | undefined;
  const m = await loadVisionModel(join(FIXTURES, 'lora/merged'), { quiet: true, report: (r) => (report = r) });
  try {
    assert.equal(m.config.projection_dim, 24);
    assert.deepEqual(report!.unused, []);
    assert.equal(report!.prefix, 'vision_model.');
    const lio = readSafetensors(join(FIXTURES, 'lora/io.safetensors'));
    const px = lio.get('pixel_values')!;
    const out = tf.tidy(() => m.forward(tf.tensor4d(px.data as Float32Array, px.shape as [number, number, number, number])).imageEmbeds);
    const err = maxAbsDiff(out.dataSync(), lio.get('image_embeds_merged')!.data);
    console.log(`lora/merged image_embeds max abs err ${err.toExponential(2)}`);
    assert.ok(err <= TOL);
    out.dispose();
  } finally {
    m.dispose();
  }
});
