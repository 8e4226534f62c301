/** `logolab detect` end to end (tiny DETR), `convertDetr` round trip, and the one-line CLI errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { FIXTURES, ROOT, tmpDir, useBackend, maxAbsDiff } from '../helpers.js';
import { readSafetensors, SafetensorsFile } from '../../src/io/safetensors.js';
import { convertDetr } from '../../src/detect/convert.js';
import { loadDetrModel } from '../../src/detect/load.js';

const TINY = join(FIXTURES, 'detr_tiny/model');
const IMAGES = join(FIXTURES, 'images');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '1' } });
  // the error is one line, apart from the '[logolab] backend: …' report
  const errors = r.stderr.split('\n').filter((l) => l && !l.startsWith('[logolab]'));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, errors };
}

async function outputs(dir: string) {
  const io = readSafetensors(join(FIXTURES, 'detr_tiny/io.safetensors'));
  const pv = io.get('pixel_values')!;
  const model = loadDetrModel(dir);
  const x = tf.tensor4d(pv.data as Float32Array, pv.shape as [number, number, number, number]);
  const o = model.forward(x, io.get('pixel_mask')!.data);
  const r = { logits: await o.logits.data(), boxes: await o.predBoxes.data(), ref: io.get('logits')!.data };
  [x, o.logits, o.predBoxes, o.lastHiddenState].forEach((t) => t.dispose());
  model.dispose();
  return r;
}

test('convertDetr: F32 is lossless, F16 close; keys, config and processor written', async () => {
  await useBackend('wasm');
  const out32 = join(tmpDir(), 'detr32');
  const s = await convertDetr(TINY, out32, 'F32');
  assert.equal(s.dropped.length, 0);
  for (const f of ['model.safetensors', 'config.json', 'preprocessor_config.json', 'logolab.json']) assert.ok(existsSync(join(out32, f)), f);
  const a = await outputs(out32);
  assert.ok(maxAbsDiff(a.logits, a.ref) <= 1e-4);
  const out16 = join(tmpDir(), 'detr16');
  await convertDetr(TINY, out16, 'F16');
  const f16 = SafetensorsFile.open(join(out16, 'model.safetensors'));
  assert.equal(f16.info('model.encoder.layers.0.fc1.weight').dtype, 'F16');
  assert.equal(f16.info('model.decoder.layernorm.weight').dtype, 'F32');
  f16.close();
  const b = await outputs(out16);
  const e16 = maxAbsDiff(b.logits, a.logits);
  console.log(`# F16 conversion: logits max abs diff vs F32 ${e16.toExponential(2)}`);
  assert.ok(e16 < 2e-2, `F16 logits drift ${e16}`);
});

test('logolab detect writes boxes.json and drawings; bad inputs are one-line errors', async () => {
  const dir = join(tmpDir(), 'detr');
  await convertDetr(TINY, dir, 'F32');
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 64, longest_edge: 96 } }));
  const work = tmpDir();
  const out = join(work, 'boxes.json');
  const vis = join(work, 'vis');
  const r = cli(['detect', '--backend', 'wasm', '--detector', `detr:${dir}`, join(IMAGES, 'wide_300x200.png'), join(IMAGES, 'tall_97x151.png'), '--out', out, '--threshold', '0', '--min-box-size', '0', '--nms-iou', '1', '--visualize', vis]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(j.images.length, 2);
  assert.equal(j.images[0].width, 300);
  assert.equal(j.images[0].detections.length, 10);
  const d0 = j.images[0].detections[0];
  assert.equal(d0.box.length, 4);
  assert.ok(d0.label_name === 'logo' || d0.label_name === 'other');
  const meta = await sharp(join(vis, 'wide_300x200.png')).metadata();
  assert.deepEqual([meta.width, meta.height], [300, 200]);

  const bad = join(work, 'corrupt.jpg');
  writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
  const e1 = cli(['detect', '--backend', 'wasm', '--detector', dir, bad]);
  assert.equal(e1.code, 1);
  assert.equal(e1.errors.length, 1, e1.stderr);
  assert.match(e1.errors[0]!, /^logolab: error: cannot decode image .*corrupt\.jpg/);

  // wrong checkpoint type: covered in-process (detr-model.test.ts), the CLI prints the same message
});
