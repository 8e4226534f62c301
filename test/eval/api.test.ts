import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, expectNoLeak } from '../helpers.js';
import { LogoLab } from '../../src/index.js';
import { cosine } from '../../src/match/similarity.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const DETR = join(FIXTURES, 'detr_tiny/model');
const IMG = join(FIXTURES, 'images/wide_300x200.png');
const IMG2 = join(FIXTURES, 'images/tall_97x151.png');
const SMALL = join(FIXTURES, 'images/small_40x23.png');

test('LogoLab: embed (path = Buffer), averagedEmbedding, compare, detectAndMatch with every method, no tensor leak', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    await expectNoLeak(async () => {
      const a = await ll.embed(IMG);
      const b = await ll.embed(readFileSync(IMG));
      assert.equal(a.length, 24); // clip_tiny projection_dim
      assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-5);
      assert.deepEqual([...a], [...b]);
      assert.ok(Math.abs(ll.compare(a, b) - 1) < 1e-6);
      const c = await ll.embed(IMG2);
      const avg = await ll.averagedEmbedding([IMG, IMG2]);
      assert.ok(cosine(avg, a) > ll.compare(a, c) - 1e-6);
      for (const method of ['simple', 'margin', 'multi-ref', 'averaged'] as const) {
        const res = await ll.detectAndMatch(IMG, { wide: [a, b], tall: c }, { method, threshold: 0.999, margin: 0 });
        assert.equal(res.length, 1, 'no detector: one whole-image region');
        assert.deepEqual(res[0]!.box, [0, 0, 300, 200]);
        assert.equal(res[0]!.matches[0]?.logo, 'wide', method);
      }
      await assert.rejects(() => ll.detectAndMatch(IMG, { x: [] }), /references\['x'\]/);
    });
  } finally {
    ll.dispose();
  }
});

test('LogoLab.detectAndMatch defaults are DEFAULT_MATCH (multi-ref aggregates by mean unless told max)', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const a = await ll.embed(IMG);
    // refs of one logo: the image itself (sim 1) and its opposite (sim −1): max 1 ≥ 0.7, mean 0 < 0.7
    const refs = { wide: [a, a.map((x) => -x)] };
    assert.deepEqual((await ll.detectAndMatch(IMG, refs, { method: 'multi-ref' }))[0]!.matches, []);
    assert.equal((await ll.detectAndMatch(IMG, refs, { method: 'multi-ref', aggregation: 'max' }))[0]!.matches[0]?.logo, 'wide');
    // the default method (margin) with its default threshold: the image matches itself
    assert.equal((await ll.detectAndMatch(IMG, { wide: a }))[0]!.matches[0]?.logo, 'wide');
  } finally {
    ll.dispose();
  }
});

test('LogoLab with a DETR detector: boxes inside the image, each with an embedding', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, detector: `detr:${DETR}`, detrThreshold: 0, minBoxSize: 1, nmsIouThreshold: 1, backend: 'wasm' });
  try {
    const dets = await ll.detect(SMALL);
    assert.ok(dets.length >= 1);
    for (const d of dets) {
      assert.ok(d.box[0] >= 0 && d.box[2] <= 40 && d.box[1] >= 0 && d.box[3] <= 23, JSON.stringify(d.box));
      assert.equal(d.embedding.length, 24);
    }
  } finally {
    ll.dispose();
  }
});
