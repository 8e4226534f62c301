/**
 * The library names the input at fault: an encoded Buffer that does not decode by its place in the
 * call (was "<buffer>"), an image too elongated for DETR by its path or label (was "resize: invalid
 * output size 1333x0"), and a corrupt file among several decoded at once with its own reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES, tmpDir } from '../helpers.js';
import { LogoLab, LogolabError, decodeImage } from '../../src/index.js';
import { makeImage } from '../../src/preprocess/image.js';
import { corruptImages } from '../preprocess/corrupt-images.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const DETR = join(FIXTURES, 'detr_tiny/model');
const IMG = join(FIXTURES, 'images/wide_300x200.png');

async function message(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof LogolabError, String(e));
    return e.message;
  }
  assert.fail('no error');
}

test('LogoLab: a corrupt Buffer is named by its index; a corrupt file among several by its path, with its own reason', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const { bad } = await corruptImages(tmpDir());
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const ok = readFileSync(IMG);
    const png = bad.find((p) => p.endsWith('trunc.png'))!;
    assert.match(await message(() => ll.averagedEmbedding([ok, ok, readFileSync(png)])), /^cannot decode image averagedEmbedding: image #3: vipspng: /);
    assert.match(await message(() => ll.embed(readFileSync(png))), /^cannot decode image embed: image: /);
    // detectAndMatch names itself, not the detect() it builds on
    const refs = { x: await ll.embed(IMG) };
    assert.match(await message(() => ll.detectAndMatch(readFileSync(png), refs)), /^cannot decode image detectAndMatch: image: /);
    assert.match(await message(() => ll.detectAndMatch(Buffer.from('junk'), refs)), /^cannot decode image detectAndMatch: image: /);
    assert.match(await message(() => ll.detectAndMatch({ width: 2, height: 2, data: new Uint8Array(3) }, refs)), /^detectAndMatch: image: /);
    const alone = new Map<string, string>();
    for (const p of bad) alone.set(p, await decodeImage(p).then(() => 'decoded', (e: Error) => e.message));
    for (let run = 0; run < 5; run++) {
      const m = await message(() => ll.averagedEmbedding([IMG, ...bad, ...bad]));
      const file = bad.find((p) => m.startsWith(`cannot decode image ${p}: `));
      assert.ok(file, m);
      assert.equal(m, alone.get(file), `run ${run}`);
    }
  } finally {
    ll.dispose();
  }
});

test('LogoLab.detect: an image too elongated for DETR is named (path, or the caller\'s label) with why', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const wide = join(tmpDir(), 'x8000x2.png');
  await sharp({ create: { width: 8000, height: 2, channels: 3, background: '#0a0' } }).png().toFile(wide);
  const ll = await LogoLab.load({ encoder: CLIP, detector: DETR, backend: 'cpu' });
  try {
    assert.match(await message(() => ll.detect(wide)), new RegExp(`^${wide}: 8000x2 is too elongated for the DETR processor: its shortest edge \\d+ / longest edge \\d+ gives \\d+x0, a side of 0 pixels$`));
    assert.match(await message(() => ll.detect(makeImage(2, 8000))), /^detect: image: 2x8000 is too elongated for the DETR processor/);
    const refs = { x: await ll.embed(IMG) };
    assert.match(await message(() => ll.detectAndMatch(makeImage(2, 8000), refs)), /^detectAndMatch: image: 2x8000 is too elongated for the DETR processor/);
  } finally {
    ll.dispose();
  }
});
