/**
 * Folder layout: prepare decodes every image, as the LogoDet-3K path does. A truncated JPEG (its
 * header intact, so a header read passes it) is skipped as corrupt_image naming the file, is not
 * placed in the data dir, and the summary counts only the images that are there.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../cli/run.js';
import { tmpDir } from '../helpers.js';
import { encodeJpeg, encodePng, makeImage } from '../../src/preprocess/image.js';
import { openDataDb } from '../../src/data/db.js';
import { oversizedPng } from './oversized-png.js';

const ROOT = tmpDir('logolab-foldcorrupt-');
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function noisy(w: number, h: number) {
  const img = makeImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 7919) % 251;
  return img;
}

describe('prepare (folder layout): undecodable images', () => {
  it('an image over the pixel limit is image_too_large naming the file', async () => {
    const ds = join(ROOT, 'ds-big');
    const refs = join(ds, 'acme_reference_images');
    mkdirSync(refs, { recursive: true });
    mkdirSync(join(ds, 'test_images'), { recursive: true });
    writeFileSync(join(refs, 'r1.png'), await encodePng(noisy(24, 24)));
    writeFileSync(join(refs, 'huge.png'), oversizedPng());
    writeFileSync(join(ds, 'test_images', 'acme_1.jpg'), await encodeJpeg(noisy(64, 64)));
    const out = join(ROOT, 'out-big');
    const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).skipped, { image_too_large: 1 });
    const db = openDataDb(out);
    try {
      assert.deepEqual(db.skipped().map((k) => k.detail), [`${join(refs, 'huge.png')}: more pixels than the decoder accepts (sharp's limit, 16383 × 16383); downscale it`]);
    } finally {
      db.close();
    }
  });

  it('a truncated JPEG is skipped as corrupt_image naming the file, and the counts are true', async () => {
    const ds = join(ROOT, 'ds');
    const refs = join(ds, 'acme_reference_images');
    mkdirSync(refs, { recursive: true });
    mkdirSync(join(ds, 'test_images'), { recursive: true });
    const jpeg = await encodeJpeg(noisy(64, 64));
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    // the header still reads: the old header-only check passed this file
    assert.equal((await sharp(truncated).metadata()).width, 64);
    writeFileSync(join(refs, 'r1.png'), await encodePng(noisy(24, 24)));
    writeFileSync(join(refs, 'r2.jpg'), truncated);
    writeFileSync(join(ds, 'test_images', 'acme_1.jpg'), jpeg);
    writeFileSync(join(ds, 'test_images', 'acme_2.jpg'), truncated);
    const out = join(ROOT, 'out');
    const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.referenceImages, 1);
    assert.equal(s.testImages, 1);
    assert.deepEqual(s.skipped, { corrupt_image: 2 });
    assert.deepEqual(s.totals.skipped, { corrupt_image: 2 });
    assert.equal(s.totals.referenceCrops, 1);
    assert.equal(s.totals.testImages, 1);
    assert.ok(!existsSync(join(out, 'reference_logos', 'acme', 'r2.jpg')), 'the corrupt reference was placed in the data dir');
    assert.ok(!existsSync(join(out, 'test_images', 'acme_2.jpg')), 'the corrupt test image was placed in the data dir');
    const db = openDataDb(out);
    try {
      const skipped = db.skipped();
      assert.deepEqual(skipped.map((k) => [k.source, k.kind]).sort(), [['ref:acme/r2.jpg', 'corrupt_image'], ['test:acme_2.jpg', 'corrupt_image']]);
      for (const k of skipped) assert.match(k.detail, new RegExp(`^${join(ds).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/.*(r2|acme_2)\\.jpg: \\S`), k.detail);
    } finally {
      db.close();
    }
  });
});
