/** augmentImage: determinism, per-op properties, ranges of the drawn parameters, sizes, no NaN downstream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LogolabError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { applyAugment, augmentImage, sampleAugmentParams, type AugmentParams, type AugmentStrength } from '../../src/preprocess/augment.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig, workingShortSide } from '../../src/preprocess/processors.js';
import { resize } from '../../src/preprocess/resize.js';
import { FIXTURES } from '../helpers.js';

const img = await decodeImage(join(FIXTURES, 'images', 'wide_300x200.png'));
const base = (): AugmentParams => ({ hflip: false, vflip: false, rotate: 0, jitter: { order: [] }, grayscale: false });
const px = (im: RgbImage, x: number, y: number) => Array.from(im.data.subarray((y * im.width + x) * 3, (y * im.width + x) * 3 + 3));

test('same seed → identical output; different seed → different', () => {
  for (const s of ['light', 'medium', 'strong'] as AugmentStrength[]) {
    const a = augmentImage(img, s, makeRng(42));
    const b = augmentImage(img, s, makeRng(42));
    assert.deepEqual(a.data, b.data, s);
    const c = augmentImage(img, s, makeRng(43));
    assert.notDeepEqual(c.data, a.data, s);
  }
  // a stream of augmentations replays from a saved rng state
  const r = makeRng(7);
  augmentImage(img, 'medium', r);
  const st = r.state();
  const next = augmentImage(img, 'strong', r);
  assert.deepEqual(augmentImage(img, 'strong', makeRng(0, st)).data, next.data);
});

test("'none' is the identity; output sizes (strong crops 224/256 per side)", () => {
  assert.equal(augmentImage(img, 'none', makeRng(1)), img);
  const r = makeRng(3);
  for (let i = 0; i < 5; i++) {
    for (const s of ['light', 'medium'] as AugmentStrength[]) {
      const a = augmentImage(img, s, r);
      assert.deepEqual([a.width, a.height, a.data.length], [300, 200, 300 * 200 * 3]);
    }
    const st = augmentImage(img, 'strong', r);
    assert.deepEqual([st.width, st.height], [Math.round(300 * 0.875), Math.round(200 * 0.875)]);
  }
  assert.throws(() => augmentImage(img, 'extreme' as AugmentStrength, makeRng(1)), LogolabError);
  // tiny images survive every strength
  const tiny: RgbImage = { width: 1, height: 1, data: Uint8Array.from([9, 99, 199]) };
  for (const s of ['light', 'medium', 'strong'] as AugmentStrength[]) assert.equal(augmentImage(tiny, s, makeRng(5)).data.length, 3);
});

test('flips mirror; 180° rotation equals both flips; rotation keeps the centre', () => {
  const h = applyAugment(img, { ...base(), hflip: true });
  for (const [x, y] of [[0, 0], [17, 33], [299, 199]] as const) assert.deepEqual(px(h, x, y), px(img, 299 - x, y));
  const v = applyAugment(img, { ...base(), vflip: true });
  assert.deepEqual(px(v, 5, 0), px(img, 5, 199));
  const hv = applyAugment(img, { ...base(), hflip: true, vflip: true });
  const r180 = applyAugment(img, { ...base(), rotate: 180 });
  let diff = 0;
  for (let i = 0; i < hv.data.length; i++) diff += hv.data[i] !== r180.data[i] ? 1 : 0;
  assert.ok(diff / hv.data.length < 0.01, `${diff}`); // equal up to pixel-centre ties
  const r10 = applyAugment(img, { ...base(), rotate: 10 });
  assert.deepEqual(px(r10, 150, 100), px(img, 150, 100));
  assert.deepEqual(px(r10, 0, 0), [0, 0, 0]); // corner rotated out → black fill
});

test('affine: translation moves content by whole pixels; scale < 1 leaves a black border', () => {
  const t = applyAugment(img, { ...base(), affine: { tx: 7, ty: -4, scale: 1, shear: 0 } });
  assert.deepEqual(px(t, 107, 96), px(img, 100, 100));
  assert.deepEqual(px(t, 3, 100), [0, 0, 0]);
  const s = applyAugment(img, { ...base(), affine: { tx: 0, ty: 0, scale: 0.8, shear: 0 } });
  assert.deepEqual(px(s, 2, 2), [0, 0, 0]);
  assert.deepEqual(px(s, 150, 100), px(img, 150, 100));
});

test('colour ops: grayscale has equal channels; brightness/contrast/saturation/hue behave', () => {
  const g = applyAugment(img, { ...base(), grayscale: true });
  for (let i = 0; i < g.data.length; i += 3) assert.ok(g.data[i] === g.data[i + 1] && g.data[i] === g.data[i + 2]);
  const dark = applyAugment(img, { ...base(), jitter: { order: [0, 1, 2, 3], brightness: 0.5 } });
  for (let i = 0; i < dark.data.length; i += 97) assert.equal(dark.data[i], Math.trunc(img.data[i]! * 0.5));
  const flat = applyAugment(img, { ...base(), jitter: { order: [1], contrast: 0 } });
  assert.ok(flat.data.every((v) => v === flat.data[0]));
  const desat = applyAugment(img, { ...base(), jitter: { order: [2], saturation: 0 } });
  assert.deepEqual(desat.data, g.data); // saturation 0 = PIL's L, as grayscale
  const same = applyAugment(img, { ...base(), jitter: { order: [3, 2, 1, 0], brightness: 1, contrast: 1, saturation: 1, hue: 0 } });
  assert.deepEqual(same.data, img.data);
  // a hue shift moves red towards green/blue but keeps grey pixels grey
  const im: RgbImage = { width: 2, height: 1, data: Uint8Array.from([200, 30, 30, 90, 90, 90]) };
  const hs = applyAugment(im, { ...base(), jitter: { order: [3], hue: 0.3 } });
  assert.deepEqual(Array.from(hs.data.subarray(3)), [90, 90, 90]);
  assert.ok(hs.data[1]! > 150 && hs.data[0]! < 100, `${Array.from(hs.data)}`);
});

test('blur smooths and keeps constants', () => {
  const c: RgbImage = { width: 5, height: 4, data: new Uint8Array(60).fill(77) };
  assert.deepEqual(applyAugment(c, { ...base(), blurSigma: 1.5 }).data, c.data);
  const spike: RgbImage = { width: 3, height: 3, data: new Uint8Array(27) };
  spike.data.set([255, 255, 255], 12);
  const b = applyAugment(spike, { ...base(), blurSigma: 2 });
  assert.ok(b.data[12]! < 255 && b.data[0]! > 0);
});

test('drawn parameters stay in the reference ranges with the reference probabilities', () => {
  const r = makeRng(11);
  const N = 2000;
  let hflip = 0;
  let gray = 0;
  let vflip = 0;
  for (let i = 0; i < N; i++) {
    const m = sampleAugmentParams(300, 200, 'medium', r);
    hflip += +m.hflip;
    gray += +m.grayscale;
    assert.ok(Math.abs(m.rotate) <= 15);
    assert.ok(m.affine && Math.abs(m.affine.tx) <= 30 && Math.abs(m.affine.ty) <= 20 && m.affine.scale >= 0.9 && m.affine.scale <= 1.1 && m.affine.shear === 0);
    assert.ok(m.jitter.brightness! >= 0.8 && m.jitter.brightness! <= 1.2 && Math.abs(m.jitter.hue!) <= 0.05);
    const s = sampleAugmentParams(256, 256, 'strong', r);
    vflip += +s.vflip;
    assert.ok(s.crop && s.crop.width === 224 && s.crop.left >= 0 && s.crop.left <= 32);
    assert.ok(Math.abs(s.rotate) <= 30 && Math.abs(s.affine!.shear) <= 10 && s.blurSigma! >= 0.1 && s.blurSigma! <= 2);
    const l = sampleAugmentParams(300, 200, 'light', r);
    assert.ok(l.rotate === 0 && !l.affine && !l.grayscale && l.jitter.saturation === undefined && l.jitter.hue === undefined);
  }
  assert.ok(Math.abs(hflip / N - 0.5) < 0.05, `hflip ${hflip / N}`);
  assert.ok(Math.abs(gray / N - 0.1) < 0.03, `grayscale ${gray / N}`);
  assert.ok(Math.abs(vflip / N - 0.1) < 0.03, `vflip ${vflip / N}`);
});

test('augment → processor gives finite pixel_values of the model size', () => {
  const proc = imageProcessorFromConfig(defaultPreprocessorConfig('clip'));
  const r = makeRng(9);
  for (const s of ['none', 'light', 'medium', 'strong'] as AugmentStrength[]) {
    const out = proc.process(augmentImage(img, s, r));
    assert.equal(out.length, 3 * 224 * 224);
    assert.ok(out.every((v) => Number.isFinite(v)));
  }
});

test('workingShortSide pre-shrink leaves the processor output unchanged (none) and sizes right (medium)', () => {
  const big = resize(img, 500, 400, 'bilinear');
  for (const fam of ['clip', 'dinov2'] as const) {
    const proc = imageProcessorFromConfig(defaultPreprocessorConfig(fam));
    const side = workingShortSide(proc);
    assert.equal(side, fam === 'clip' ? 224 : 256);
    const shrunk = augmentImage(big, 'none', makeRng(1), { workingShortSide: side });
    assert.deepEqual([shrunk.width, shrunk.height], [Math.trunc((side! * 500) / 400), side]);
    assert.deepEqual(proc.process(shrunk), proc.process(big));
    const m = augmentImage(big, 'medium', makeRng(2), { workingShortSide: side });
    assert.equal(m.height, side);
  }
  assert.equal(workingShortSide(imageProcessorFromConfig(defaultPreprocessorConfig('siglip'))), undefined);
  assert.equal(workingShortSide(imageProcessorFromConfig(defaultPreprocessorConfig('clip'), { mode: 'letterbox' })), undefined);
  assert.equal(workingShortSide(imageProcessorFromConfig(defaultPreprocessorConfig('clip'), { backend: 'pil' })), undefined);
});

test("'logo': never flips, hue anywhere in ±0.5, inversion 255 − v in about a quarter of draws", () => {
  const r = makeRng(11);
  let inv = 0;
  const hues: number[] = [];
  for (let i = 0; i < 400; i++) {
    const p = sampleAugmentParams(300, 200, 'logo', r);
    assert.equal(p.hflip, false);
    assert.equal(p.vflip, false);
    assert.ok(Math.abs(p.rotate) <= 10);
    if (p.invert) inv++;
    if (p.jitter.hue !== undefined) hues.push(p.jitter.hue);
  }
  assert.ok(inv > 70 && inv < 130, `inverted ${inv} of 400`);
  assert.ok(Math.max(...hues) > 0.4 && Math.min(...hues) < -0.4, 'hue reaches the far side of the wheel');
  const out = applyAugment(img, { ...base(), invert: true });
  assert.deepEqual(px(out, 10, 20), px(img, 10, 20).map((v) => 255 - v));
});
