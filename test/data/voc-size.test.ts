/**
 * VOC boxes on EXIF-rotated images: `<size>` in the stored grid → boxes mapped through the rotation
 * (the crop holds the annotated object); `<size>` in the displayed grid → boxes as given; a `<size>`
 * that fits neither → the image is refused as size_mismatch, never cropped blind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openDataDb } from '../../src/data/db.js';
import { REFERENCE_DIR } from '../../src/data/db-schema.js';
import { writeVoc } from '../../src/data/voc.js';
import { rotateBox } from '../../src/data/voc-size.js';
import type { Box } from '../../src/util/box.js';

/** A w×h blue picture with a red block at `red` (stored grid), written with EXIF `orientation`. */
/** `green`: outside the red block, so that pictures of one layout differ in bytes (prepare skips byte copies as duplicate_image). */
async function picture(path: string, w: number, h: number, red: Box, orientation: number, green = 0): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const inside = x >= red[0] && x < red[2] && y >= red[1] && y < red[3];
      px[(y * w + x) * 3] = inside ? 255 : 0;
      px[(y * w + x) * 3 + 1] = inside ? 0 : green;
      px[(y * w + x) * 3 + 2] = inside ? 0 : 255;
    }
  writeFileSync(path, await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer());
}

async function meanRgb(path: string): Promise<number[]> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const m = [0, 0, 0];
  for (let i = 0; i < data.length; i++) m[i % 3]! += data[i]! / (info.width * info.height);
  return m;
}

test('rotateBox maps a stored-grid box as sharp rotates the pixels, for EXIF 5–8', async () => {
  const d = tmpDir();
  const red: Box = [20, 10, 60, 40];
  for (const o of [5, 6, 7, 8]) {
    const p = join(d, `o${o}.jpg`);
    await picture(p, 200, 100, red, o);
    const { data, info } = await sharp(p).rotate().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [100, 200]);
    const b = rotateBox(red, 200, 100, o);
    // the centre of the mapped box is red, a point just outside it is blue
    const at = (x: number, y: number) => data[(y * info.width + x) * 3]!;
    assert.ok(at(Math.floor((b[0] + b[2]) / 2), Math.floor((b[1] + b[3]) / 2)) > 200, `orientation ${o}: ${b}`);
    assert.ok(at(b[0] > 5 ? b[0] - 4 : b[2] + 4, Math.floor((b[1] + b[3]) / 2)) < 60, `orientation ${o}: ${b}`);
    assert.equal((b[2] - b[0]) * (b[3] - b[1]), 40 * 30);
  }
});

test('prepare: VOC boxes in the stored grid of an EXIF-rotated image are rotated with it; a <size> of another picture is refused', async () => {
  const root = tmpDir('logolab-vocsize-');
  const brand = join(root, 'ds', 'Food', 'Acme');
  mkdirSync(brand, { recursive: true });
  const red: Box = [20, 10, 60, 40];
  const shownRed = rotateBox(red, 200, 100, 6); // [60, 20, 90, 60]
  const write = async (n: number, size: [number, number], box: Box, orientation = 6) => {
    await picture(join(brand, `${n}.jpg`), 200, 100, red, orientation, 40 * n);
    writeFileSync(join(brand, `${n}.xml`), writeVoc({ folder: 'Acme', filename: `${n}.jpg`, width: size[0], height: size[1], objects: [{ name: 'Acme', box }] }));
  };
  await write(1, [200, 100], red); // annotated on the stored pixels (a tool that ignores EXIF)
  await write(2, [100, 200], shownRed); // annotated on the displayed pixels
  await write(3, [160, 90], red); // another picture's annotation
  const sum = await prepareDataset({ dataset: join(root, 'ds'), out: join(root, 'out'), quiet: true });
  assert.deepEqual(sum.skipped, { size_mismatch: 1 });
  const db = openDataDb(join(root, 'out'));
  try {
    const skipped = db.skipped();
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!.detail, /3\.xml: <size> 160x90 differs from the image's 100x200 \(stored 200x100, EXIF orientation 6\); its boxes belong to another picture$/);
    const rows = db.db.prepare('SELECT i.filename AS image, l.x0, l.y0, l.x1, l.y1, r.filename AS crop FROM test_image_logos l JOIN test_images i ON i.id = l.test_image_id JOIN reference_logos r ON r.test_image_id = l.test_image_id AND r.object_index = l.object_index ORDER BY i.filename').all() as Record<string, unknown>[];
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.deepEqual([r.x0, r.y0, r.x1, r.y1], shownRed, String(r.image));
      const [R, , B] = await meanRgb(join(root, 'out', REFERENCE_DIR, String(r.crop)));
      assert.ok(R! > 200 && B! < 50, `${r.image}: crop mean R ${R} B ${B} is not the red block`);
    }
  } finally {
    db.close();
  }
});
