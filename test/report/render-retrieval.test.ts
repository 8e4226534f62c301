/** report.md / report.html: the retrieval table when nothing could be retrieved; per-logo tie order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { similaritySet } from '../../src/eval/evaluate.js';
import { compareModels } from '../../src/report/compare.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import type { MatchOptions } from '../../src/match/matchers.js';
import { useBackend } from '../helpers.js';

process.env.LOGOLAB_QUIET = '1';

const O: MatchOptions = { method: 'margin', threshold: 0.5, margin: 0.05, minMatchingRefs: 1, aggregation: 'mean' };
const unit = (i: number, n: number) => Float32Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));

/** One image per logo holding it; `refsPerLogo` reference crops per logo (near-copies of its axis). */
function set(logos: string[], refsPerLogo: number): EmbeddedSet {
  const n = logos.length;
  return {
    logos,
    refs: logos.flatMap((logo, i) => Array.from({ length: refsPerLogo }, (_, j) => ({ id: `${logo}-${j}`, logo, embedding: unit(i, n).map((x, k) => x + (k === (i + 1) % n ? 0.01 * j : 0)) }))),
    images: logos.map((logo, i) => ({ id: `i${i}`, name: `${i}.jpg`, expected: [logo], regions: [{ id: `i${i}#0`, box: [0, 0, 9, 9] as [number, number, number, number], score: 1, embedding: unit(i, n) }] })),
    meta: {},
  };
}

function report(logos: string[], refsPerLogo: number) {
  const p = similaritySet(set(logos, refsPerLogo));
  return compareModels([{ label: 'baseline', name: 'b', prepared: p }, { label: 'candidate', name: 'c', prepared: p }], O, [0.5, 0.7], 'logos', { detector: 'gt-boxes', seed: 1, refsPerLogo, positiveSamples: 1, negativeSamples: 0 });
}

test('retrieval with every query lone (--refs-per-logo 1): n/a with the reason, not 0.0% as if measured', async () => {
  await useBackend('cpu');
  const d = report(['acme', 'bolt', 'cola'], 1);
  assert.equal(d.models[0]!.retrieval!.overall.num_queries, 0);
  const md = renderMarkdown(d);
  assert.match(md, /\| baseline \| n\/a \| n\/a \| n\/a \| n\/a \|/);
  assert.match(md, /\| candidate \| n\/a \| n\/a \| n\/a \| n\/a \|/);
  assert.match(md, /baseline: n\/a — all 3 queries lone/);
  const retrievalSection = md.slice(md.indexOf('## Retrieval'), md.indexOf('## Per logo'));
  assert.doesNotMatch(retrievalSection, /0\.0%/);
  const html = renderHtml(d);
  assert.match(html, /<td class="name">baseline<\/td><td class="">n\/a<\/td>/);
  assert.match(html, /<p>candidate: n\/a — all 3 queries lone/);
  // with a second crop per logo the metrics are measured and printed as before, with no note
  const m = renderMarkdown(report(['acme', 'bolt', 'cola'], 2));
  assert.match(m, /\| baseline \| 100\.0% \| 100\.0% \| 100\.0% \| 100\.0% \|/);
  assert.doesNotMatch(m, /queries lone/);
});

test('per-logo table: equal Δ F1 ordered by code units, whatever the locale', async () => {
  await useBackend('cpu');
  // both sides identical: every Δ is 0, the order is the tie-break alone
  const logos = ['B', 'Z', 'a', 'é'];
  const md = renderMarkdown(report(logos, 1));
  const rows = md.split('\n').filter((l) => /^\| (B|Z|a|é) \|/.test(l)).map((l) => l.split(' | ')[0]!.slice(2));
  assert.deepEqual(rows, ['B', 'Z', 'a', 'é']); // localeCompare gave a, B, é, Z
});

test('report.md escapes logo and file names in table cells; an FN taken for its own logo says why it failed', async () => {
  const d = report(['acme', 'bolt'], 2);
  d.perLogo[0]!.logo = 'click<b>up&co|x_y';
  d.gallery = [{ label: 'baseline', threshold: 0.9, falsePositives: [], falseNegatives: [{ image: 'a_b.jpg', imageIndex: 0, box: [0, 0, 1, 1], takenFor: 'helm', takenForSimilarity: 0.85, similarity: 0.85, truth: 'helm', unmatched: 'threshold' }] }];
  const m = renderMarkdown(d);
  assert.match(m, /\| click&lt;b&gt;up&amp;co\\\|x\\_y \|/);
  assert.match(m, /\| FN \| a\\_b\.jpg \| helm \| its own logo \(not matched: below threshold 0\.9\) \|/);
  assert.match(renderHtml(d), /holds <b>helm<\/b>: 0\.850<br>its own logo, not matched: below threshold 0\.9/);
  // nothing matched at a threshold: precision 0/0 reads n/a, not 0.0 %
  d.models[0]!.atThreshold = { ...d.models[0]!.atThreshold, tp: 0, fp: 0, fn: 2, precision: 0, recall: 0, f1: 0 };
  assert.match(renderMarkdown(d), /\| baseline @ given \| 0\.5 \| 0 \| 0 \| 2 \| 2 \| n\/a \| 0\.0% \| 0\.0% \|/);
});

test('report.md escapes the header and verdict lines too, and a line break in a name does not split a row or item', () => {
  const d = report(['acme', 'bolt'], 2);
  d.models[0]!.name = '/m/<img src=x onerror=alert(1)>_tiny_*x*';
  d.models[1]!.name = 'two\nlines';
  d.perLogo[0]!.logo = 'n\now';
  d.perLogo[1]!.logo = 'r\r\nn';
  const m = renderMarkdown(d);
  assert.ok(m.includes('- baseline: /m/&lt;img src=x onerror=alert(1)&gt;\\_tiny\\_\\*x\\*\n'), m);
  assert.doesNotMatch(m, /<img/);
  assert.match(m, /\n- candidate: two lines\n/);
  assert.match(m, /\n\| n ow \| /);
  assert.match(m, /\n\| r n \| /);
  assert.ok(m.split('\n').every((l) => !/^(ow|n|lines) /.test(l)), 'no row or item split');
  // the verdict stays one paragraph before the header list
  assert.match(m, /\*\*Verdict\.\*\* [^\n]+\n\n- /);
});

test('per-logo tally in words: 1 win, 1 loss, 1 tie; plurals otherwise', () => {
  const d = report(['acme', 'bolt'], 2);
  const md = (wins: number, losses: number, ties: number) => renderMarkdown({ ...d, wins, losses, ties });
  assert.match(md(1, 1, 1), /: 1 win, 1 loss, 1 tie for the candidate/);
  assert.match(md(2, 0, 3), /: 2 wins, 0 losses, 3 ties for the candidate/);
  assert.match(renderHtml({ ...d, wins: 1, losses: 0, ties: 1 }), /<h2>Per logo \(at each model's best-F1 threshold\): 1 win, 0 losses, 1 tie for the candidate<\/h2>/);
});
