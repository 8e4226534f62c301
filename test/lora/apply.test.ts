import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend, maxAbsDiff, expectNoLeak, tmpDir } from '../helpers.js';
import { buildVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import {
  applyLora, loadAdapter, saveAdapter, mergeLora, unmergeLora, loraParameterCount, activeSites, removeLora, validateLoraConfig, peftKeyTable,
} from '../../src/models/lora/index.js';
import { LogolabError } from '../../src/errors.js';
import { ADAPTER, loadTiny, pixels } from './fixture.js';

const run = (m: VisionModel, x: tf.Tensor4D) => tf.tidy(() => m.forward(x).imageEmbeds.dataSync() as Float32Array);

test('lora: applyLora adapts exactly the configured layers/targets, B = 0 keeps outputs, A ~ U(±1/√in), seeded', async () => {
  await useBackend('cpu');
  const m = buildVisionModel('clip', 'tiny', 'random', 1);
  const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
  try {
    const base = run(m, x);
    const r = applyLora(m, { r: 4, lora_alpha: 8, freeze_layers: 2, target_modules: ['q_proj', 'v_proj', 'fc1'] });
    assert.deepEqual(r.layers, [2, 3]);
    // q/v: 4·(64+64), fc1: 4·(64+128), on 2 layers
    assert.equal(r.trainable, 2 * (2 * 4 * 128 + 4 * 192));
    assert.deepEqual(activeSites(m).map((s) => `${s.layer}.${s.target}`), ['2.q_proj', '2.v_proj', '2.fc1', '3.q_proj', '3.v_proj', '3.fc1']);
    for (const s of activeSites(m)) {
      assert.equal(s.lora.scaling, 2);
      const a = s.lora.A.dataSync();
      const bound = 1 / Math.sqrt(s.lora.A.shape[0]!);
      assert.ok(a.every((v) => Math.abs(v) <= bound) && Math.max(...a) > 0.8 * bound, 'A kaiming-uniform bound');
      assert.ok(s.lora.B.dataSync().every((v) => v === 0), 'B zero');
      assert.equal(s.lora.A.trainable, true);
    }
    assert.deepEqual(run(m, x), base, 'B = 0 must leave outputs unchanged');
    // same seed → same A; different seed → different A
    const m2 = buildVisionModel('clip', 'tiny', 'random', 1);
    applyLora(m2, { r: 4, lora_alpha: 8, freeze_layers: 2, target_modules: ['q_proj', 'v_proj', 'fc1'] });
    assert.deepEqual(activeSites(m2)[0]!.lora.A.dataSync(), activeSites(m)[0]!.lora.A.dataSync());
    removeLora(m2);
    applyLora(m2, { r: 4, lora_alpha: 8, freeze_layers: 2, target_modules: ['q_proj', 'v_proj', 'fc1'], seed: 5 });
    assert.notDeepEqual(activeSites(m2)[0]!.lora.A.dataSync(), activeSites(m)[0]!.lora.A.dataSync());
    m2.dispose();
    // explicit layer list, rsLoRA scaling
    removeLora(m);
    const r2 = applyLora(m, { r: 4, lora_alpha: 8, layers_to_transform: [0, 3], target_modules: ['out_proj'], use_rslora: true });
    assert.deepEqual(r2.layers, [0, 3]);
    assert.equal(activeSites(m)[0]!.lora.scaling, 4);
    assert.throws(() => applyLora(m, { layers_to_transform: [3], target_modules: ['out_proj'] }), /already has a LoRA adapter/);
    removeLora(m);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('lora: config validation errors name the field', () => {
  assert.throws(() => validateLoraConfig({ rank: 4 }), /field 'rank': unknown key/);
  assert.throws(() => validateLoraConfig({ r: 0 }), /field 'r'/);
  assert.throws(() => validateLoraConfig({ target_modules: ['qkv'] }), /field 'target_modules'/);
  assert.throws(() => validateLoraConfig({ lora_dropout: 1 }), /field 'lora_dropout'/);
  const m = buildVisionModel('clip', 'tiny', 'random', 1);
  try {
    assert.throws(() => applyLora(m, { freeze_layers: 4 }), /freezes every layer/);
    assert.throws(() => applyLora(m, { layers_to_transform: [7] }), /layer 7 does not exist/);
  } finally {
    m.dispose();
  }
});

test('lora: merge/unmerge round trip, refuses non-finite adapters; no leaks', async () => {
  await useBackend('wasm');
  const m = buildVisionModel('clip', 'tiny', 'random', 2);
  const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
  try {
    applyLora(m, { r: 2, lora_alpha: 4, freeze_layers: 1, target_modules: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] });
    for (const s of activeSites(m)) tf.tidy(() => s.lora.B.assign(tf.randomNormal(s.lora.B.shape, 0, 0.05, 'float32', 7)));
    await expectNoLeak(() => {
      const adapted = run(m, x);
      mergeLora(m);
      assert.ok(maxAbsDiff(run(m, x), adapted) <= 1e-5);
      unmergeLora(m);
      assert.ok(maxAbsDiff(run(m, x), adapted) <= 1e-5);
    });
    const s0 = activeSites(m)[0]!;
    tf.tidy(() => s0.lora.B.assign(tf.fill(s0.lora.B.shape, NaN)));
    const w0 = s0.linear.weight;
    assert.throws(() => mergeLora(m), (e: Error) => e instanceof LogolabError && /layer 1 q_proj.*non-finite/.test(e.message));
    assert.equal(s0.linear.weight, w0, 'refused merge must leave weights untouched');
    assert.equal(activeSites(m).length, 18);
    assert.throws(() => saveAdapter(m, tmpDir()), /non-finite/);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('lora: disposing a model frees its adapters, merged ones included', async () => {
  await useBackend('cpu');
  const before = tf.memory().numTensors;
  const m = buildVisionModel('clip', 'tiny', 'random', 1);
  applyLora(m, { r: 2, lora_alpha: 4, freeze_layers: 2, target_modules: ['q_proj', 'v_proj'] });
  mergeLora(m);
  m.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('lora: our own adapter (all targets, explicit layers) saves and reloads identically; peft table maps both ways', async () => {
  await useBackend('wasm');
  const a = buildVisionModel('clip', 'tiny', 'random', 3);
  const b = buildVisionModel('clip', 'tiny', 'random', 3);
  const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 5) as tf.Tensor4D;
  const dir = tmpDir();
  try {
    applyLora(a, { r: 3, lora_alpha: 5, lora_dropout: 0.05, layers_to_transform: [1, 3], target_modules: ['k_proj', 'fc2'], seed: 9 });
    for (const s of activeSites(a)) tf.tidy(() => s.lora.B.assign(tf.randomNormal(s.lora.B.shape, 0, 0.05, 'float32', 8)));
    saveAdapter(a, dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.deepEqual(cfg.target_modules, ['fc2', 'k_proj']);
    assert.deepEqual(cfg.layers_to_transform, [1, 3]);
    assert.equal(cfg.layers_pattern, 'layers');
    assert.equal(cfg.r, 3);
    assert.equal(cfg.lora_alpha, 5);
    assert.equal(cfg.lora_dropout, 0.05);
    const rep = loadAdapter(b, dir);
    assert.equal(rep.sites.length, 4);
    assert.deepEqual(run(b, x), run(a, x));
    const t = peftKeyTable(a);
    for (const e of t.entries) assert.equal(t.byKey.get(e.key), e);
    assert.equal(t.entries.find((e) => e.layer === 3 && e.target === 'fc2' && e.which === 'B')!.key, 'base_model.model.vision_model.encoder.layers.3.mlp.fc2.lora_B.weight');
  } finally {
    x.dispose();
    a.dispose();
    b.dispose();
  }
});

test('lora: adapters of the reference (peft on CLIPVisionTransformer: no vision_model. root) load too', async () => {
  await useBackend('cpu');
  const dir = tmpDir();
  const { SafetensorsFile, writeSafetensors } = await import('../../src/io/safetensors.js');
  const f = SafetensorsFile.open(join(ADAPTER, 'adapter_model.safetensors'));
  const out = new Map();
  for (const k of f.keys()) {
    const t = f.read(k);
    out.set(k.replace('base_model.model.vision_model.', 'base_model.model.'), { shape: t.shape, data: t.data });
  }
  f.close();
  writeSafetensors(join(dir, 'adapter_model.safetensors'), out);
  cpSync(join(ADAPTER, 'adapter_config.json'), join(dir, 'adapter_config.json'));
  const m1 = await loadTiny();
  const m2 = await loadTiny();
  try {
    loadAdapter(m1, ADAPTER);
    loadAdapter(m2, dir);
    const x = pixels();
    assert.deepEqual(run(m2, x), run(m1, x));
    x.dispose();
  } finally {
    m1.dispose();
    m2.dispose();
  }
});

test('lora: bad adapter folders are one-line LogolabErrors naming the file/key/field', async () => {
  await useBackend('cpu');
  const m = await loadTiny();
  const mk = (mutate: (cfg: Record<string, unknown>) => void) => {
    const dir = tmpDir();
    cpSync(ADAPTER, dir, { recursive: true });
    const p = join(dir, 'adapter_config.json');
    const cfg = JSON.parse(readFileSync(p, 'utf8'));
    mutate(cfg);
    writeFileSync(p, JSON.stringify(cfg));
    return dir;
  };
  try {
    const cases: [string, RegExp][] = [
      [mk((c) => (c.layers_to_transform = [3])), /layers\.2\.self_attn\.q_proj\.lora_A\.weight' is not selected by adapter_config\.json/],
      [mk((c) => (c.target_modules = ['q_proj', 'k_proj', 'v_proj'])), /missing 'base_model\.model\.vision_model\.encoder\.layers\.2\.self_attn\.k_proj\.lora_A\.weight'/],
      [mk((c) => (c.r = 8)), /shape \[4,64\], expected \[8,64\]/],
      [mk((c) => (c.use_dora = true)), /field 'use_dora'/],
      [mk((c) => (c.peft_type = 'IA3')), /field 'peft_type'/],
      [mk((c) => (c.modules_to_save = ['visual_projection'])), /field 'modules_to_save'/],
      [tmpDir(), /no adapter_config\.json/],
    ];
    for (const [dir, re] of cases) {
      assert.throws(() => loadAdapter(m, dir), (e: Error) => e instanceof LogolabError && re.test(e.message) && !e.message.includes('\n'), `${dir}: expected ${re}`);
      assert.equal(loraParameterCount(m), 0, 'a failed load must leave no adapter behind');
    }
    // a DINOv2 model cannot take a CLIP adapter
    const d = buildVisionModel('dinov2', 'tiny', 'random', 1);
    assert.throws(() => loadAdapter(d, ADAPTER), /do not map to this dinov2 model's layers/);
    d.dispose();
  } finally {
    m.dispose();
  }
});

test('lora: DINOv2 / SigLIP adapters use their own module paths', async () => {
  await useBackend('cpu');
  for (const [fam, key] of [
    ['dinov2', 'base_model.model.encoder.layer.1.attention.attention.query.lora_A.weight'],
    ['siglip', 'base_model.model.vision_model.encoder.layers.1.self_attn.q_proj.lora_A.weight'],
  ] as const) {
    const m = buildVisionModel(fam, 'tiny', 'random', 1);
    const dir = tmpDir();
    try {
      applyLora(m, { r: 2, lora_alpha: 2, freeze_layers: 1, target_modules: ['q_proj'] });
      const { keys } = saveAdapter(m, dir);
      assert.ok(keys.includes(key), `${fam}: ${keys[0]}`);
      const m2 = buildVisionModel(fam, 'tiny', 'random', 1);
      loadAdapter(m2, dir);
      assert.equal(loraParameterCount(m2), loraParameterCount(m));
      m2.dispose();
    } finally {
      m.dispose();
    }
  }
});

test('lora: peft module selection mirrors check_target_module_exists', async () => {
  const { parsePeftConfig, siteSelected } = await import('../../src/models/lora/peft.js');
  const base = { peft_type: 'LORA', r: 4 };
  const m = 'vision_model.encoder.layers.2.self_attn.q_proj';
  const sel = (extra: Record<string, unknown>, mod = m) => siteSelected(parsePeftConfig({ ...base, ...extra }, 'cfg'), mod);
  assert.equal(sel({ target_modules: ['q_proj'], layers_to_transform: [2] }), true);
  assert.equal(sel({ target_modules: ['q_proj'], layers_to_transform: [3] }), false);
  assert.equal(sel({ target_modules: ['q_proj'], layers_to_transform: 2, layers_pattern: 'layers' }), true);
  assert.equal(sel({ target_modules: ['q_proj'], layers_to_transform: [2], layers_pattern: 'layer' }), false, 'pattern must match the path');
  assert.equal(sel({ target_modules: [m], layers_to_transform: [3] }), true, 'exact names ignore layers_to_transform');
  assert.equal(sel({ target_modules: '.*layers\\.[23]\\..*q_proj', layers_to_transform: [3] }), true, 'regex ignores layers_to_transform');
  assert.equal(sel({ target_modules: ['q_proj'], exclude_modules: ['vision_model.encoder.layers.2.self_attn.q_proj'] }), false);
  assert.equal(sel({ target_modules: ['proj'] }), false, 'suffix matches whole dotted names only');
  assert.equal(sel({ target_modules: ['q_proj'], layers_to_transform: [2] }, 'encoder.layers.2.self_attn.q_proj'), true);
  // a pattern that is no regular expression is the file's one-line error, not a SyntaxError
  for (const [extra, re] of [
    [{ target_modules: ['q_proj'], rank_pattern: { 'q_proj(': 4 } }, /^cfg: field 'rank_pattern': "q_proj\(" is not a valid regular expression$/],
    [{ target_modules: ['q_proj'], alpha_pattern: { '[': 8 } }, /^cfg: field 'alpha_pattern': "\[" is not a valid regular expression$/],
    [{ target_modules: '.*(q_proj' }, /^cfg: field 'target_modules': ".*\(q_proj" is not a valid regular expression$/],
    [{ target_modules: ['q_proj'], exclude_modules: '*' }, /^cfg: field 'exclude_modules': "\*" is not a valid regular expression$/],
    [{ target_modules: ['q_proj'], layers_to_transform: [2], layers_pattern: 'lay(ers' }, /^cfg: field 'layers_pattern': "lay\(ers" is not a valid regular expression$/],
  ] as const)
    assert.throws(() => parsePeftConfig({ ...base, ...extra }, 'cfg'), (e: Error) => e instanceof LogolabError && re.test(e.message));
});
