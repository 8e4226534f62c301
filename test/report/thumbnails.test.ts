/**
 * Report thumbnails cut boxes from the EXIF-oriented picture (boxes are in the frame decodeImage
 * gives, which applies the orientation) and show the pixels the model saw (decodeImage's), and a
 * box outside the picture leaves out that thumbnail only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES, tmpDir } from '../helpers.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { cropThumbnail, galleryThumbnails, GALLERY_THUMB, LOGO_THUMB, logoThumbnails } from '../../src/report/thumbnails.js';
import type { ModelGallery } from '../../src/report/gallery.js';

/** 30×20 stored, left half red, right half blue, EXIF orientation 6: shown 20×30, red on top, blue below. */
async function rotatedJpeg(): Promise<string> {
  const d = new Uint8Array(30 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 30; x++) d.set(x < 15 ? [255, 0, 0] : [0, 0, 255], (y * 30 + x) * 3);
  const p = join(tmpDir(), 'rot.jpg');
  writeFileSync(p, await sharp(d, { raw: { width: 30, height: 20, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer());
  return p;
}

async function meanRgb(uri: string): Promise<[number, number, number]> {
  const { data, info } = await sharp(Buffer.from(uri.split(',')[1]!, 'base64')).raw().toBuffer({ resolveWithObject: true });
  const m = [0, 0, 0];
  for (let i = 0; i < data.length; i++) m[i % info.channels]! += data[i]!;
  return m.map((v) => v / (data.length / info.channels)) as [number, number, number];
}

test('cropThumbnail: the box is cut from the oriented picture', async () => {
  const p = await rotatedJpeg();
  // the lower half of the shown picture is blue; in the stored frame those rows do not exist
  const [r, , b] = await meanRgb((await cropThumbnail(p, [0, 16, 20, 30]))!);
  assert.ok(b > 200 && r < 60, `lower half: r ${r} b ${b}`);
  const [r2, , b2] = await meanRgb((await cropThumbnail(p, [0, 0, 20, 14]))!);
  assert.ok(r2 > 200 && b2 < 60, `upper half: r ${r2} b ${b2}`);
  assert.equal(await cropThumbnail(p, [0, 40, 20, 50]), null, 'a box below the picture');
});

test('galleryThumbnails: a box outside the picture leaves out its own thumbnail only', async () => {
  const p = await rotatedJpeg();
  const item = (box: [number, number, number, number]) => ({ imageIndex: 0, box }) as unknown as ModelGallery['falsePositives'][number];
  const g = { label: 'baseline', threshold: 0.5, falsePositives: [item([0, 22, 20, 30]), item([25, 40, 30, 50])], falseNegatives: [item([0, 0, 10, 10])] } as unknown as ModelGallery;
  await galleryThumbnails([g], () => p);
  assert.ok(g.falsePositives[0]!.thumb, 'in the oriented frame (below the stored one)');
  assert.equal(g.falsePositives[1]!.thumb, undefined);
  assert.ok(g.falseNegatives[0]!.thumb);
});

test('galleryThumbnails: each picture is decoded once however many regions of it are shown, with the same thumbnails', async () => {
  const a = await rotatedJpeg();
  const b = join(tmpDir(), 'plain.png');
  writeFileSync(b, await sharp({ create: { width: 40, height: 24, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toBuffer());
  const paths = [a, b];
  const item = (imageIndex: number, box: [number, number, number, number] | null) => ({ imageIndex, box }) as unknown as ModelGallery['falsePositives'][number];
  // both models' mistakes in both pictures, interleaved; a box-less item and one outside its picture
  const boxes: [number, [number, number, number, number] | null][] = [[0, [0, 22, 20, 30]], [1, [0, 0, 20, 12]], [0, [0, 0, 10, 10]], [1, null], [0, [25, 40, 30, 50]]];
  const gallery = (label: string) => ({ label, threshold: 0.5, falsePositives: boxes.slice(0, 3).map(([i, bx]) => item(i, bx)), falseNegatives: boxes.slice(3).map(([i, bx]) => item(i, bx)) }) as unknown as ModelGallery;
  const galleries = [gallery('baseline'), gallery('candidate')];
  const decoded: string[] = [];
  const failures: string[] = [];
  await galleryThumbnails(galleries, (i) => paths[i]!, failures, (p) => (decoded.push(p), decodeImage(p)));
  assert.deepEqual(decoded, [a, b]);
  assert.deepEqual(failures, []);
  for (const g of galleries)
    for (const it of [...g.falsePositives, ...g.falseNegatives]) {
      // what a thumbnail decoded on its own is, byte for byte
      const alone = it.box ? await cropThumbnail(paths[it.imageIndex]!, it.box) : null;
      assert.equal(it.thumb ?? null, alone, `image ${it.imageIndex} box ${JSON.stringify(it.box)}`);
    }
  assert.equal(galleries.flatMap((g) => [...g.falsePositives, ...g.falseNegatives]).filter((it) => it.thumb).length, 6);
});

test('logoThumbnails: a logo named __proto__ or constructor gets its own thumbnail key', async () => {
  const p = await rotatedJpeg();
  const t = await logoThumbnails([{ logo: '__proto__', path: p }, { logo: 'constructor', path: p }], ['__proto__', 'constructor', 'absent']);
  assert.deepEqual(Object.keys(t).sort(), ['__proto__', 'constructor']);
  assert.ok(Object.hasOwn(t, '__proto__') && t['__proto__']!.startsWith('data:image/'));
  assert.equal(JSON.parse(JSON.stringify(t))['__proto__'], t['__proto__']);
});

test('cropThumbnail: fitted inside twice the CSS box the report shows it in, never enlarged', async () => {
  const big = join(tmpDir(), 'big.png');
  await sharp({ create: { width: 900, height: 300, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(big);
  const size = async (uri: string | null) => {
    const m = await sharp(Buffer.from(uri!.split(',')[1]!, 'base64')).metadata();
    return [m.width, m.height];
  };
  assert.deepEqual(await size(await cropThumbnail(big, null, GALLERY_THUMB)), [240, 80]);
  assert.deepEqual(await size(await cropThumbnail(big, [0, 0, 300, 300], GALLERY_THUMB)), [160, 160]);
  assert.deepEqual(await size(await cropThumbnail(big, null, LOGO_THUMB)), [144, 48]);
  assert.deepEqual(await size(await cropThumbnail(big, [10, 10, 50, 30], GALLERY_THUMB)), [40, 20]);
});

test('cropThumbnail: transparent pixels keep their stored colour, as decodeImage gives them to the model (not flattened onto black)', async () => {
  // left half transparent with stored colour white, right half opaque red
  const d = Buffer.alloc(20 * 20 * 4);
  for (let i = 0; i < 400; i++) d.set(i % 20 < 10 ? [255, 255, 255, 0] : [200, 0, 0, 255], i * 4);
  const p = join(tmpDir(), 'alpha.png');
  await sharp(d, { raw: { width: 20, height: 20, channels: 4 } }).png().toFile(p);
  const seen = await decodeImage(p);
  assert.deepEqual([...seen.data.subarray(0, 3)], [255, 255, 255]);
  const [r, g, b] = await meanRgb((await cropThumbnail(p, [0, 0, 8, 20]))!);
  assert.ok(r > 245 && g > 245 && b > 245, `transparent half: ${r} ${g} ${b}`);
  const [r2, g2] = await meanRgb((await cropThumbnail(p, [12, 0, 20, 20]))!);
  assert.ok(r2 > 180 && g2 < 30, `opaque half: ${r2} ${g2}`);
});

test('cropThumbnail: a BMP (which libvips does not read) is decoded as the model reads it', async () => {
  const p = join(FIXTURES, 'bmp/core_rgb24.bmp');
  const seen = await decodeImage(p);
  const uri = (await cropThumbnail(p, null, LOGO_THUMB))!;
  const m = await sharp(Buffer.from(uri.split(',')[1]!, 'base64')).metadata();
  assert.deepEqual([m.width, m.height], [seen.width, seen.height]);
});

test('a picture that cannot be read leaves out its own thumbnail only, and is reported once', async () => {
  const p = await rotatedJpeg();
  const missing = join(tmpDir(), 'gone.jpg');
  const failures: string[] = [];
  const t = await logoThumbnails([{ logo: 'acme', path: missing }, { logo: 'bolt', path: p }], ['acme', 'bolt'], failures);
  assert.deepEqual(Object.keys(t), ['bolt']);
  const item = (imageIndex: number) => ({ imageIndex, box: [0, 0, 10, 10] }) as unknown as ModelGallery['falsePositives'][number];
  const g = { label: 'baseline', threshold: 0.5, falsePositives: [item(0), item(1)], falseNegatives: [item(0)] } as unknown as ModelGallery;
  await galleryThumbnails([g], (i) => (i === 1 ? missing : p), failures);
  assert.ok(g.falsePositives[0]!.thumb && g.falseNegatives[0]!.thumb, 'the items after the failing one keep theirs');
  assert.equal(g.falsePositives[1]!.thumb, undefined);
  assert.equal(failures.length, 2);
  for (const f of failures) assert.ok(f.includes(missing), f);
});
