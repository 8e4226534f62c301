// The converted model folder: round trip for each family, HF-compatible layout, strict logolab.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, maxAbsDiff, tmpDir, useBackend } from '../helpers.js';
import { convertModel } from '../../src/models/format.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { LogolabError } from '../../src/errors.js';

const CASES = [
  { dir: 'clip_tiny/model', size: 32, prefix: 'vision_model.', unused: 38 },
  { dir: 'dinov2_tiny/model', size: 40, prefix: 'embeddings.', unused: 1 },
  { dir: 'siglip_tiny/model', size: 32, prefix: 'vision_model.', unused: 0 },
];

test('convert → load: same outputs and fingerprint as the HF folder (float32), float16 close', async () => {
  await useBackend('wasm');
  const d = tmpDir();
  for (const c of CASES) {
    const src = await loadVisionModel(join(FIXTURES, c.dir), { quiet: true });
    const out32 = join(d, c.dir.split('/')[0]!, 'f32');
    const out16 = join(d, c.dir.split('/')[0]!, 'f16');
    const r = await convertModel(join(FIXTURES, c.dir), out32);
    assert.equal(r.unused.length, c.unused, c.dir);
    await convertModel(join(FIXTURES, c.dir), out16, { dtype: 'float16' });
    const m32 = await loadVisionModel(out32, { quiet: true });
    const m16 = await loadVisionModel(out16, { quiet: true });
    try {
      assert.equal(m32.fingerprint(), src.fingerprint(), c.dir);
      assert.deepEqual(m32.config, src.config);
      assert.equal(m32.processor.kind, src.processor.kind);
      const f = SafetensorsFile.open(join(out32, 'model.safetensors'));
      assert.ok(f.keys().every((k) => k.startsWith(c.prefix) || k.startsWith('encoder.') || k === 'layernorm.weight' || k === 'layernorm.bias' || k === 'visual_projection.weight'), c.dir);
      f.close();
      const x = tf.randomUniform([2, 3, c.size, c.size], -2, 2, 'float32', 7) as tf.Tensor4D;
      const [a, b, h] = [src, m32, m16].map((m) => tf.tidy(() => m.forward(x).imageEmbeds));
      assert.equal(maxAbsDiff(a!.dataSync(), b!.dataSync()), 0);
      const e16 = maxAbsDiff(a!.dataSync(), h!.dataSync());
      console.log(`${c.dir}: float16 copy image_embeds max abs diff ${e16.toExponential(2)}`);
      assert.ok(e16 < 5e-3 && e16 > 0);
      tf.dispose([x, a!, b!, h!]);
    } finally {
      src.dispose();
      m32.dispose();
      m16.dispose();
    }
  }
});

test('logolab.json is validated strictly', async () => {
  const d = tmpDir();
  const out = join(d, 'm');
  await convertModel(join(FIXTURES, 'siglip_tiny/model'), out);
  const p = join(out, 'logolab.json');
  const meta = JSON.parse(readFileSync(p, 'utf8'));
  writeFileSync(p, JSON.stringify({ ...meta, extra: 1 }));
  await assert.rejects(() => loadVisionModel(out, { quiet: true }), (e: Error) => e instanceof LogolabError && /logolab\.json: field 'extra': unknown key/.test(e.message));
  writeFileSync(p, JSON.stringify({ ...meta, version: 99 }));
  await assert.rejects(() => loadVisionModel(out, { quiet: true }), /field 'version': unsupported version 99/);
  writeFileSync(p, JSON.stringify({ ...meta, vision_config: { ...meta.vision_config, hidden_size: 65 } }));
  await assert.rejects(() => loadVisionModel(out, { quiet: true }), /vision_config: field 'num_attention_heads': 4 does not divide hidden_size 65/);
  // never replaces the source or a folder that is not an earlier conversion; replaces an earlier one
  await assert.rejects(() => convertModel(out, out), /is the source folder/);
  await assert.rejects(() => convertModel(join(FIXTURES, 'siglip_tiny/model'), join(FIXTURES, 'images')), /not empty and is not an earlier output of this command; refusing to replace it/);
  writeFileSync(p, JSON.stringify(meta));
  await convertModel(join(FIXTURES, 'siglip_tiny/model'), out, { dtype: 'float16' });
  assert.equal(JSON.parse(readFileSync(p, 'utf8')).dtype, 'float16');
  // a failed conversion leaves no output folder
  const bad = join(d, 'bad');
  await assert.rejects(() => convertModel(join(FIXTURES, 'detr_tiny/model'), bad), /unsupported model_type/);
  assert.ok(!existsSync(bad));
});

