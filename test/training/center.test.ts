/**
 * Centring folded into the weights (training/center.ts): the centred folder's embeddings are the
 * original's minus their mean over the crops it was centred on (pooler_output and image_embeds),
 * checked on the tiny CLIP fixture (projection 512 from hidden 64) within 2e-4 absolute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, maxAbs, maxAbsDiff, tmpDir, useBackend } from '../helpers.js';
import { makeDataDir } from './prepared-data.js';
import { centreModelFolder, CENTRE_BIAS } from '../../training/center.js';
import { openDataDb } from '../../src/data/db.js';
import { embedPixels } from '../../src/embed/embedder.js';
import { loadVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { readSafetensors, SafetensorsFile, writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';

async function outputs(m: VisionModel, paths: string[]) {
  const { height: h, width: w } = m.processor.outputSize;
  const imgs = await Promise.all(paths.map((p) => decodeImage(p)));
  const px = new Float32Array(imgs.length * 3 * h * w);
  imgs.forEach((im, i) => px.set(m.processor.process(im), i * 3 * h * w));
  return embedPixels(m, px, [imgs.length, 3, h, w]);
}

function columnMean(data: Float32Array, n: number): Float64Array {
  const d = data.length / n, out = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[j] = out[j]! + data[i * d + j]! / n;
  return out;
}

test('centreModelFolder: embeddings become the original minus their mean; only post_layernorm.bias changes', async () => {
  await useBackend('cpu');
  const root = tmpDir('logolab-centre-');
  const data = await makeDataDir(3, 4);
  try {
    const src = join(FIXTURES, 'clip_tiny', 'model');
    const out = join(root, 'centred');
    const r = await centreModelFolder(src, data, out, { quiet: true });
    assert.equal(r.crops, 12);
    const db = openDataDb(data);
    const paths = db.referenceCrops().map((c) => c.path);
    db.close();
    const before = tf.memory().numTensors;
    const a = await loadVisionModel(src, { quiet: true }), b = await loadVisionModel(out, { quiet: true });
    try {
      const oa = await outputs(a, paths), ob = await outputs(b, paths);
      for (const k of ['pooler_output', 'image_embeds'] as const) {
        const n = paths.length, d = oa[k].data.length / n, mu = columnMean(oa[k].data, n);
        assert.ok(Math.hypot(...mu) > 0.1, `${k}: the fixture has an offset to remove`);
        const expected = Float32Array.from(oa[k].data, (v, i) => v - mu[i % d]!);
        assert.ok(maxAbsDiff(ob[k].data, expected) <= 2e-4, `${k}: max |Δ| ${maxAbsDiff(ob[k].data, expected)}`);
        assert.ok(maxAbs(columnMean(ob[k].data, n)) <= 2e-4, `${k}: centred mean`);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    const ta = readSafetensors(join(src, 'model.safetensors')), tb = readSafetensors(join(out, 'model.safetensors'));
    const changed = [...tb.keys()].filter((k) => maxAbsDiff(tb.get(k)!.data, ta.get(k)!.data) > 0);
    assert.deepEqual(changed, [CENTRE_BIAS]);
    const meta = JSON.parse(readFileSync(join(out, 'export_metadata.json'), 'utf8')) as { centring: { crops: number; subtracted_from: string } };
    assert.equal(meta.centring.crops, 12);
    assert.equal(meta.centring.subtracted_from, CENTRE_BIAS);
    // an existing folder is refused, and left as it was
    await assert.rejects(centreModelFolder(src, data, out, { quiet: true }), /exists/);
    assert.ok(existsSync(join(out, 'model.safetensors')));
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

test('centreModelFolder: an integer buffer keeps its stored dtype (I64 position_ids), floats stay F32', async () => {
  await useBackend('cpu');
  const root = tmpDir('logolab-centre-int-');
  const data = await makeDataDir(2, 2);
  try {
    const fixture = join(FIXTURES, 'clip_tiny', 'model');
    const src = join(root, 'with-position-ids');
    mkdirSync(src);
    for (const f of readdirSync(fixture)) if (f !== 'model.safetensors') copyFileSync(join(fixture, f), join(src, f));
    const write = new Map<string, WriteTensor>();
    for (const [k, t] of readSafetensors(join(fixture, 'model.safetensors'))) write.set(k, { shape: t.shape, data: t.data });
    const positions = 1 + (32 / 16) ** 2; // the fixture's [CLS] + patches; only the dtype matters here
    write.set('vision_model.embeddings.position_ids', { shape: [1, positions], data: Int32Array.from({ length: positions }, (_, i) => i), dtype: 'I64' });
    writeSafetensors(join(src, 'model.safetensors'), write);
    const out = join(root, 'centred');
    await centreModelFolder(src, data, out, { quiet: true });
    const f = SafetensorsFile.open(join(out, 'model.safetensors'));
    try {
      for (const k of f.keys()) assert.equal(f.info(k).dtype, k.endsWith('position_ids') ? 'I64' : 'F32', k);
      assert.deepEqual([...f.read('vision_model.embeddings.position_ids').data], Array.from({ length: positions }, (_, i) => i));
    } finally {
      f.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});
