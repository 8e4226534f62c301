/** The gallery scores logos on the matcher's own scale: multi-ref's aggregate, not the best single reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, indexReferences, type SimilaritySet } from '../../src/eval/evaluate.js';
import { buildGallery } from '../../src/report/gallery.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import type { Aggregation, MatchingMethod, MatchOptions } from '../../src/match/matchers.js';

const e = () => Float32Array.of(1, 0);
const BOX: [number, number, number, number] = [0, 0, 10, 10];

/**
 * One image holding acme, one region; two references per logo. Similarities (given directly):
 * acme refs 0.8 / 0.2 (mean 0.5, max 0.8), bolt refs 0.7 / 0.7 (mean 0.7, max 0.7).
 */
function prepared(): SimilaritySet {
  const set: EmbeddedSet = {
    logos: ['acme', 'bolt'],
    refs: [{ id: 'a1', logo: 'acme', embedding: e() }, { id: 'a2', logo: 'acme', embedding: e() }, { id: 'b1', logo: 'bolt', embedding: e() }, { id: 'b2', logo: 'bolt', embedding: e() }],
    images: [{ id: 'i', name: 'x.jpg', expected: ['acme'], regions: [{ id: 'i#0', box: BOX, score: 1, embedding: e() }] }],
    meta: {},
  };
  return { set, index: indexReferences(set.logos, set.refs), refSims: [{ rows: 1, cols: 4, data: Float32Array.of(0.8, 0.2, 0.7, 0.7) }], logoSims: [{ rows: 1, cols: 2, data: Float32Array.of(0.6, 0.7) }] };
}

const opts = (method: MatchingMethod, aggregation: Aggregation): MatchOptions => ({ method, threshold: 0.6, margin: 0.05, minMatchingRefs: 1, aggregation });
const fnAt = (o: MatchOptions, threshold: number) => buildGallery('m', prepared(), [[{ logo: 'acme', box: BOX }]], o, threshold, 'logos').falseNegatives;

test('gallery, multi-ref mean: the FN region\'s own-logo similarity is the aggregate the matcher compared (0.5), not its best reference (0.8)', () => {
  const o = opts('multi-ref', 'mean');
  // the matcher took the region for bolt at 0.7 (mean), beating acme's mean 0.5
  const run = evaluate(prepared(), o);
  assert.deepEqual(run.outcomes[0]!.matches.map((m) => [m.logo, m.similarity]), [['bolt', 0.699999988079071]]);
  const [fn] = fnAt(o, 0.6);
  assert.equal(fn!.truth, 'acme');
  assert.equal(fn!.takenFor, 'bolt');
  assert.ok(Math.abs(fn!.takenForSimilarity! - 0.7) < 1e-6);
  assert.ok(Math.abs(fn!.similarity! - 0.5) < 1e-6, `own-logo similarity ${fn!.similarity} on the matcher's scale`);
  assert.ok(fn!.similarity! < fn!.takenForSimilarity!, 'the logo it was taken for scored higher, as the matcher saw it');
});

test('gallery, multi-ref mean with nothing matched: "taken for" is the best logo by aggregate (bolt 0.7), not by best reference (acme 0.8)', () => {
  // at 0.75 acme (mean 0.5) is the only candidate (one ref ≥ 0.75) and falls below the threshold: no match
  const [fn] = fnAt(opts('multi-ref', 'mean'), 0.75);
  assert.equal(fn!.takenFor, 'bolt');
  assert.ok(Math.abs(fn!.takenForSimilarity! - 0.7) < 1e-6);
  assert.ok(Math.abs(fn!.similarity! - 0.5) < 1e-6);
});

test('gallery, other methods keep their scales: multi-ref max and margin the best reference, averaged the averaged embedding', () => {
  for (const [method, aggregation, own] of [['multi-ref', 'max', 0.8], ['margin', 'mean', 0.8], ['averaged', 'mean', 0.6]] as const) {
    const [fn] = fnAt(opts(method, aggregation), 0.9); // nothing reaches 0.9: the FN shows its best logo below it
    assert.ok(Math.abs(fn!.similarity! - own) < 1e-6, `${method}/${aggregation}: own ${fn!.similarity}`);
  }
});

test('gallery without boxes to match (folder layout) or with one whole-image region: the region holds the image\'s own logos', () => {
  const whole: [number, number, number, number] = [0, 0, 100, 80];
  const p = prepared();
  p.set.images[0]!.regions[0]!.box = whole;
  // a folder layout: ground truth without boxes. At 0.85 nothing matches: acme is an FN shown on
  // the whole image (it used to be "no region"), taken for its best logo below the threshold
  const [fn] = buildGallery('m', p, [[{ logo: 'acme' }]], opts('margin', 'mean'), 0.85, 'logos').falseNegatives;
  assert.deepEqual(fn!.box, whole);
  assert.equal(fn!.truth, 'acme');
  assert.equal(fn!.takenFor, 'acme');
  // a small gt box inside the one whole-image region (IoU < 0.5): the region still holds it; a
  // false positive there names what the image holds, not "background"
  p.set.images[0]!.expected = ['bolt'];
  const g = buildGallery('m', p, [[{ logo: 'acme', box: [10, 10, 20, 20] }, { logo: 'bolt', box: [40, 40, 50, 50] }]], opts('simple', 'mean'), 0.75, 'logos');
  assert.equal(g.falsePositives[0]!.takenFor, 'acme');
  assert.equal(g.falsePositives[0]!.truth, 'acme, bolt');
});