test('an earlier output that also holds files the command did not write is not replaced', async () => {
  const d = tmpDir();
  const src = join(FIXTURES, 'siglip_tiny/model');
  const out = join(d, 'm');
  await convertModel(src, out);
  const marker = JSON.parse(readFileSync(join(out, '.logolab-output.json'), 'utf8'));
  assert.deepEqual(marker.files, ['config.json', 'logolab.json', 'model.safetensors', 'preprocessor_config.json']);
  writeFileSync(join(out, 'NOTES.txt'), 'mine');
  await assert.rejects(() => convertModel(src, out), /--out .*: an earlier output of `logolab convert` that also holds files it did not write \(NOTES\.txt\); refusing to replace it/);
  assert.equal(readFileSync(join(out, 'NOTES.txt'), 'utf8'), 'mine');
  await convertModel(src, out, { overwrite: true });
  assert.ok(!existsSync(join(out, 'NOTES.txt')));
  // a conversion made before the marker (logolab.json only): its files are judged by name; the
  // shipped model's card and curve are not a conversion's
  const shipped = join(d, 'shipped');
  cpSync(join(FIXTURES, '../../models/logolab-tiny-clip'), shipped, { recursive: true });
  await assert.rejects(() => convertModel(src, shipped), /holds files it did not write \(MODEL_CARD\.md, first_losses\.json, training_curve\.svg\)/);
  assert.ok(existsSync(join(shipped, 'MODEL_CARD.md')));
});

test('convert of a logolab export (base + adapter/) writes the merged fine-tune, not the base', async () => {
  await useBackend('wasm');
  const d = tmpDir();
  // a logolab export: the HF base folder with the trained adapter unmerged in adapter/
  const exp = join(d, 'export');
  cpSync(join(FIXTURES, 'clip_tiny/model'), exp, { recursive: true });
  cpSync(join(FIXTURES, 'lora/adapter'), join(exp, 'adapter'), { recursive: true });
  const out = join(d, 'converted');
  const r = await convertModel(exp, out);
  assert.equal(r.mergedAdapter, join(exp, 'adapter'));
  assert.equal(JSON.parse(readFileSync(join(out, 'logolab.json'), 'utf8')).merged_adapter, join(exp, 'adapter'));
  const [base, adapted, peftMerged, conv] = await Promise.all(
    [join(FIXTURES, 'clip_tiny/model'), exp, join(FIXTURES, 'lora/merged'), out].map((p) => loadVisionModel(p, { quiet: true })),
  );
  try {
    const x = tf.randomUniform([2, 3, 32, 32], -2, 2, 'float32', 3) as tf.Tensor4D;
    const [b, a, p, c] = [base, adapted, peftMerged, conv].map((m) => tf.tidy(() => m!.forward(x).imageEmbeds));
    const vsAdapted = maxAbsDiff(a!.dataSync(), c!.dataSync());
    const vsPeft = maxAbsDiff(p!.dataSync(), c!.dataSync());
    const vsBase = maxAbsDiff(b!.dataSync(), c!.dataSync());
    console.log(`converted export vs export with adapter ${vsAdapted.toExponential(2)}, vs peft merge_and_unload ${vsPeft.toExponential(2)}, vs base ${vsBase.toExponential(2)}`);
    assert.ok(vsAdapted <= 1e-5 && vsPeft <= 1e-5, `${vsAdapted} ${vsPeft}`);
    assert.ok(vsBase > 1e-2, 'the adapter changes the embeddings of this fixture');
    tf.dispose([x, b!, a!, p!, c!]);
  } finally {
    for (const m of [base, adapted, peftMerged, conv]) m!.dispose();
  }
  // an export whose metadata says the adapter is kept unmerged, but adapter/ is gone: refused
  const gone = join(d, 'gone');
  cpSync(join(FIXTURES, 'clip_tiny/model'), gone, { recursive: true });
  writeFileSync(join(gone, 'export_metadata.json'), JSON.stringify({ format: 'logolab', lora: { r: 4 }, lora_merged: false }));
  await assert.rejects(() => convertModel(gone, join(d, 'c2')), /adapter is kept unmerged in adapter\/, but .* is missing/);
  // a peft adapter folder is not a model
  await assert.rejects(() => convertModel(join(FIXTURES, 'lora/adapter'), join(d, 'c3')), /is a LoRA adapter \(peft\), not a model/);
});
