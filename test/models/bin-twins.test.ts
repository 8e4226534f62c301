/**
 * `pytorch_model.bin` twins of the tiny reference models (torch.save of the same state dicts;
 * dinov2 as two shards + pytorch_model.bin.index.json) load to the same tensors, the same
 * fingerprint and identical outputs as the safetensors fixtures; `convert` turns them into the same
 * safetensors; a malicious `.bin` in a model folder is a one-line CLI error that runs nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, maxAbsDiff, tmpDir, useBackend } from '../helpers.js';
import { readSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { openCheckpoint } from '../../src/io/checkpoint.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { loadDetrModel } from '../../src/detect/load.js';
import { runCli } from '../cli/run.js';

const BIN = join(FIXTURES, 'generated/bin');
const t4 = (h: HostTensor) => tf.tensor4d(h.data as Float32Array, h.shape as [number, number, number, number]);

test('every tensor of each .bin twin equals its safetensors fixture (dinov2: sharded index)', () => {
  for (const name of ['clip_tiny', 'siglip_tiny', 'dinov2_tiny', 'detr_tiny']) {
    const [a, b] = [openCheckpoint(join(FIXTURES, name, 'model')), openCheckpoint(join(BIN, name))];
    try {
      assert.match(b.source, name === 'dinov2_tiny' ? /pytorch_model\.bin\.index\.json$/ : /pytorch_model\.bin$/);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), name);
      for (const k of a.keys()) {
        const [x, y] = [a.read(k), b.read(k)];
        assert.deepEqual(y.shape, x.shape, `${name} ${k}`);
        assert.ok(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength).equals(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)), `${name} ${k}`);
      }
    } finally {
      a.close();
      b.close();
    }
  }
});

test('vision .bin twins: same fingerprint and identical outputs; within 1e-4 of transformers', async () => {
  await useBackend('cpu');
  const cases: [string, string, string][] = [['clip_tiny', 'pixel_values', 'image_embeds'], ['siglip_tiny', 'pixel_values', 'pooler_output'], ['dinov2_tiny', 'pixel_values_40', 'pooler_output_40']];
  for (const [name, pxKey, outKey] of cases) {
    const io = readSafetensors(join(FIXTURES, name, 'io.safetensors'));
    const [a, b] = [await loadVisionModel(join(FIXTURES, name, 'model'), { quiet: true }), await loadVisionModel(join(BIN, name), { quiet: true })];
    try {
      assert.equal(b.fingerprint(), a.fingerprint(), name);
      const x = t4(io.get(pxKey)!);
      const [ya, yb] = [a.forward(x), b.forward(x)];
      assert.equal(maxAbsDiff(yb.lastHiddenState.dataSync(), ya.lastHiddenState.dataSync()), 0, name);
      const got = outKey.startsWith('image_embeds') ? yb.imageEmbeds : yb.poolerOutput;
      const e = maxAbsDiff(got.dataSync(), io.get(outKey)!.data);
      console.log(`${name} from pytorch_model.bin: ${outKey} max abs err vs transformers ${e.toExponential(2)}`);
      assert.ok(e <= 1e-4, `${name}: ${e}`);
      tf.dispose([x, ...(Object.values(ya) as tf.Tensor[]), ...(Object.values(yb) as tf.Tensor[])]);
    } finally {
      a.dispose();
      b.dispose();
    }
  }
});

test('detr .bin twin: identical logits and boxes', async () => {
  await useBackend('cpu');
  const io = readSafetensors(join(FIXTURES, 'detr_tiny/io.safetensors'));
  const [a, b] = [loadDetrModel(join(FIXTURES, 'detr_tiny/model')), loadDetrModel(join(BIN, 'detr_tiny'))];
  try {
    assert.deepEqual(b.leftovers, []);
    const x = t4(io.get('pixel_values')!);
    const [ya, yb] = [a.forward(x, io.get('pixel_mask')!.data), b.forward(x, io.get('pixel_mask')!.data)];
    assert.equal(maxAbsDiff(yb.logits.dataSync(), ya.logits.dataSync()), 0);
    assert.equal(maxAbsDiff(yb.predBoxes.dataSync(), ya.predBoxes.dataSync()), 0);
    assert.ok(maxAbsDiff(yb.logits.dataSync(), io.get('logits')!.data) <= 1e-4);
    tf.dispose([x, ya.logits, ya.predBoxes, ya.lastHiddenState, yb.logits, yb.predBoxes, yb.lastHiddenState]);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('convert: a .bin checkpoint (vision, DETR) becomes the same safetensors as its safetensors twin', async () => {
  const d = tmpDir();
  for (const name of ['clip_tiny', 'detr_tiny']) {
    for (const [tag, src] of [['st', join(FIXTURES, name, 'model')], ['bin', join(BIN, name)]]) {
      const r = await runCli(['convert', src!, '--out', join(d, `${name}-${tag}`)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const [a, b] = [readSafetensors(join(d, `${name}-st/model.safetensors`)), readSafetensors(join(d, `${name}-bin/model.safetensors`))];
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, t] of a) assert.deepEqual(Array.from(b.get(k)!.data), Array.from(t.data), `${name} ${k}`);
  }
});

test('a malicious pytorch_model.bin in a model folder: one-line error naming the global, exit 1, nothing run or written', async () => {
  const marker = '/tmp/logolab-unpickle-executed';
  rmSync(marker, { force: true });
  const m = join(tmpDir(), 'evil-model');
  mkdirSync(m);
  copyFileSync(join(FIXTURES, 'clip_tiny/model/config.json'), join(m, 'config.json'));
  copyFileSync(join(BIN, 'crafted/evil_os_system.bin'), join(m, 'pytorch_model.bin'));
  const out = join(m, '..', 'out.safetensors');
  const r = await runCli(['embed', '--model', m, '--pixels', join(FIXTURES, 'clip_tiny/io.safetensors'), '--out', out, '--backend', 'wasm']);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('logolab: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^logolab: error: .*evil-model\/pytorch_model\.bin: .*refusing to unpickle global 'posix\.system'/);
  assert.ok(!existsSync(out));
  assert.ok(!existsSync(marker), 'the payload ran');
});
