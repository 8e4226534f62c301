/** A sweep where F1 is 0 at every threshold has no "best F1" threshold: the report says none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexReferences, type SimilaritySet } from '../../src/eval/evaluate.js';
import { compareModels } from '../../src/report/compare.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import type { MatchOptions } from '../../src/match/matchers.js';

process.env.LOGOLAB_QUIET = '1';

const e = () => Float32Array.of(1, 0);

/** One image holding acme, one region; refs acme a1 a2, bolt b1 b2 with the given similarities. */
function prepared(sims: number[]): SimilaritySet {
  const set: EmbeddedSet = {
    logos: ['acme', 'bolt'],
    refs: [{ id: 'a1', logo: 'acme', embedding: e() }, { id: 'a2', logo: 'acme', embedding: e() }, { id: 'b1', logo: 'bolt', embedding: e() }, { id: 'b2', logo: 'bolt', embedding: e() }],
    images: [{ id: 'i', name: 'x.jpg', expected: ['acme'], regions: [{ id: 'i#0', box: [0, 0, 10, 10], score: 1, embedding: e() }] }],
    meta: {},
  };
  return { set, index: indexReferences(set.logos, set.refs), refSims: [{ rows: 1, cols: 4, data: Float32Array.from(sims) }], logoSims: [{ rows: 1, cols: 2, data: Float32Array.of(0.5, 0.5) }] };
}

test('best F1: none when F1 is 0 at every threshold, not the sweep\'s first threshold; a model with a true positive keeps its best', () => {
  const o: MatchOptions = { method: 'margin', threshold: 0.7, margin: 0.05, minMatchingRefs: 1, aggregation: 'mean' };
  // baseline: the region's best reference is acme's (a true positive up to 0.9); candidate: bolt's at every threshold
  const d = compareModels([{ label: 'baseline', name: 'b', prepared: prepared([0.9, 0.1, 0.2, 0.2]) }, { label: 'candidate', name: 'c', prepared: prepared([0.2, 0.1, 0.9, 0.3]) }], o, [0, 0.25, 0.5, 0.75, 1], 'logos', { detector: 'gt-boxes', seed: 1, refsPerLogo: 2, positiveSamples: 1, negativeSamples: 0 });
  assert.equal(d.models[0]!.best.threshold, 0);
  assert.ok(d.models[0]!.best.counts.f1 > 0);
  assert.equal(d.models[1]!.best.threshold, null);
  assert.equal(d.models[1]!.best.counts.f1, 0);
  const md = renderMarkdown(d);
  assert.match(md, /\| baseline @ best F1 \| 0 \| 1 \| 0 \| 0 \| 1 \| 100\.0% \|/);
  assert.match(md, /\| candidate @ best F1 \| none \| – \| – \| – \| 1 \| – \| – \| 0\.0% \|/);
  assert.match(md, /Best F1 "none": no threshold of the sweep gives an F1 above 0/);
  const html = renderHtml(d);
  assert.match(html, /<td class="name">candidate @ best F1<\/td><td class="">none<\/td>/);
  assert.match(html, /<p>Best F1 &quot;none&quot;: no threshold/);
  // both with a best threshold: no note
  const both = compareModels([{ label: 'baseline', name: 'b', prepared: prepared([0.9, 0.1, 0.2, 0.2]) }, { label: 'candidate', name: 'c', prepared: prepared([0.9, 0.1, 0.2, 0.2]) }], o, [0, 0.5, 1], 'logos', { detector: 'gt-boxes', seed: 1, refsPerLogo: 2, positiveSamples: 1, negativeSamples: 0 });
  assert.doesNotMatch(renderMarkdown(both), /Best F1 "none"/);
});
