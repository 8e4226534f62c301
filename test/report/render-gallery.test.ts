/** What the worst-mistakes gallery says about each item, in report.html and report.md. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexReferences, type SimilaritySet } from '../../src/eval/evaluate.js';
import { compareModels, type CompareData } from '../../src/report/compare.js';
import { buildGallery, type GalleryItem } from '../../src/report/gallery.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import type { MatchOptions } from '../../src/match/matchers.js';

process.env.LOGOLAB_QUIET = '1';

const BOX: [number, number, number, number] = [0, 0, 10, 10];
const e = () => Float32Array.of(1, 0);

/** One image holding acme, one region; refs acme a1 a2, bolt b1 b2 with the given similarities. */
function prepared(sims: number[]): SimilaritySet {
  const set: EmbeddedSet = {
    logos: ['acme', 'bolt'],
    refs: [{ id: 'a1', logo: 'acme', embedding: e() }, { id: 'a2', logo: 'acme', embedding: e() }, { id: 'b1', logo: 'bolt', embedding: e() }, { id: 'b2', logo: 'bolt', embedding: e() }],
    images: [{ id: 'i', name: 'x.jpg', expected: ['acme'], regions: [{ id: 'i#0', box: BOX, score: 1, embedding: e() }] }],
    meta: {},
  };
  const mean = (a: number, b: number) => (a + b) / 2;
  return { set, index: indexReferences(set.logos, set.refs), refSims: [{ rows: 1, cols: 4, data: Float32Array.from(sims) }], logoSims: [{ rows: 1, cols: 2, data: Float32Array.of(mean(sims[0]!, sims[1]!), mean(sims[2]!, sims[3]!)) }] };
}

function report(o: MatchOptions, sims: number[]): CompareData {
  const p = prepared(sims);
  const d = compareModels([{ label: 'baseline', name: 'b', prepared: p }, { label: 'candidate', name: 'c', prepared: p }], o, [0, 0.5, 1], 'logos', { detector: 'gt-boxes', seed: 1, refsPerLogo: 2, positiveSamples: 1, negativeSamples: 0 });
  d.gallery = [buildGallery('baseline', p, [[{ logo: 'acme', box: BOX }]], o, o.threshold, 'logos')];
  return d;
}

const item = (over: Partial<GalleryItem>): GalleryItem => ({ image: 'x.jpg', imageIndex: 0, box: BOX, takenFor: 'bolt', takenForSimilarity: 0.744, similarity: 0.744, truth: null, ...over });

test('gallery: an item with a region but no picture says the picture is unavailable, not "no region"', () => {
  const d = report({ method: 'margin', threshold: 0.6, margin: 0.05, minMatchingRefs: 1, aggregation: 'max' }, [0.9, 0.1, 0.2, 0.2]);
  d.gallery = [{ label: 'baseline', threshold: 0.6, falsePositives: [item({})], falseNegatives: [item({ box: null, takenFor: null, takenForSimilarity: null, similarity: null, truth: 'acme' })] }];
  const html = renderHtml(d);
  const figures = html.match(/<figure>.*?<\/figure>/g) ?? [];
  assert.equal(figures.length, 2);
  assert.match(figures[0]!, /picture unavailable/);
  assert.doesNotMatch(figures[0]!, /no region/);
  assert.match(figures[1]!, /<div class="noimg">no region<\/div>/);
});

/** The FN row of report.md's gallery, and the FN figure's caption in report.html. */
function fnTexts(d: CompareData): { md: string; html: string } {
  const md = renderMarkdown(d).split('\n').find((l) => l.startsWith('| FN |'))!;
  const html = renderHtml(d).match(/<h4>False negatives<\/h4><div class="gallery"><figure>.*?<figcaption>(.*?)<\/figcaption>/)![1]!;
  return { md, html };
}

test('gallery FN: a region that matched nothing shows its best logo and the condition the matcher failed, not "taken for"', () => {
  const base: MatchOptions = { method: 'margin', threshold: 0.7, margin: 0.05, minMatchingRefs: 1, aggregation: 'max' };
  // multi-ref, margin 0: acme's best reference 0.8 passes the threshold, but one of its references
  // does, not the 2 required (it used to read "margin not met", with a margin of 0)
  let t = fnTexts(report({ ...base, method: 'multi-ref', minMatchingRefs: 2, margin: 0, threshold: 0.5 }, [0.8, 0.2, 0.3, 0.3]));
  assert.match(t.md, /\| its own logo \(not matched: fewer than 2 of its references ≥ threshold 0\.5\) \|/);
  assert.match(t.html, /its own logo, not matched: fewer than 2 of its references ≥ threshold 0\.5/);
  // no reference of the best logo reaches the threshold: below it, whatever min-refs is
  t = fnTexts(report({ ...base, method: 'multi-ref', minMatchingRefs: 2, threshold: 0.85 }, [0.8, 0.2, 0.3, 0.3]));
  assert.match(t.md, /\| its own logo \(not matched: below threshold 0\.85\) \|/);
  // margin: bolt's best reference 0.95 is 0.02 above the next (0.93): nothing matched (it used to
  // read "taken for bolt")
  t = fnTexts(report(base, [0.6, 0.1, 0.95, 0.93]));
  assert.match(t.md, /\| best logo bolt \(not matched: margin 0\.05 over the second-best reference not met\) \| 0\.600 \(own\) \/ 0\.950 \|/);
  assert.match(t.html, /best logo <b>bolt<\/b> \(0\.950\), not matched: margin 0\.05 over the second-best reference not met/);
  assert.doesNotMatch(t.html, /taken for/);
  // averaged: the best logo (bolt, 0.55) is below the threshold
  t = fnTexts(report({ ...base, method: 'averaged' }, [0.4, 0.2, 0.6, 0.5]));
  assert.match(t.md, /\| best logo bolt \(not matched: below threshold 0\.7\) \|/);
  // multi-ref margin over the second-best logo, on its own logo
  t = fnTexts(report({ ...base, method: 'multi-ref' }, [0.9, 0.8, 0.88, 0.1]));
  assert.match(t.md, /\| its own logo \(not matched: margin 0\.05 over the second-best logo not met\) \|/);
  // matched to another logo: "taken for" it
  t = fnTexts(report(base, [0.6, 0.1, 0.95, 0.5]));
  assert.match(t.md, /\| FN \| x\.jpg \| acme \| bolt \| 0\.600 \(own\) \/ 0\.950 \|/);
  assert.match(t.html, /taken for <b>bolt<\/b> \(0\.950\)/);
});
