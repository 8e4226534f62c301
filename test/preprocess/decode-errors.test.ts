/**
 * decodeImage's error is the file's own reason however many decodes run beside it: libvips keeps
 * one error buffer per process, so concurrent failures used to read another file's text (a PNG
 * blamed on "VipsJpeg: premature end of JPEG image") or "Unknown error" (src/preprocess/vips-errors.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImage } from '../../src/preprocess/image.js';
import { tmpDir } from '../helpers.js';
import { corruptImages } from './corrupt-images.js';

const outcome = (p: string) => decodeImage(p).then(
  (img) => `ok ${img.width}x${img.height}`,
  (e: Error) => e.message,
);

test('concurrent decodes: every failure names its own file with the reason it gives alone', async () => {
  const { bad, good } = await corruptImages(tmpDir('logolab-decerr-'));
  // alone, one after another: the reference
  const alone = new Map<string, string>();
  for (const p of [...bad, ...good]) alone.set(p, await outcome(p));
  for (const p of bad) assert.match(alone.get(p)!, new RegExp(`^cannot decode image ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (?!Unknown error)`));
  // many rounds, each file several times at once (the race shows within a few rounds without the fix)
  const batch = [...bad, ...good, ...bad, ...bad, ...good];
  for (let round = 0; round < 25; round++) {
    const got = await Promise.all(batch.map(outcome));
    got.forEach((m, k) => assert.equal(m, alone.get(batch[k]!), `round ${round}: ${batch[k]}`));
  }
});

test('a decode started while a failed one is retried alone still completes (no deadlock, no lost result)', async () => {
  const { bad, good } = await corruptImages(tmpDir('logolab-decerr2-'));
  const first = Promise.all(bad.map(outcome));
  // queued behind the retries
  const later = Promise.all(good.map(outcome));
  const [a, b] = await Promise.all([first, later]);
  assert.ok(a.every((m) => m.startsWith('cannot decode image ')));
  assert.deepEqual(b, good.map(() => 'ok 64x48'));
});
