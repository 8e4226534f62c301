/**
 * GIFs decode as PIL's `Image.open(p).convert('RGB')` does (HF's load_image): the transparent
 * palette index keeps its stored colour. libvips returned those pixels black (alpha 0, then
 * removed), so a transparent-background logo embedded on black here and on white in Python.
 * Expected pixels: scripts/torch_ref/make_gif_fixtures.py (Pillow 9.4.0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { gifTransparentColour } from '../../src/preprocess/gif.js';

const DIR = join(FIXTURES, 'gif');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { cases: Record<string, { width: number; height: number; rgb: number[] }> };

test('GIF: every fixture decodes to PIL convert(RGB), exactly (file and Buffer)', async () => {
  const names = Object.keys(expected.cases);
  assert.equal(names.length, 5);
  for (const name of names) {
    const want = expected.cases[name]!;
    for (const src of [join(DIR, name), readFileSync(join(DIR, name))]) {
      const img = await decodeImage(src, name);
      assert.deepEqual([img.width, img.height], [want.width, want.height], name);
      assert.deepEqual(Array.from(img.data), want.rgb, name);
    }
  }
});

test('GIF: the fixtures exercise transparency (PIL keeps white where libvips gave black)', () => {
  // index 0 (white) is transparent in the global, local and animated cases; index 2 in another
  for (const name of ['transparent_global.gif', 'transparent_local.gif', 'animated_transparent.gif']) {
    assert.deepEqual(gifTransparentColour(readFileSync(join(DIR, name))), [255, 255, 255], name);
  }
  assert.notEqual(gifTransparentColour(readFileSync(join(DIR, 'transparent_index2.gif'))), null);
  assert.equal(gifTransparentColour(readFileSync(join(DIR, 'opaque.gif'))), null);
  assert.ok(!expected.cases['transparent_global.gif']!.rgb.slice(0, 3).every((v) => v === 0), 'pixel 0 is not black in PIL');
  // a truncated stream is left to libvips (which reports it)
  assert.equal(gifTransparentColour(readFileSync(join(DIR, 'transparent_global.gif')).subarray(0, 12)), null);
});
