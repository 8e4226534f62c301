import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, expectNoLeak } from '../helpers.js';
import { LogoLab } from '../../src/index.js';
import { cosine } from '../../src/match/similarity.js';
import { embedImages } from '../../src/embed/embedder.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { l2normalize } from '../../src/util/vector.js';

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
        const res = await ll.detectAndMatch(IMG, { wide: [a, b], tall: c }, { method, threshold: 0.999, ...(method === 'simple' ? {} : { margin: 0 }) });
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

test('LogoLab.detectAndMatch: unnormalised references (raw image_embeds, as `logolab embed` writes) match as their unit vectors, with cosine similarities', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const region = await ll.embed(IMG);
    const [rawWide, rawTall, rawSmall] = await embedImages(ll.model, await Promise.all([IMG, IMG2, SMALL].map((f) => decodeImage(f))), { normalize: false });
    for (const r of [rawWide!, rawTall!, rawSmall!]) assert.ok(Math.abs(Math.hypot(...r) - 1) > 0.1, `raw image_embeds are not unit vectors (norm ${Math.hypot(...r)})`);
    const unit = (v: Float32Array) => l2normalize(v);
    const raw = { wide: [rawWide!, rawSmall!], tall: rawTall! };
    const normed = { wide: [unit(rawWide!), unit(rawSmall!)], tall: unit(rawTall!) };
    // ×8 is exact in binary floating point: the normalised copies are bit-identical
    const scaled = { wide: [unit(rawWide!).map((x) => 8 * x), unit(rawSmall!).map((x) => 8 * x)], tall: unit(rawTall!).map((x) => 8 * x) };
    for (const method of ['simple', 'margin', 'multi-ref', 'averaged'] as const) {
      const o = { method, threshold: -1, ...(method === 'simple' ? {} : { margin: 0 }) }; // simple reads no margin
      const [a] = await ll.detectAndMatch(IMG, raw, o);
      const [b] = await ll.detectAndMatch(IMG, normed, o);
      const [c] = await ll.detectAndMatch(IMG, scaled, o);
      assert.ok(a!.matches.length > 0, method);
      assert.deepEqual(a!.matches.map((m) => m.logo), b!.matches.map((m) => m.logo), method);
      assert.deepEqual(c!.matches, b!.matches, method);
      for (const [i, m] of a!.matches.entries()) {
        assert.ok(Math.abs(m.similarity - b!.matches[i]!.similarity) < 1e-6, `${method}: ${m.similarity} vs ${b!.matches[i]!.similarity}`);
        assert.ok(m.similarity <= 1 + 1e-6 && m.similarity >= -1 - 1e-6, `${method}: a cosine, got ${m.similarity}`);
      }
    }
    // simple lists every reference: each similarity is compare()'s cosine with the raw reference
    const [s] = await ll.detectAndMatch(IMG, raw, { method: 'simple', threshold: -1 });
    const byLogo = { wide: [rawWide!, rawSmall!], tall: [rawTall!] };
    for (const [logo, refs] of Object.entries(byLogo)) {
      const got = s!.matches.filter((m) => m.logo === logo).map((m) => m.similarity).sort();
      const want = refs.map((r) => ll.compare(region, r)).sort();
      assert.equal(got.length, want.length);
      got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-6, `${logo}: ${g} vs compare() ${want[i]}`));
    }
    // a raw reference of the region's own image matches it at cosine 1 under the default threshold
    assert.equal((await ll.detectAndMatch(IMG, { wide: rawWide!, tall: rawTall! }, { method: 'averaged', margin: 0 }))[0]!.matches[0]?.logo, 'wide');
    // the caller's arrays are left as they were
    assert.ok(Math.abs(Math.hypot(...rawWide!) - 1) > 0.1);
  } finally {
    ll.dispose();
  }
});

test('LogoLab.detectAndMatch: a NaN, all-zero or wrong-size reference is an error naming it', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const good = await ll.embed(IMG);
    const bad = (refs: Record<string, Float32Array | Float32Array[]>, re: RegExp) => assert.rejects(() => ll.detectAndMatch(IMG, refs), (e: Error) => e.name === 'LogolabError' && re.test(e.message), re.source);
    const nan = good.slice();
    nan[3] = NaN;
    await bad({ acme: [good, nan], bolt: good }, /^references\['acme'\]\[1\]: NaN at dimension 3/);
    const inf = good.slice();
    inf[0] = -Infinity;
    await bad({ acme: inf }, /^references\['acme'\]: -Inf at dimension 0/);
    await bad({ acme: good, bolt: [new Float32Array(24)] }, /^references\['bolt'\]\[0\]: all zeros/);
    await bad({ acme: [good, new Float32Array(512).fill(0.1)] }, /^references\['acme'\]\[1\]: embedding dimension 512, but the encoder's embeddings have 24/);
    await bad({ acme: [[0.1, 0.2] as unknown as Float32Array] }, /^references\['acme'\]\[0\]: must be a Float32Array/);
    assert.equal(ll.embeddingDim, 24);
  } finally {
    ll.dispose();
  }
});

test('LogoLab.load: detector settings without a detector are an error naming the option (they were ignored)', async () => {
  for (const [k, v] of [['detrThreshold', 0.3], ['minBoxSize', 5], ['nmsIouThreshold', 0.4]] as const) {
    await assert.rejects(() => LogoLab.load({ encoder: CLIP, backend: 'cpu', [k]: v }), (e: Error) => e.name === 'LogolabError' && e.message.startsWith(`LogoLab.load: \`${k}\` (${v}) is a detector setting, but no \`detector\` was given`), k);
  }
});
