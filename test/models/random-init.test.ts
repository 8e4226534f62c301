/** random_init 'clip': HF CLIP's per-layer standard deviations for presets trained from scratch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../helpers.js';
import { buildVisionModel } from '../../src/models/vision/index.js';
import { loadBaseModel } from '../../training/model.js';

const CFG = { image_size: 32, patch_size: 8, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128, projection_dim: 32 };

function std(v: Float32Array): number {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return Math.sqrt(s / v.length);
}

test("random_init 'clip': per-tensor std as HF CLIPPreTrainedModel._init_weights; default init unchanged", async () => {
  await useBackend('cpu');
  const d = 64, deep = (2 * 2) ** -0.5;
  const want: Record<string, number> = {
    'embeddings.class_embedding': d ** -0.5,
    'embeddings.patch_embedding.weight': 0.02,
    'embeddings.position_embedding.weight': 0.02,
    'encoder.layers.0.self_attn.q_proj.weight': d ** -0.5 * deep,
    'encoder.layers.1.self_attn.v_proj.weight': d ** -0.5 * deep,
    'encoder.layers.0.self_attn.out_proj.weight': d ** -0.5,
    'encoder.layers.1.mlp.fc1.weight': (2 * d) ** -0.5,
    'encoder.layers.0.mlp.fc2.weight': d ** -0.5 * deep,
    'visual_projection.weight': d ** -0.5,
  };
  const clip = buildVisionModel('clip', CFG, 'random', 3, { init: 'clip' });
  const plain = buildVisionModel('clip', CFG, 'random', 3);
  try {
    const got = new Map(clip.namedTensors().map(([k, t]) => [k, t.dataSync() as Float32Array]));
    for (const [k, s] of Object.entries(want)) {
      const v = got.get(k);
      assert.ok(v, `no tensor ${k}`);
      assert.ok(Math.abs(std(v) - s) < 0.12 * s, `${k}: std ${std(v)} vs ${s}`);
    }
    assert.ok(got.get('encoder.layers.0.self_attn.q_proj.bias')!.every((x) => x === 0));
    assert.ok(got.get('post_layernorm.weight')!.every((x) => x === 1));
    for (const [k, t] of plain.namedTensors()) if (k.endsWith('proj.weight')) assert.ok(Math.abs(std(t.dataSync() as Float32Array) - 0.02) < 0.003, `default init of ${k}`);
  } finally {
    clip.dispose();
    plain.dispose();
  }
  assert.throws(() => buildVisionModel('dinov2', 'tiny', 'random', 0, { init: 'clip' }), /CLIP family/);
  await assert.rejects(loadBaseModel({ base_model: 'models/logolab-tiny-clip', seed: 0, preprocess_mode: 'default', vision_config: {}, random_init: 'clip' }), /random_init: only applies to base_model preset/);
});
