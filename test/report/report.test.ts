import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { makeTinyDataDir, fakeEncoder } from '../eval/tinydata.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { sampleTest } from '../../src/eval/sample.js';
import { embedSet } from '../../src/eval/pipeline.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { similaritySet, evaluate } from '../../src/eval/evaluate.js';
import { compareModels, perLogoCounts } from '../../src/report/compare.js';
import { renderHtml, renderMarkdown, plots, thresholdRange } from '../../src/report/render.js';
import { binCounts } from '../../src/report/svg.js';
import { parseNumberList } from '../../src/eval/sweep.js';
import type { MatchOptions } from '../../src/match/matchers.js';

process.env.LOGOLAB_QUIET = '1';

test('compare report: both models on every plot, tables, wins/losses consistent with per-logo F1', async () => {
  const data = join(tmpDir('logolab-report-'), 'data');
  await makeTinyDataDir(data, { perLogo: 6, negatives: 4 });
  const ds = datasetFromDataDir(data);
  const s = sampleTest(ds, { numLogos: 4, refsPerLogo: 2, positiveSamples: 3, negativeSamples: 3, seed: 2 });
  const base = await embedSet(fakeEncoder('base', 'fb', 0.3), gtBoxes, s.refs, s.images, s.logos, { quiet: true });
  const cand = await embedSet(fakeEncoder('cand', 'fc', 0.08), gtBoxes, s.refs, s.images, s.logos, { quiet: true });
  const o: MatchOptions = { method: 'multi-ref', threshold: 0.7, margin: 0.02, minMatchingRefs: 1, aggregation: 'max' };
  const ts = parseNumberList('0:1:0.05', 't');
  const d = compareModels([{ label: 'baseline', name: 'base', prepared: similaritySet(base) }, { label: 'candidate', name: 'cand', prepared: similaritySet(cand) }], o, ts, 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 2, positiveSamples: 3, negativeSamples: 3 });
  assert.equal(d.models.length, 2);
  assert.equal(d.wins + d.losses + d.ties, 4);
  for (const p of d.perLogo) assert.equal(p.verdict, p.candidate.f1 > p.baseline.f1 ? 'win' : p.candidate.f1 < p.baseline.f1 ? 'loss' : 'tie');
  // the less noisy candidate separates better
  assert.ok(d.models[1]!.best.counts.f1 >= d.models[0]!.best.counts.f1, JSON.stringify(d.models.map((m) => m.best)));
  // the sweep at the given threshold equals the at-threshold metrics
  const cell = d.models[0]!.sweep.find((c) => Math.abs(c.options.threshold - 0.7) < 1e-9)!;
  assert.deepEqual(cell.counts, d.models[0]!.atThreshold);
  const ps = plots(d);
  assert.equal(ps.length, 5);
  for (const p of ps) {
    assert.match(p.svg, /^<svg /);
    assert.ok(p.svg.includes('baseline') && p.svg.includes('candidate'), `${p.title} shows both models`);
    assert.ok(!p.svg.includes('NaN'), `${p.title} has NaN coordinates`);
  }
  // precision vs threshold: no point where a threshold leaves no match (0/0), as in the PR curve
  const paths = [...ps.find((p) => p.title === 'Precision vs threshold')!.svg.matchAll(/<path d="([^"]+)" fill="none"/g)].map((m) => m[1]!.split(' ').length);
  // (within the plotted threshold range: where the region similarities lie)
  const xr = thresholdRange(d.models.map((m) => m.sweep));
  assertNothingCut(d);
  // simple matching too: a region's other logos cross thresholds below its best logo's similarity
  const dSimple = compareModels([{ label: 'baseline', name: 'base', prepared: similaritySet(base) }, { label: 'candidate', name: 'cand', prepared: similaritySet(cand) }], { ...o, method: 'simple', margin: 0 }, ts, 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 2, positiveSamples: 3, negativeSamples: 3 });
  assertNothingCut(dSimple);
  const defined = d.models.map((m) => m.sweep.filter((c) => c.counts.tp + c.counts.fp > 0 && c.options.threshold >= xr[0] && c.options.threshold <= xr[1]).length);
  assert.ok(defined.some((n, i) => n < d.models[i]!.sweep.filter((c) => c.options.threshold >= xr[0] && c.options.threshold <= xr[1]).length), 'the sweep reaches a threshold without matches');
  assert.deepEqual(paths, defined);
  const html = renderHtml(d);
  assert.equal((html.match(/<svg /g) ?? []).length, 5);
  assert.ok(!/<script/i.test(html));
  const md = renderMarkdown(d);
  assert.match(md, /\| baseline @ given \| 0.7 \|/);
  assert.match(md, /\d+ wins?, \d+ loss(es)?, \d+ ties? for the candidate/);
  JSON.parse(JSON.stringify(d)); // serialisable
  // per-logo counts add up to the image-level totals
  const r = evaluate(similaritySet(cand), o);
  const pl = perLogoCounts(r.outcomes, s.logos);
  assert.equal(Object.values(pl).reduce((a, c) => a + c.tp, 0), r.tp);
  assert.equal(Object.values(pl).reduce((a, c) => a + c.fn, 0), r.fn);
});

