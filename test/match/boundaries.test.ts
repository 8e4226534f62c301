/**
 * Every matcher rule at its boundary. The values are dyadic (0.25, 0.5, 0.75 …), exact in float32
 * and float64, so "exactly at the threshold" and "exactly at the margin" are really exact and a
 * `>=` turned into `>` (or `<` into `<=`) in any rule fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatePerLogo, matchAveraged, matchMargin, matchMultiRef, matchRegion, matchSimple, MATCHING_METHODS, type RefLabels } from '../../src/match/matchers.js';

const T = 0.5; // threshold
const M = 0.25; // margin
const BELOW = 0.5 - 2 ** -20; // just under the threshold, exact in float32 and float64
const ONE: RefLabels = { labels: Int32Array.from([0]), numLogos: 1 };
const TWO_LOGOS: RefLabels = { labels: Int32Array.from([0, 1]), numLogos: 2 };
const f32 = (xs: number[]) => Float32Array.from(xs);

test('threshold is inclusive in every method: sim = threshold matches, one ulp-ish below does not', () => {
  assert.equal(matchSimple(f32([T]), ONE, T).length, 1);
  assert.equal(matchSimple(f32([BELOW]), ONE, T).length, 0);
  assert.equal(matchMargin(f32([T]), ONE, T, M).length, 1);
  assert.equal(matchMargin(f32([BELOW]), ONE, T, M).length, 0);
  assert.equal(matchAveraged(f32([T]), T, M).length, 1);
  assert.equal(matchAveraged(f32([BELOW]), T, M).length, 0);
  for (const aggregation of ['mean', 'max'] as const) {
    assert.equal(matchMultiRef(f32([T]), ONE, { threshold: T, margin: M, minMatchingRefs: 1, aggregation }).length, 1, aggregation);
    assert.equal(matchMultiRef(f32([BELOW]), ONE, { threshold: T, margin: M, minMatchingRefs: 1, aggregation }).length, 0, aggregation);
  }
});

test('margin is inclusive: best − second = margin matches, a hair less does not (margin, averaged)', () => {
  // 0.75 − 0.5 = 0.25 exactly
  assert.deepEqual(matchMargin(f32([0.75, 0.5]), TWO_LOGOS, T, M), [{ logo: 0, similarity: 0.75, ref: 0 }]);
  assert.deepEqual(matchMargin(f32([0.75, 0.5 + 2 ** -20]), TWO_LOGOS, T, M), []);
  assert.deepEqual(matchAveraged(f32([0.5, 0.75]), T, M), [{ logo: 1, similarity: 0.75 }]);
  assert.deepEqual(matchAveraged(f32([0.5 + 2 ** -20, 0.75]), T, M), []);
  // best exactly at the threshold AND exactly at the margin over the second: still a match
  assert.equal(matchMargin(f32([0.5, 0.25]), TWO_LOGOS, T, M).length, 1);
});

test('multi-ref: a reference exactly at the threshold counts toward min_matching_refs', () => {
  const three: RefLabels = { labels: Int32Array.from([0, 0, 0]), numLogos: 1 };
  const { count } = aggregatePerLogo(f32([T, T, 0.25]), three, T, 'max');
  assert.equal(count[0], 2);
  // count = min_matching_refs exactly → candidate; one more required → none
  assert.equal(matchMultiRef(f32([T, T, 0.25]), three, { threshold: T, margin: 0, minMatchingRefs: 2, aggregation: 'max' }).length, 1);
  assert.deepEqual(matchMultiRef(f32([T, T, 0.25]), three, { threshold: T, margin: 0, minMatchingRefs: 3, aggregation: 'max' }), []);
  assert.deepEqual(matchMultiRef(f32([T, BELOW, 0.25]), three, { threshold: T, margin: 0, minMatchingRefs: 2, aggregation: 'max' }), []);
});

test('multi-ref: an aggregated score exactly at the threshold matches (mean and max)', () => {
  const two: RefLabels = { labels: Int32Array.from([0, 0]), numLogos: 1 };
  // mean(0.75, 0.25) = 0.5 = threshold; one ref (0.75) ≥ threshold
  const mean = matchMultiRef(f32([0.75, 0.25]), two, { threshold: T, margin: 0, minMatchingRefs: 1, aggregation: 'mean' });
  assert.deepEqual(mean, [{ logo: 0, similarity: 0.5, numMatching: 1 }]);
  assert.deepEqual(matchMultiRef(f32([0.75, 0.25 - 2 ** -20]), two, { threshold: T, margin: 0, minMatchingRefs: 1, aggregation: 'mean' }), []);
  const max = matchMultiRef(f32([T, 0.25]), two, { threshold: T, margin: 0, minMatchingRefs: 1, aggregation: 'max' });
  assert.deepEqual(max, [{ logo: 0, similarity: 0.5, numMatching: 1 }]);
});

test('multi-ref: best − second candidate = margin matches, a hair less does not (mean and max)', () => {
  const refs: RefLabels = { labels: Int32Array.from([0, 0, 1, 1]), numLogos: 2 };
  // max: logo 0 → 1.0, logo 1 → 0.75; mean: logo 0 → 0.875, logo 1 → 0.625 — both gaps 0.25
  for (const aggregation of ['mean', 'max'] as const) {
    const o = { threshold: T, margin: M, minMatchingRefs: 1, aggregation };
    assert.equal(matchMultiRef(f32([1, 0.75, 0.75, 0.5]), refs, o)[0]?.logo, 0, aggregation);
    assert.deepEqual(matchMultiRef(f32([1, 0.75, 0.75, 0.5 + 2 ** -19]), refs, { ...o, aggregation: 'mean' }), []);
    assert.deepEqual(matchMultiRef(f32([1, 0.75, 0.75 + 2 ** -20, 0.5]), refs, o), [], aggregation);
  }
});

test('matchRegion applies the same boundaries for every method', () => {
  const sims = f32([0.75, 0.5]);
  const logoSims = f32([0.75, 0.5]);
  for (const method of MATCHING_METHODS) {
    const got = matchRegion(sims, TWO_LOGOS, { method, threshold: 0.75, margin: M, minMatchingRefs: 1, aggregation: 'mean' }, logoSims);
    assert.equal(got[0]?.logo, 0, method);
    assert.equal(got[0]?.similarity, 0.75, method);
  }
});

test('a non-finite similarity is an error in every method, wherever it stands (a NaN first would win and block the rest)', () => {
  for (const method of MATCHING_METHODS) {
    for (const sims of [f32([NaN, 0.75]), f32([0.75, NaN]), f32([Infinity, 0.75])]) {
      assert.throws(() => matchRegion(sims, TWO_LOGOS, { method, threshold: T, margin: M, minMatchingRefs: 1, aggregation: 'max' }, sims), /similarity to (reference|logo \(averaged references\)) [01] is (NaN|Infinity)/, `${method} [${sims.join(', ')}]`);
    }
  }
});
