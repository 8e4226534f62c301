/** DetrImageProcessor vs HF (fixtures/preprocess/detr__DetrImageProcessor.safetensors). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { FIXTURES, maxAbsDiff, meanAbsDiff } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { decodeImage, makeImage } from '../../src/preprocess/image.js';
import { LogolabError } from '../../src/errors.js';
import { DetrImageProcessor, detrProcessorConfig, sizeWithAspectRatio } from '../../src/preprocess/detr.js';

// The fixture: shortest_edge 160 / longest_edge 256, PIL bilinear, ImageNet mean/std.
const proc = new DetrImageProcessor(detrProcessorConfig({ size: { shortest_edge: 160, longest_edge: 256 } }, 'test'));
const ref = readSafetensors(join(FIXTURES, 'preprocess/detr__DetrImageProcessor.safetensors'));
const shapes = JSON.parse(readFileSync(join(FIXTURES, 'preprocess/detr_shapes.json'), 'utf8')) as Record<string, number[]>;
// Tolerances in normalised units (one 8-bit level = 1/255/0.225 ≈ 0.0174). The fixture is transformers
// 5's DetrImageProcessor = torchvision's uint8 antialiased resize, which resize(…, 'torch') reproduces
// bit for bit: what is left is float32 rounding of the normalisation (measured max 2.4e-7).
const MAX_TOL = 1e-5;
const MEAN_TOL = 1e-6;

for (const name of Object.keys(shapes)) {
  test(`DetrImageProcessor ${name}: size, pixel_values (max ≤ ${MAX_TOL}, mean ≤ ${MEAN_TOL}), pixel_mask`, async () => {
    const img = await decodeImage(join(FIXTURES, 'images', `${name}.png`));
    const b = proc.processBatch([img]);
    assert.deepEqual([b.batch, 3, b.height, b.width], shapes[name]);
    const pv = ref.get(`${name}.pixel_values`)!;
    const pm = ref.get(`${name}.pixel_mask`)!;
    assert.deepEqual(pv.shape, [3, b.height, b.width]);
    const mx = maxAbsDiff(b.pixelValues, pv.data);
    const mn = meanAbsDiff(b.pixelValues, pv.data);
    console.log(`# ${name}: max abs ${mx.toExponential(2)}, mean abs ${mn.toExponential(2)}`);
    assert.ok(mx <= MAX_TOL, `max abs diff ${mx}`);
    assert.ok(mn <= MEAN_TOL, `mean abs diff ${mn}`);
    assert.deepEqual(Array.from(b.pixelMask), Array.from(pm.data));
  });
}

test('DetrImageProcessor with PIL resampling (the older slow processor) is within one 8-bit level of the fixture', async () => {
  // Measured: max 1.75e-2 (exactly one level) on ~2% of values when downscaling, mean 3.4e-4.
  const pil = new DetrImageProcessor(detrProcessorConfig({ size: { shortest_edge: 160, longest_edge: 256 }, resampler: 'pil' }, 'test'));
  const img = await decodeImage(join(FIXTURES, 'images/wide_300x200.png'));
  const b = pil.processBatch([img]);
  const pv = ref.get('wide_300x200.pixel_values')!;
  const mx = maxAbsDiff(b.pixelValues, pv.data);
  const mn = meanAbsDiff(b.pixelValues, pv.data);
  assert.ok(mx > 1e-3 && mx <= 0.0176, `PIL path max abs diff ${mx} (expected one level)`);
  assert.ok(mn <= 5e-4, `PIL path mean abs diff ${mn}`);
});

test('DETR batch padding: bottom/right zeros and pixel_mask per image', async () => {
  const a = await decodeImage(join(FIXTURES, 'images/wide_300x200.png'));
  const t = await decodeImage(join(FIXTURES, 'images/tall_97x151.png'));
  const b = proc.processBatch([a, t]);
  assert.deepEqual([b.height, b.width], [249, 240]);
  assert.deepEqual(b.resized, [[160, 240], [249, 160]]);
  const one = proc.processBatch([t]);
  // image 2 occupies the top-left 249×160, the rest is 0 in pixel_values and pixel_mask
  for (let c = 0; c < 3; c++) {
    for (const [y, x] of [[0, 0], [248, 159], [100, 50]]) {
      assert.equal(b.pixelValues[((3 + c) * 249 + y!) * 240 + x!], one.pixelValues[(c * 249 + y!) * 160 + x!]);
    }
    assert.equal(b.pixelValues[((3 + c) * 249 + 10) * 240 + 200], 0);
  }
  assert.equal(b.pixelMask[(249 + 10) * 240 + 159], 1);
  assert.equal(b.pixelMask[(249 + 10) * 240 + 160], 0);
  assert.equal(b.pixelMask[170 * 240 + 10], 0); // image 1 is 160 high
});

test('HF size rule: shortest edge unless the longest edge would pass its limit', () => {
  assert.deepEqual(sizeWithAspectRatio(480, 640, 800, 1333), [800, 1066]);
  assert.deepEqual(sizeWithAspectRatio(200, 1000, 800, 1333), [267, 1333]); // raw 266.6 → round 267, ow = int(266.6·5)
  assert.deepEqual(sizeWithAspectRatio(800, 600, 800, 1333), [1066, 800]);
  assert.deepEqual(sizeWithAspectRatio(800, 1000, 800, 1333), [800, 1000]); // already there
  assert.deepEqual(sizeWithAspectRatio(151, 97, 160, 256), [249, 160]);
});

test('bad DETR processor config → one-line error naming the field', () => {
  assert.throws(() => detrProcessorConfig({ size: 'big' }, 'x/preprocessor_config.json'), /x\/preprocessor_config.json: field 'size'/);
  assert.throws(() => detrProcessorConfig({ resample: 9 }, 'p.json'), /p.json: field 'resample'/);
  assert.throws(() => detrProcessorConfig({ image_mean: [1, 2] }, 'p.json'), /field 'image_mean'/);
});

test('DETR processor config: image_std 0 / negative / NaN and a non-finite image_mean are errors naming the file and key (not NaN pixels blamed on the weights)', () => {
  const src = 'x/preprocessor_config.json';
  for (const std of [[0, 0.224, 0.225], [0.229, -0.224, 0.225], [0.229, NaN, 0.225], 0, -1, Infinity, [0.229, 0.224, '0.225']]) {
    assert.throws(() => detrProcessorConfig({ image_std: std }, src), (e: Error) => e.name === 'LogolabError' && /^x\/preprocessor_config\.json: field 'image_std' must be a positive number/.test(e.message), JSON.stringify(std));
  }
  for (const mean of [[NaN, 0.456, 0.406], [0.485, Infinity, 0.406], -Infinity]) {
    assert.throws(() => detrProcessorConfig({ image_mean: mean }, src), (e: Error) => e.name === 'LogolabError' && /^x\/preprocessor_config\.json: field 'image_mean' must be a finite number/.test(e.message), String(mean));
  }
  // valid values still pass: a negative or zero mean is legal, one number means all channels
  assert.deepEqual(detrProcessorConfig({ image_mean: [0, -0.5, 0.406], image_std: 0.5 }, src).image_mean, [0, -0.5, 0.406]);
  assert.deepEqual(detrProcessorConfig({ image_std: 0.5 }, src).image_std, [0.5, 0.5, 0.5]);
});

test('an image too elongated for the size rule (8000x2: a 0-pixel side) is refused saying so, and the batch names it', () => {
  const detr = new DetrImageProcessor();
  assert.throws(() => detr.process(makeImage(8000, 2)), (e: Error) => {
    assert.ok(e instanceof LogolabError, String(e));
    assert.equal(e.message, '8000x2 is too elongated for the DETR processor: its shortest edge 800 / longest edge 1333 gives 1333x0, a side of 0 pixels');
    return true;
  });
  assert.throws(() => detr.process(makeImage(1, 20000)), /^LogolabError: 1x20000 is too elongated for the DETR processor: .* gives 0x1333/);
  const ok = makeImage(40, 30);
  assert.throws(() => detr.processBatch([ok, makeImage(8000, 2)], ['/p/a.png', '/p/b.png']), /^LogolabError: \/p\/b\.png: 8000x2 is too elongated/);
  assert.throws(() => detr.processBatch([ok, makeImage(8000, 2), ok]), /^LogolabError: image 2 of 3: 8000x2 is too elongated/);
  // without a longest edge the resize itself would be huge: refused before it is allocated
  const open = new DetrImageProcessor(detrProcessorConfig({ size: { shortest_edge: 800 } }, 'test'));
  assert.throws(() => open.process(makeImage(65000, 1)), /^LogolabError: 65000x1 is too elongated for this processor: the resize to shortest edge 800 would make it 52000000x800/);
});
