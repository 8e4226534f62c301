/** decodeImage: orientation, colour conversions, 16-bit, corrupt input; cropImage clipping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { LogolabError } from '../../src/errors.js';
import { cropImage, decodeImage, encodePng, roundHalfEven, type RgbImage } from '../../src/preprocess/image.js';
import { FIXTURES, tmpDir } from '../helpers.js';

const raw = (data: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 2 | 3 | 4) =>
  sharp(data, { raw: { width, height, channels } });

test('decode: fixture PNG → HWC RGB uint8 of the right size', async () => {
  const img = await decodeImage(join(FIXTURES, 'images', 'tall_97x151.png'));
  assert.equal(img.width, 97);
  assert.equal(img.height, 151);
  assert.ok(img.data instanceof Uint8Array);
  assert.equal(img.data.length, 97 * 151 * 3);
});

test('decode: EXIF orientation is applied (JPEG, orientation 6 = rotate 90° clockwise)', async () => {
  const dir = tmpDir();
  // 30x20: left half red, right half blue.
  const d = new Uint8Array(30 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 30; x++) d.set(x < 15 ? [255, 0, 0] : [0, 0, 255], (y * 30 + x) * 3);
  const p = join(dir, 'rot.jpg');
  writeFileSync(p, await raw(d, 30, 20, 3).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer());
  assert.equal((await sharp(p).metadata()).orientation, 6);
  const img = await decodeImage(p);
  assert.equal(img.width, 20);
  assert.equal(img.height, 30);
  // Rotated clockwise: the left (red) half is now the top.
  const px = (x: number, y: number) => Array.from(img.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
  assert.ok(px(10, 3)[0]! > 200 && px(10, 3)[2]! < 60, `top ${px(10, 3)}`);
  assert.ok(px(10, 26)[2]! > 200 && px(10, 26)[0]! < 60, `bottom ${px(10, 26)}`);
});

test('decode: grayscale → R=G=B', async () => {
  const img = await decodeImage(await raw(Uint8Array.from([0, 50, 100, 255]), 4, 1, 1).png().toBuffer());
  assert.deepEqual(Array.from(img.data), [0, 0, 0, 50, 50, 50, 100, 100, 100, 255, 255, 255]);
});

test('decode: RGBA drops alpha like PIL convert("RGB"); alpha "white" composites', async () => {
  const png = await raw(Uint8Array.from([10, 20, 30, 0, 200, 100, 50, 128, 1, 2, 3, 255]), 3, 1, 4).png().toBuffer();
  assert.deepEqual(Array.from((await decodeImage(png)).data), [10, 20, 30, 200, 100, 50, 1, 2, 3]);
  const w = await decodeImage(png, 'x.png', { alpha: 'white' });
  assert.deepEqual(Array.from(w.data.subarray(0, 3)), [255, 255, 255]);
  assert.deepEqual(Array.from(w.data.subarray(6, 9)), [1, 2, 3]);
  const mid = Array.from(w.data.subarray(3, 6)); // 50% over white
  assert.ok(Math.abs(mid[0]! - 227) <= 2 && Math.abs(mid[2]! - 152) <= 2, `${mid}`);
  // grey + alpha
  const la = await raw(Uint8Array.from([77, 0, 200, 255]), 2, 1, 2).png().toBuffer();
  assert.deepEqual(Array.from((await decodeImage(la)).data), [77, 77, 77, 200, 200, 200]);
});

test('decode: CMYK JPEG → sRGB (colours survive the round trip)', async () => {
  const d = new Uint8Array(16 * 8 * 3);
  for (let i = 0; i < 16 * 8; i++) d.set(i % 16 < 8 ? [220, 30, 30] : [30, 30, 220], i * 3);
  const jpg = await raw(d, 16, 8, 3).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(jpg).metadata()).space, 'cmyk');
  const img = await decodeImage(jpg, 'cmyk.jpg');
  assert.equal(img.data.length, 16 * 8 * 3);
  const px = (x: number) => Array.from(img.data.subarray((4 * 16 + x) * 3, (4 * 16 + x) * 3 + 3));
  assert.ok(px(2)[0]! > 150 && px(2)[2]! < 100, `red ${px(2)}`);
  // (saturated blue is outside the CMYK gamut, so it comes back duller: only check the hue)
  assert.ok(px(13)[2]! > px(13)[0]! + 60 && px(13)[2]! > px(13)[1]! + 40, `blue ${px(13)}`);
});

test('decode: an embedded ICC profile is not applied (PIL semantics: stored values)', async () => {
  const d = new Uint8Array(4 * 4 * 3);
  for (let i = 0; i < 16; i++) d.set([220, 40, 40], i * 3);
  const p3 = await raw(d, 4, 4, 3).withIccProfile('p3').png().toBuffer(); // stores P3 values + profile
  const stored = await sharp(p3).keepIccProfile().raw().toBuffer();
  const managed = await sharp(p3).raw().toBuffer(); // sharp's default: back to sRGB
  assert.notDeepEqual(Array.from(stored.subarray(0, 3)), Array.from(managed.subarray(0, 3)));
  assert.deepEqual(Array.from((await decodeImage(p3)).data), Array.from(stored));
});

test('decode: 16-bit PNG (RGB and grey) → 8-bit by the high byte', async () => {
  const v = Uint16Array.from({ length: 4 * 2 * 3 }, (_, i) => i * 2700 + 255);
  const rgb16 = await raw(v, 4, 2, 3).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(rgb16).metadata()).depth, 'ushort');
  assert.deepEqual(Array.from((await decodeImage(rgb16)).data), Array.from(v, (x) => x >> 8));
  const g = Uint16Array.from([0, 8000, 40000, 65535]);
  const g16 = await raw(g, 4, 1, 1).toColourspace('grey16').png().toBuffer();
  assert.deepEqual(Array.from((await decodeImage(g16)).data), Array.from(g).flatMap((x) => [x >> 8, x >> 8, x >> 8]));
});

test('decode: corrupt, truncated, empty, missing → LogolabError naming the file', async () => {
  const dir = tmpDir();
  const jpg = await raw(new Uint8Array(32 * 32 * 3).fill(128), 32, 32, 3).jpeg().toBuffer();
  const cases: [string, Buffer][] = [
    ['truncated.jpg', jpg.subarray(0, Math.floor(jpg.length / 2))],
    ['garbage.png', Buffer.from('this is not an image')],
    ['empty.jpg', Buffer.alloc(0)],
  ];
  for (const [name, bytes] of cases) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    await assert.rejects(decodeImage(p), (e: Error) => e instanceof LogolabError && e.message.includes(p) && !e.message.includes('\n'));
  }
  await assert.rejects(decodeImage(Buffer.from('xx'), 'refs/acme.png'), (e: Error) => e instanceof LogolabError && e.message.includes('refs/acme.png'));
  await assert.rejects(decodeImage(join(dir, 'missing.png')), (e: Error) => e instanceof LogolabError && e.message.includes('missing.png'));
});

test('cropImage: clipped to the image, PIL rounding, empty → error', async () => {
  const img: RgbImage = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i) };
  const c = cropImage(img, [1, 1, 3, 3]);
  assert.equal(c.width, 2);
  assert.equal(c.height, 2);
  assert.deepEqual(Array.from(c.data), [15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  const clipped = cropImage(img, [-5, -2, 100, 2]);
  assert.equal(clipped.width, 4);
  assert.equal(clipped.height, 2);
  assert.deepEqual(clipped.data, img.data.subarray(0, 24));
  assert.deepEqual(cropImage(img, [0.5, 0, 2.5, 1]).width, 2); // round(0.5)=0, round(2.5)=2
  assert.equal(roundHalfEven(-1.5), -2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.throws(() => cropImage(img, [5, 0, 9, 2]), LogolabError);
  assert.throws(() => cropImage(img, [2, 2, 2, 3]), LogolabError);
  // encode round trip
  const back = await decodeImage(await encodePng(img));
  assert.deepEqual(back.data, img.data);
});
