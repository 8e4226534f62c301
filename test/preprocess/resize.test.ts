/**
 * resize() against outside references:
 *   - Pillow 9.4 Image.resize (golden/pil_golden.safetensors, made by golden/make_pil_golden.py):
 *     kernel 'pil' must be bit-exact for every filter, up- and downscaling, clipping included;
 *   - torch's uint8 antialiased interpolate, through the DETR fixture of HF's (fast)
 *     DetrImageProcessor (bilinear): kernel 'torch' must be bit-exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SafetensorsFile, readSafetensors } from '../../src/io/safetensors.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { precomputeCoeffs, type ResampleFilter } from '../../src/preprocess/resample-filters.js';
import { resize, resizeFloat } from '../../src/preprocess/resize.js';
import { toPixelValues } from '../../src/preprocess/processors.js';
import { FIXTURES, maxAbsDiff, meanAbsDiff } from '../helpers.js';

const GOLDEN = join(import.meta.dirname, 'golden', 'pil_golden.safetensors');

function u8(t: { shape: number[]; data: Float32Array | Int32Array }): RgbImage {
  return { height: t.shape[0]!, width: t.shape[1]!, data: Uint8Array.from(t.data) };
}

test('resize (kernel pil) is bit-exact with Pillow for all filters', () => {
  const f = SafetensorsFile.open(GOLDEN);
  const filters = JSON.parse(f.metadata.filters!) as Record<string, ResampleFilter>;
  f.close();
  const g = readSafetensors(GOLDEN);
  const seen = new Set<string>();
  let n = 0;
  for (const [c, filter] of Object.entries(filters)) {
    const a = u8(g.get(`${c}.in`)!);
    const b = u8(g.get(`${c}.out`)!);
    const r = resize(a, b.width, b.height, filter, 'pil');
    assert.equal(maxAbsDiff(r.data, b.data), 0, `${c}: ${filter} ${a.width}x${a.height} → ${b.width}x${b.height}`);
    seen.add(filter);
    n++;
  }
  assert.equal(seen.size, 6);
  assert.ok(n >= 30);
});

test('resize (kernel torch, bilinear) is bit-exact with the DETR fast-processor fixture', async () => {
  const st = readSafetensors(join(FIXTURES, 'preprocess', 'detr__DetrImageProcessor.safetensors'));
  for (const name of ['wide_300x200', 'tall_97x151']) {
    const t = st.get(`${name}.pixel_values`)!;
    const [, H, W] = t.shape as [number, number, number];
    const img = await decodeImage(join(FIXTURES, 'images', `${name}.png`));
    const px = toPixelValues(resize(img, W, H, 'bilinear', 'torch'), 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
    const pilPx = toPixelValues(resize(img, W, H, 'bilinear', 'pil'), 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
    console.log(`detr ${name} ${W}x${H}: torch kernel max ${maxAbsDiff(px, t.data).toExponential(2)}; pil kernel mean ${meanAbsDiff(pilPx, t.data).toExponential(2)} max ${maxAbsDiff(pilPx, t.data).toExponential(2)}`);
    assert.ok(maxAbsDiff(px, t.data) <= 1e-6);
  }
});

test('resize: same size is a copy; nearest picks PIL pixels; bad sizes throw', () => {
  const img: RgbImage = { width: 4, height: 1, data: Uint8Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]) };
  const same = resize(img, 4, 1, 'bicubic');
  assert.deepEqual(same.data, img.data);
  assert.notEqual(same.data, img.data);
  assert.deepEqual(Array.from(resize(img, 2, 1, 'nearest').data), [10, 10, 10, 30, 30, 30]);
  assert.throws(() => resize(img, 0, 3), /invalid output size/);
  assert.throws(() => resize(img, 3, 3, 'cubic' as ResampleFilter), /unknown filter/);
});

test('resize: weights sum to 1 and support widens when shrinking (antialias)', () => {
  const up = precomputeCoeffs(10, 40, 'bicubic');
  const down = precomputeCoeffs(40, 10, 'bicubic');
  assert.equal(up.ksize, 5); // ceil(2)*2+1
  assert.equal(down.ksize, 17); // ceil(2*4)*2+1
  for (const c of [up, down]) {
    for (let i = 0; i < c.bounds.length / 2; i++) {
      let s = 0;
      for (let j = 0; j < c.bounds[i * 2 + 1]!; j++) s += c.kk[i * c.ksize + j]!;
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  }
});

test('resizeFloat agrees with the uint8 path within rounding and keeps constants', () => {
  const w = 23;
  const h = 17;
  const img: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3) };
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.round(127 + 100 * Math.sin(i * 0.37));
  const r8 = resize(img, 9, 30, 'bicubic');
  const rf = resizeFloat(Float32Array.from(img.data), w, h, 3, 9, 30, 'bicubic');
  let m = 0;
  for (let i = 0; i < rf.length; i++) m = Math.max(m, Math.abs(Math.min(255, Math.max(0, rf[i]!)) - r8.data[i]!));
  assert.ok(m <= 1.5, `max diff ${m}`);
  const c = resizeFloat(new Float32Array(w * h).fill(0.25), w, h, 1, 5, 40, 'lanczos');
  assert.ok(maxAbsDiff(c, new Float32Array(200).fill(0.25)) < 1e-6);
});