/** Nothing the curves do is cut from the plots: outside the range every model's counts are those at the sweep's ends. */
function assertNothingCut(d: ReturnType<typeof compareModels>): void {
  const xr = thresholdRange(d.models.map((m) => m.sweep));
  for (const m of d.models) {
    const key = (c: (typeof m.sweep)[number]) => `${c.counts.tp}/${c.counts.fp}/${c.counts.fn}`;
    const [lo, hi] = [m.sweep[0]!, m.sweep[m.sweep.length - 1]!];
    for (const c of m.sweep) {
      if (c.options.threshold < xr[0]) assert.equal(key(c), key(lo), `${m.label} changes at ${c.options.threshold}, below the plotted ${xr[0]}`);
      if (c.options.threshold > xr[1]) assert.equal(key(c), key(hi), `${m.label} changes at ${c.options.threshold}, above the plotted ${xr[1]}`);
    }
  }
}

test('histogram bins: inclusive top edge, out-of-range ignored', () => {
  assert.deepEqual(binCounts([0, 0.5, 1, 1.5, -1], 0, 1, 2), [1, 2]);
});

const curve = (ts: number[], key: (t: number) => number) => ts.map((t) => ({ options: { threshold: t }, counts: { tp: key(t), fp: 0, fn: 10 - key(t) } }));

test('threshold plots span where the curves change, within the sweep (a 0-1 sweep over 0.95-0.99 is not squeezed to its last pixels)', () => {
  const ts = Array.from({ length: 101 }, (_, k) => k / 100);
  // tp steps at 0.95, 0.97, 0.99: flat from 0 to 0.95 and from 0.99 up
  const steps = (at: number[]) => (t: number) => at.filter((a) => t <= a + 1e-9).length;
  assert.deepEqual(thresholdRange([curve(ts, steps([0.95, 0.97, 0.99]))]), [0.93, 1]);
  assert.deepEqual(thresholdRange([curve(ts, steps([0.1, 0.9]))]), [0.05, 0.96]);
  // two models: the union of where either changes
  assert.deepEqual(thresholdRange([curve(ts, steps([0.5])), curve(ts, steps([0.8]))]), [0.48, 0.83]);
  // flat curves, or none: the whole sweep
  assert.deepEqual(thresholdRange([curve(ts, () => 3)]), [0, 1]);
  assert.deepEqual(thresholdRange([]), [0, 1]);
  assert.deepEqual(thresholdRange([curve([0.5, 0.55, 0.6], steps([0.55]))]), [0.53, 0.6]);
  // simple matching: a region's other logos cross low thresholds although its best logo scores 0.8+
  // (the similarity-based range of before began at 0.78 and cut these steps off)
  assert.deepEqual(thresholdRange([curve(ts, steps([0.12, 0.2, 0.81, 0.9]))]), [0.08, 0.95]);
});
