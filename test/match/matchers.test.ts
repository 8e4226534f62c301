import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRegion, matchMultiRef, matchMargin, matchSimple, matchAveraged, aggregatePerLogo, type MatchOptions, type RefLabels } from '../../src/match/matchers.js';
import { averagedEmbedding, cosine, similarityMatrix } from '../../src/match/similarity.js';
import { makeRng } from '../../src/util/rng.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// methodology: Nike has 3 refs, Adidas 3 refs
const NA: RefLabels = { labels: Int32Array.from([0, 0, 0, 1, 1, 1]), numLogos: 2 }; // 0 Nike, 1 Adidas
const NA_SIMS = [0.92, 0.91, 0.85, 0.78, 0.75, 0.72];

test('methodology: margin-only rejects Nike because Nike_ref2 is second best (0.92-0.91 < 0.05)', () => {
  assert.deepEqual(matchMargin(NA_SIMS, NA, 0.7, 0.05), []);
  // with a margin the refs clear, it matches Nike via ref 0
  assert.deepEqual(matchMargin(NA_SIMS, NA, 0.7, 0.005), [{ logo: 0, similarity: 0.92, ref: 0 }]);
});

test('methodology: multi-ref (max) accepts Nike, margin 0.92-0.78 = 0.14 ≥ 0.05', () => {
  const m = matchMultiRef(NA_SIMS, NA, { threshold: 0.7, margin: 0.05, minMatchingRefs: 1, aggregation: 'max' });
  assert.equal(m.length, 1);
  assert.equal(m[0]!.logo, 0);
  close(m[0]!.similarity, 0.92);
  assert.equal(m[0]!.numMatching, 3);
});

// methodology: five Nike refs
const NIKE5 = [0.92, 0.78, 0.85, 0.71, 0.88];
const ONE_LOGO: RefLabels = { labels: new Int32Array(5), numLogos: 1 };

test('methodology: mean = 0.828, max = 0.92', () => {
  const mean = aggregatePerLogo(NIKE5, ONE_LOGO, 0.8, 'mean');
  const max = aggregatePerLogo(NIKE5, ONE_LOGO, 0.8, 'max');
  close(mean.score[0]!, 0.828);
  close(max.score[0]!, 0.92);
  assert.equal(mean.count[0], 3); // 0.92, 0.85, 0.88 ≥ 0.80
});

test('methodology: threshold 0.80, min_matching_refs=2 → accepted (3 ≥ 2) with mean 0.828 / max 0.92; min 4 → rejected', () => {
  const base = { threshold: 0.8, margin: 0.05 };
  const mean = matchMultiRef(NIKE5, ONE_LOGO, { ...base, minMatchingRefs: 2, aggregation: 'mean' });
  const max = matchMultiRef(NIKE5, ONE_LOGO, { ...base, minMatchingRefs: 2, aggregation: 'max' });
  close(mean[0]!.similarity, 0.828);
  close(max[0]!.similarity, 0.92);
  assert.equal(mean[0]!.numMatching, 3);
  assert.deepEqual(matchMultiRef(NIKE5, ONE_LOGO, { ...base, minMatchingRefs: 4, aggregation: 'max' }), []);
  // "If only 1 reference was above threshold, the match would be rejected regardless of the aggregated score"
  assert.deepEqual(matchMultiRef([0.99, 0.5, 0.5, 0.5, 0.5], ONE_LOGO, { ...base, minMatchingRefs: 2, aggregation: 'max' }), []);
});

test('methodology margin example: 0.82 vs 0.79 with margin 0.05 → no match', () => {
  const two: RefLabels = { labels: Int32Array.from([0, 1]), numLogos: 2 };
  assert.deepEqual(matchMargin([0.82, 0.79], two, 0.7, 0.05), []);
  assert.deepEqual(matchAveraged([0.82, 0.79], 0.7, 0.05), []);
  assert.equal(matchAveraged([0.86, 0.79], 0.7, 0.05)[0]!.logo, 0);
});

test('mean aggregation can fall below the threshold even with enough matching refs', () => {
  // mean 0.76 < 0.8 although 2 refs ≥ 0.8
  const m = matchMultiRef([0.85, 0.82, 0.61], { labels: new Int32Array(3), numLogos: 1 }, { threshold: 0.8, margin: 0, minMatchingRefs: 2, aggregation: 'mean' });
  assert.deepEqual(m, []);
});

test('edge: no regions / no references give no matches', () => {
  const empty: RefLabels = { labels: new Int32Array(0), numLogos: 0 };
  for (const method of ['simple', 'margin', 'multi-ref', 'averaged'] as const) {
    assert.deepEqual(matchRegion([], empty, { method, threshold: 0, margin: 0, minMatchingRefs: 1, aggregation: 'max' }, []), []);
  }
  assert.equal(similarityMatrix([], [Float32Array.from([1, 0])]).data.length, 0);
});

test('edge: ties — margin > 0 rejects an exact tie, margin 0 accepts the lower index', () => {
  const two: RefLabels = { labels: Int32Array.from([0, 1]), numLogos: 2 };
  assert.deepEqual(matchMargin([0.8, 0.8], two, 0.7, 0.01), []);
  assert.deepEqual(matchMargin([0.8, 0.8], two, 0.7, 0), [{ logo: 0, similarity: 0.8, ref: 0 }]);
  const mr = matchMultiRef([0.8, 0.8], two, { threshold: 0.7, margin: 0, minMatchingRefs: 1, aggregation: 'max' });
  assert.equal(mr[0]!.logo, 0);
  assert.deepEqual(matchMultiRef([0.8, 0.8], two, { threshold: 0.7, margin: 0.01, minMatchingRefs: 1, aggregation: 'max' }), []);
  // threshold is inclusive (reference: sim >= threshold)
  assert.equal(matchSimple([0.7], { labels: Int32Array.from([0]), numLogos: 1 }, 0.7).length, 1);
});

