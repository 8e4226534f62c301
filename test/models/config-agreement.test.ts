// A converted folder holds its config twice: logolab.json (what logolab builds) and config.json (what
// transformers builds). Every folder logolab writes has them agree; a folder where one was edited is
// refused, naming the field, both values and both files, instead of loading with logolab.json alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT, tmpDir, useBackend } from '../helpers.js';
import { convertModel } from '../../src/models/format.js';
import { loadVisionModel, readModelConfig } from '../../src/models/vision/index.js';
import { hfVisionConfig, visionConfigFromHf } from '../../src/models/vision/config.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { LogolabError } from '../../src/errors.js';
import { expectFailure, runCli } from '../cli/run.js';

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const editJson = (p: string, edit: (j: Record<string, unknown>) => void) => {
  const j = readJson(p);
  edit(j);
  writeFileSync(p, JSON.stringify(j, null, 2));
};

/** A CLIPVisionModel HF folder (no visual projection) made from the clip fixture's vision tower. */
function clipWithoutProjection(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = join(FIXTURES, 'clip_tiny/model');
  const tensors = new Map([...readSafetensors(join(src, 'model.safetensors'))].filter(([k]) => k.startsWith('vision_model.')).map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  const { config } = visionConfigFromHf(readJson(join(src, 'config.json')), 'clip_tiny');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfVisionConfig({ ...config, projection_dim: null })));
  return dir;
}

test('every converted folder logolab writes, and the shipped model, has a config.json that agrees with logolab.json', async () => {
  await useBackend('wasm');
  const d = tmpDir();
  const sources = ['clip_tiny/model', 'dinov2_tiny/model', 'siglip_tiny/model', 'generated/dinov2_swiglu/model'].map((s) => join(FIXTURES, s));
  sources.push(clipWithoutProjection(join(d, 'clip-noproj')));
  for (const [i, src] of sources.entries()) {
    for (const dtype of ['float32', 'float16'] as const) {
      const out = join(d, `c${i}-${dtype}`);
      await convertModel(src, out, { dtype });
      const { config, converted } = readModelConfig(out);
      assert.ok(converted, out);
      assert.deepEqual(config, readJson(join(out, 'logolab.json')).vision_config, out);
      // a conversion of a conversion reads the same way
      await convertModel(out, `${out}-again`);
      assert.deepEqual(readModelConfig(`${out}-again`).config, config, out);
    }
  }
  assert.equal(readModelConfig(join(d, 'c4-float32')).config.projection_dim, null, 'the CLIPVisionModel source has no projection');
  const shipped = readModelConfig(join(ROOT, 'models/logolab-tiny-clip'));
  assert.equal(shipped.converted, true);
  const m = await loadVisionModel(join(ROOT, 'models/logolab-tiny-clip'), { quiet: true });
  m.dispose();
});

test('a converted folder whose config.json and logolab.json differ is refused, naming the field, both values and both files', async () => {
  const d = tmpDir();
  const clip = join(d, 'clip');
  const dino = join(d, 'dino');
  const siglip = join(d, 'siglip');
  await convertModel(join(FIXTURES, 'clip_tiny/model'), clip);
  await convertModel(join(FIXTURES, 'dinov2_tiny/model'), dino);
  await convertModel(join(FIXTURES, 'siglip_tiny/model'), siglip);
  const cases: { base: string; file: 'config.json' | 'logolab.json'; edit: (j: Record<string, unknown>) => void; field: string; ours: string; theirs: string }[] = [
    { base: clip, file: 'config.json', edit: (j) => (j.num_attention_heads = 8), field: 'num_attention_heads', ours: '4', theirs: '8' },
    { base: clip, file: 'config.json', edit: (j) => (j.hidden_act = 'gelu'), field: 'hidden_act', ours: '"quick_gelu"', theirs: '"gelu"' },
    // transformers' CLIPVisionModel has no projection: the embeddings would be the pooled output
    { base: clip, file: 'config.json', edit: (j) => (j.architectures = ['CLIPVisionModel']), field: 'projection_dim', ours: '24', theirs: 'null' },
    { base: clip, file: 'config.json', edit: (j) => (j.projection_dim = 12), field: 'projection_dim', ours: '24', theirs: '12' },
    { base: clip, file: 'logolab.json', edit: (j) => ((j.vision_config as Record<string, unknown>).layer_norm_eps = 1e-3), field: 'layer_norm_eps', ours: '0.001', theirs: '0.00001' },
    { base: clip, file: 'config.json', edit: (j) => (j.image_size = 64), field: 'image_size', ours: '32', theirs: '64' },
    { base: dino, file: 'config.json', edit: (j) => (j.mlp_ratio = 4), field: 'intermediate_size', ours: '128', theirs: '256' },
    { base: dino, file: 'config.json', edit: (j) => (j.num_hidden_layers = 2), field: 'num_hidden_layers', ours: '3', theirs: '2' },
    { base: dino, file: 'config.json', edit: (j) => (j.qkv_bias = false), field: 'qkv_bias', ours: 'true', theirs: 'false' },
    { base: siglip, file: 'config.json', edit: (j) => (j.model_type = 'dinov2'), field: 'family', ours: '"siglip"', theirs: '"dinov2"' },
    { base: siglip, file: 'config.json', edit: (j) => (j.layer_norm_eps = 1e-5), field: 'layer_norm_eps', ours: '0.000001', theirs: '0.00001' },
  ];
  for (const c of cases) {
    const dir = join(d, `edit-${cases.indexOf(c)}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(c.base, dir, { recursive: true });
    editJson(join(dir, c.file), c.edit);
    const want = `${dir}: '${c.field}' is ${c.ours} in ${join(dir, 'logolab.json')} (vision_config) but ${c.theirs} in ${join(dir, 'config.json')}`;
    assert.throws(() => readModelConfig(dir), (e: Error) => e instanceof LogolabError && e.message.startsWith(want), `${c.field}: ${want}`);
  }
  // loading and converting refuse it before reading a weight
  const edited = join(d, 'edit-0');
  await assert.rejects(() => loadVisionModel(edited, { quiet: true }), /'num_attention_heads' is 4 in .*logolab\.json \(vision_config\) but 8 in .*config\.json; transformers builds the model from config\.json/);
  await assert.rejects(() => convertModel(edited, join(d, 'out')), /'num_attention_heads' is 4/);
  // the reader needs no config.json: a folder with logolab.json alone is read from it
  const alone = join(d, 'alone');
  cpSync(clip, alone, { recursive: true });
  rmSync(join(alone, 'config.json'));
  assert.equal(readModelConfig(alone).config.num_attention_heads, 4);
});

test('the CLI refuses an edited converted folder with one error line', async () => {
  const d = tmpDir();
  const dir = join(d, 'm');
  await convertModel(join(FIXTURES, 'clip_tiny/model'), dir);
  editJson(join(dir, 'config.json'), (j) => (j.hidden_act = 'gelu'));
  const r = await runCli(['embed', '--model', dir, '--out', join(d, 'e.jsonl'), join(FIXTURES, 'images/square_224.png'), '--backend', 'wasm']);
  const line = expectFailure(r, 1, /'hidden_act'/);
  assert.equal(
    line,
    `logolab: error: ${dir}: 'hidden_act' is "quick_gelu" in ${join(dir, 'logolab.json')} (vision_config) but "gelu" in ${join(dir, 'config.json')}; transformers builds the model from config.json and logolab from logolab.json, make them agree`,
  );
});
