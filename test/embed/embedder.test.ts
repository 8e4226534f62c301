import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, expectNoLeak, maxAbsDiff, useBackend } from '../helpers.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { embedImages, embedPixels } from '../../src/embed/embedder.js';
import { l2normalize } from '../../src/util/vector.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { listImages } from '../../src/embed/files.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { LogolabError } from '../../src/errors.js';

test('embedImages = forward(processor(image)), independent of batch size; normalize gives unit rows; no leak', async () => {
  await useBackend('wasm');
  const m = await loadVisionModel(join(FIXTURES, 'clip_tiny/model'), { quiet: true });
  try {
    const paths = listImages([join(FIXTURES, 'images')]);
    const imgs = await Promise.all(paths.map((p) => decodeImage(p)));
    const a = await expectNoLeak(() => embedImages(m, imgs, { batchSize: 1 }));
    const b = await embedImages(m, imgs, { batchSize: 3 });
    assert.equal(a.length, 4);
    for (let i = 0; i < 4; i++) assert.ok(maxAbsDiff(a[i]!, b[i]!) < 1e-5);
    // reference: the processor output through the model by hand
    const { height: h, width: w } = m.processor.outputSize;
    const ref = tf.tidy(() => m.forward(tf.tensor4d(m.processor.process(imgs[2]!), [1, 3, h, w])).imageEmbeds);
    assert.ok(maxAbsDiff(ref.dataSync(), a[2]!) < 1e-5);
    ref.dispose();
    const n = await embedImages(m, imgs, { batchSize: 2, normalize: true });
    for (let i = 0; i < 4; i++) {
      assert.ok(Math.abs(Math.hypot(...n[i]!) - 1) < 1e-5);
      assert.ok(maxAbsDiff(n[i]!, l2normalize(Float32Array.from(a[i]!))) < 1e-6);
    }
    await assert.rejects(() => embedImages(m, imgs, { batchSize: 0 }), LogolabError);
  } finally {
    m.dispose();
  }
});

test('embedPixels gives HF outputs in batches (clip_tiny fixture)', async () => {
  await useBackend('cpu');
  const io = readSafetensors(join(FIXTURES, 'clip_tiny/io.safetensors'));
  const m = await loadVisionModel(join(FIXTURES, 'clip_tiny/model'), { quiet: true });
  try {
    const px = io.get('pixel_values')!;
    const r = await expectNoLeak(() => embedPixels(m, px.data as Float32Array, px.shape, { batchSize: 2 }));
    for (const k of ['image_embeds', 'pooler_output', 'last_hidden_state'] as const) {
      assert.deepEqual(r[k].shape, io.get(k)!.shape);
      assert.ok(maxAbsDiff(r[k].data, io.get(k)!.data) <= 1e-4, k);
    }
    // other sizes run on interpolated position embeddings (HF interpolate_pos_encoding): 5×5 patches
    const big = await embedPixels(m, new Float32Array(3 * 3 * 40 * 40), [3, 3, 40, 40]);
    assert.deepEqual(big.last_hidden_state.shape, [3, 26, 64]);
    await assert.rejects(() => embedPixels(m, new Float32Array(3 * 3 * 4 * 4), [3, 3, 4, 4]), /input 4×4 is smaller than one patch \(8\)/);
    // shapes refused before the model runs, named by the caller's label; values that do not fill the shape too
    const name = "p.safetensors: tensor 'pixel_values'";
    const refusedWith = (start: string) => (e: unknown) => e instanceof LogolabError && e.message.startsWith(start);
    for (const shape of [[1, 3, 64], [1, 4, 64, 64], [0, 3, 64, 64], [1, 3, 0, 64], [1, 3, 64, 64, 1]]) {
      const values = new Float32Array(Math.max(1, shape.reduce((x, y) => x * y, 1)));
      await assert.rejects(() => embedPixels(m, values, shape, { name }), refusedWith(`${name} has shape ${JSON.stringify(shape)}, expected [N, 3, H, W]`));
    }
    await assert.rejects(() => embedPixels(m, new Float32Array(10), [1, 3, 64, 64], { name }), refusedWith(`${name}: 10 values for shape [1,3,64,64] (12288 expected)`));
  } finally {
    m.dispose();
  }
});

test('listImages: folders walked recursively and sorted; missing path and empty folder are errors', () => {
  const ps = listImages([join(FIXTURES, 'images')]);
  assert.deepEqual(ps.map((p) => p.split('/').pop()), ['small_40x23.png', 'square_224.png', 'tall_97x151.png', 'wide_300x200.png']);
  assert.throws(() => listImages([join(FIXTURES, 'nope')]), /nope: no such file or folder/);
  assert.throws(() => listImages([join(FIXTURES, 'layouts')]), /layouts: folder holds no images/);
  assert.throws(() => listImages([]), LogolabError);
});
