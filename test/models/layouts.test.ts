// The key maps proven on the real checkpoints' layouts (names + shapes, no weights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { visionConfigFromHf } from '../../src/models/vision/config.js';
import { planLoad } from '../../src/models/vision/index.js';
import { presetConfig } from '../../src/models/vision/presets.js';
import { LogolabError } from '../../src/errors.js';

function layout(name: string) {
  const j = JSON.parse(readFileSync(join(FIXTURES, 'layouts', name), 'utf8')) as { config: Record<string, unknown>; state_dict_shapes: Record<string, number[]> };
  const shapes = j.state_dict_shapes;
  return { config: j.config, shapes, keys: Object.keys(shapes), info: (k: string) => ({ shape: shapes[k]! }) };
}

test('clip-vit-large-patch14 layout: every vision key mapped, 303,966,208 parameters, text tower reported', () => {
  const l = layout('clip-vit-large-patch14.json');
  const { config } = visionConfigFromHf(l.config, 'clip-vit-large-patch14/config.json');
  assert.equal(config.hidden_size, 1024);
  assert.equal(config.projection_dim, 768);
  const plan = planLoad(config, l.keys, l.info, 'clip-vit-large-patch14', { requireProjection: true });
  assert.equal(plan.parameters, 303_966_208);
  assert.equal(plan.layout.prefix, 'vision_model.');
  // everything not used is the text tower, its projection or logit_scale
  assert.ok(plan.unused.length > 0);
  for (const k of plan.unused) assert.match(k, /^(text_model\.|text_projection\.weight$|logit_scale$)/);
  // every vision key is used
  const used = new Set(plan.entries.map((e) => e.key));
  for (const k of l.keys) if (k.startsWith('vision_model.') || k.startsWith('visual_projection.')) assert.ok(used.has(k), k);
  assert.equal(used.size, plan.entries.length);
  // the vit-l14 preset has exactly these shapes
  const p = planLoad(presetConfig('clip', 'vit-l14'), l.keys, l.info, 'preset');
  assert.equal(p.parameters, 303_966_208);
  // position_ids buffers of older checkpoints are reported, not an error
  const withIds = [...l.keys, 'vision_model.embeddings.position_ids'];
  const info2 = (k: string) => (k.endsWith('position_ids') ? { shape: [1, 257] } : l.info(k));
  assert.ok(planLoad(config, withIds, info2, 'old').unused.includes('vision_model.embeddings.position_ids'));
});

test('clip layout: a missing key or a wrong shape is an error naming the key', () => {
  const l = layout('clip-vit-large-patch14.json');
  const { config } = visionConfigFromHf(l.config, 'cfg');
  const missing = l.keys.filter((k) => k !== 'vision_model.encoder.layers.7.mlp.fc1.bias');
  assert.throws(() => planLoad(config, missing, l.info, 'ckpt'), (e: Error) => e instanceof LogolabError && /ckpt: missing tensor 'vision_model\.encoder\.layers\.7\.mlp\.fc1\.bias'/.test(e.message));
  const badInfo = (k: string) => (k === 'vision_model.encoder.layers.3.self_attn.q_proj.weight' ? { shape: [1024, 1023] } : l.info(k));
  assert.throws(() => planLoad(config, l.keys, badInfo, 'ckpt'), /ckpt: tensor 'vision_model\.encoder\.layers\.3\.self_attn\.q_proj\.weight' has shape \[1024,1023\], expected \[1024,1024\]/);
  const noProj = l.keys.filter((k) => k !== 'visual_projection.weight');
  assert.throws(() => planLoad(config, noProj, l.info, 'ckpt', { requireProjection: true }), /missing tensor 'visual_projection\.weight'/);
  // a CLIPVisionModel checkpoint (no projection) loads without it
  assert.equal(planLoad(config, noProj, l.info, 'ckpt').config.projection_dim, null);
});

test('encoder tensors the config does not describe are an error, not a silently shallower or different model', () => {
  const l = layout('clip-vit-large-patch14.json');
  const { config } = visionConfigFromHf(l.config, 'cfg');
  // a config with 23 of the checkpoint's 24 layers would drop layer 23
  assert.throws(() => planLoad({ ...config, num_hidden_layers: 23 }, l.keys, l.info, 'ckpt'), (e: Error) => e instanceof LogolabError && e.message === 'ckpt: holds encoder layer 23 (16 tensors beyond the config), but config num_hidden_layers is 23; the model would silently run without them');
  // a part of a layer this architecture lacks (e.g. a norm added inside attention)
  const extra = [...l.keys, 'vision_model.encoder.layers.5.self_attn.q_norm.weight'];
  assert.throws(() => planLoad(config, extra, (k) => (k.endsWith('q_norm.weight') ? { shape: [64] } : l.info(k)), 'ckpt'), /ckpt: tensor 'vision_model\.encoder\.layers\.5\.self_attn\.q_norm\.weight' \(1 in all\) is not part of the clip encoder layer/);
  // the text tower's layers are not the vision encoder's
  assert.ok(planLoad(config, l.keys, l.info, 'ckpt').unused.some((k) => /^text_model\.encoder\.layers\.\d+\./.test(k)));
  // nor for DINOv2 without a prefix
  const d = layout('dinov2-base.json');
  const dc = visionConfigFromHf(d.config, 'cfg').config;
  assert.throws(() => planLoad({ ...dc, num_hidden_layers: 11 }, d.keys, d.info, 'dino'), /dino: holds encoder layer 11 \(\d+ tensors beyond the config\), but config num_hidden_layers is 11/);
});

test('dinov2-base layout: every key mapped (mask_token reported), 86.6M parameters', () => {
  const l = layout('dinov2-base.json');
  const { config } = visionConfigFromHf(l.config, 'dinov2-base/config.json');
  assert.equal(config.intermediate_size, 3072);
  assert.equal(config.image_size, 518);
  const plan = planLoad(config, l.keys, l.info, 'dinov2-base');
  assert.deepEqual(plan.unused, ['embeddings.mask_token']);
  const total = Object.values(l.shapes).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  assert.equal(plan.parameters, total - 768); // all but mask_token [1, 768]
  console.log(`dinov2-base vision parameters: ${plan.parameters}`);
  // a Dinov2ForImageClassification-style prefix is detected too
  const prefixed = l.keys.map((k) => `dinov2.${k}`);
  assert.equal(planLoad(config, prefixed, (k) => l.info(k.slice('dinov2.'.length)), 'cls').layout.prefix, 'dinov2.');
});

test('unsupported model_type is an error naming the file and field', () => {
  assert.throws(() => visionConfigFromHf({ model_type: 'vit' }, 'x/config.json'), /x\/config\.json: field 'model_type': unsupported model_type 'vit'/);
  assert.throws(() => visionConfigFromHf({ architectures: ['X'] }, 'x/config.json'), /field 'model_type': missing/);
  assert.throws(() => visionConfigFromHf({ model_type: 'clip_vision_model', hidden_size: 'big' }, 'c.json'), /c\.json: field 'hidden_size': expected a number/);
});
