/**
 * A very elongated but small image (65000×1 is 65 k pixels) would make a huge intermediate: the
 * shortest-edge resize before the centre crop (14560000×224, 9.8 GB: a RangeError "Invalid typed
 * array length" with a stack) or the square letterbox canvas (65000², 12.7 GB). It is refused
 * before any allocation, with the sizes, and the caller names the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogolabError } from '../../src/errors.js';
import { makeImage } from '../../src/preprocess/image.js';
import { imageProcessorFromConfig, MAX_WORKING_PIXELS } from '../../src/preprocess/processors.js';
import { embedImages } from '../../src/embed/embedder.js';
import type { VisionModel } from '../../src/models/vision/index.js';

const CLIP224 = { image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 } };

test('shortest-edge resize of a 65000x1 image: one LogolabError with the sizes, no allocation', () => {
  const proc = imageProcessorFromConfig(CLIP224);
  const t0 = Date.now();
  assert.throws(() => proc.process(makeImage(65000, 1)), (e: Error) => {
    assert.ok(e instanceof LogolabError, String(e));
    assert.equal(e.message, '65000x1 is too elongated for this processor: the resize to shortest edge 224 would make it 14560000x224, more than 715827882 pixels (2 GiB of RGB)');
    return true;
  });
  // 20000x1 (4480000x224 = 1.0 G pixels) took 41 s and 3.9 GB before the crop kept 224x224
  assert.throws(() => proc.process(makeImage(1, 20000)), /1x20000 is too elongated for this processor: .* make it 224x4480000/);
  assert.ok(Date.now() - t0 < 2000);
});

test('the letterbox canvas of a 65000x1 image is refused the same way', () => {
  const proc = imageProcessorFromConfig(CLIP224, { mode: 'letterbox' });
  assert.throws(() => proc.process(makeImage(65000, 1)), /^LogolabError: 65000x1 is too elongated for this processor: the letterbox canvas would make it 65000x65000/);
  // a phone panorama (17000x3000: a 17000² canvas, 0.9 GB) is processed, as before the bound
  assert.equal(proc.process(makeImage(17000, 3000)).length, 3 * 224 * 224);
});

test('an elongated image under the bound is still processed (224 x 224 out)', () => {
  const proc = imageProcessorFromConfig(CLIP224);
  // 300x1 → 67200x224 = 15 M pixels ≤ 716 M; and fast
  assert.ok(67200 * 224 <= MAX_WORKING_PIXELS);
  assert.equal(proc.process(makeImage(300, 1)).length, 3 * 224 * 224);
  assert.equal(imageProcessorFromConfig(CLIP224, { mode: 'letterbox' }).process(makeImage(1000, 2)).length, 3 * 224 * 224);
});

test('embedImages names the image the processor refused', async () => {
  const model = { processor: imageProcessorFromConfig(CLIP224) } as unknown as VisionModel;
  await assert.rejects(() => embedImages(model, [makeImage(65000, 1)], { names: ['/data/wide.png'] }), (e: Error) => {
    assert.ok(e instanceof LogolabError);
    assert.match(e.message, /^\/data\/wide\.png: 65000x1 is too elongated for this processor: the resize to shortest edge 224 would make it 14560000x224/);
    return true;
  });
});