test('edge: a logo with one reference — no margin check against itself; multi-ref margin is vs other candidates only', () => {
  const one: RefLabels = { labels: Int32Array.from([0]), numLogos: 1 };
  assert.equal(matchMargin([0.75], one, 0.7, 0.5).length, 1);
  // logo 1 has a single ref under the threshold → not a candidate, so no margin test for logo 0
  const two: RefLabels = { labels: Int32Array.from([0, 0, 1]), numLogos: 2 };
  const m = matchMultiRef([0.9, 0.6, 0.69], two, { threshold: 0.7, margin: 0.5, minMatchingRefs: 1, aggregation: 'max' });
  assert.equal(m.length, 1);
  // simple returns every reference over the threshold, duplicates per logo included
  assert.deepEqual(matchSimple([0.9, 0.8, 0.75], two, 0.7).map((x) => [x.logo, x.ref]), [[0, 0], [0, 1], [1, 2]]);
});

test('averaged embedding = normalised mean (reference get_averaged_embedding)', () => {
  const a = averagedEmbedding([Float32Array.from([1, 0]), Float32Array.from([0, 1])]);
  close(a[0]!, Math.SQRT1_2);
  close(a[1]!, Math.SQRT1_2);
  assert.throws(() => averagedEmbedding([]), /no embeddings/);
});

// ---- loop-based reference written straight from the methodology text, compared on random data ----
function naive(sims: number[], names: string[], o: MatchOptions, logoOrder: string[]): { logo: string; sim: number }[] {
  if (o.method === 'simple') return sims.map((s, j) => ({ logo: names[j]!, sim: s })).filter((x) => x.sim >= o.threshold).sort((a, b) => b.sim - a.sim);
  if (o.method === 'margin') {
    const order = sims.map((s, j) => ({ s, j })).sort((a, b) => b.s - a.s || a.j - b.j);
    if (!order.length || order[0]!.s < o.threshold) return [];
    if (order.length > 1 && order[0]!.s - order[1]!.s < o.margin) return [];
    return [{ logo: names[order[0]!.j]!, sim: order[0]!.s }];
  }
  // multi-ref
  const per: { logo: string; score: number; n: number }[] = [];
  for (const logo of logoOrder) {
    const s = sims.filter((_, j) => names[j] === logo);
    if (!s.length) continue;
    const n = s.filter((x) => x >= o.threshold).length;
    if (n < o.minMatchingRefs) continue;
    const score = o.aggregation === 'max' ? Math.max(...s) : s.reduce((a, b) => a + b, 0) / s.length;
    per.push({ logo, score, n });
  }
  per.sort((a, b) => b.score - a.score || logoOrder.indexOf(a.logo) - logoOrder.indexOf(b.logo));
  if (!per.length || per[0]!.score < o.threshold) return [];
  if (per.length > 1 && per[0]!.score - per[1]!.score < o.margin) return [];
  return [{ logo: per[0]!.logo, sim: per[0]!.score }];
}

test('vectorised matchers equal the loop reference on random similarity rows', () => {
  const rng = makeRng(7);
  const logos = ['a', 'b', 'c', 'd'];
  let nonEmpty = 0;
  for (let trial = 0; trial < 400; trial++) {
    const R = 1 + rng.int(10);
    const labels = Int32Array.from({ length: R }, () => rng.int(logos.length));
    // quantise so ties happen
    const sims = Array.from({ length: R }, () => Math.round(rng.uniform(0.4, 1) * 50) / 50);
    const o: MatchOptions = {
      method: (['simple', 'margin', 'multi-ref'] as const)[trial % 3]!,
      threshold: [0.6, 0.7, 0.8][rng.int(3)]!,
      margin: [0, 0.02, 0.05][rng.int(3)]!,
      minMatchingRefs: 1 + rng.int(3),
      aggregation: rng.next() < 0.5 ? 'mean' : 'max',
    };
    const got = matchRegion(Float32Array.from(sims), { labels, numLogos: logos.length }, o).map((m) => ({ logo: logos[m.logo]!, sim: m.similarity }));
    const want = naive(Array.from(Float32Array.from(sims)), Array.from(labels, (l) => logos[l]!), o, logos);
    assert.equal(got.length, want.length, `trial ${trial} ${JSON.stringify({ sims, labels: [...labels], o })}`);
    got.forEach((g, i) => {
      assert.equal(g.logo, want[i]!.logo, `trial ${trial}`);
      close(g.sim, want[i]!.sim, 1e-6);
    });
    if (got.length) nonEmpty++;
  }
  assert.ok(nonEmpty > 100, `too few matches exercised: ${nonEmpty}`);
});

test('similarityMatrix = cosine of normalised vectors', () => {
  const rng = makeRng(3);
  const v = () => {
    const x = Float32Array.from({ length: 8 }, () => rng.normal());
    const n = Math.hypot(...x);
    return x.map((y) => y / n);
  };
  const q = [v(), v()];
  const r = [v(), v(), v()];
  const m = similarityMatrix(q, r);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) close(m.data[i * 3 + j]!, cosine(q[i]!, r[j]!), 1e-6);
});
