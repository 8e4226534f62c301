/**
 * The report's reading aids: distinct axis ticks, paired bootstrap intervals and the verdict,
 * per-query precision@1 units, the worst-mistakes gallery, and thumbnails in the HTML.
 */
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
import { precisionAt1Hits, referenceRetrieval } from '../../src/eval/retrieval.js';
import { calibrate, calibrationSplit, parseNumberList, parseCalibrationTarget } from '../../src/eval/sweep.js';
import { compareModels } from '../../src/report/compare.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';
import { histogram, niceTicks } from '../../src/report/svg.js';
import { f1OfCounts, pairedBootstrap, percentile, rateOfHits } from '../../src/report/bootstrap.js';
import { buildGallery, truthOf } from '../../src/report/gallery.js';
import { logoThumbnails, galleryThumbnails } from '../../src/report/thumbnails.js';
import type { MatchOptions } from '../../src/match/matchers.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import { makeRng } from '../../src/util/rng.js';

process.env.LOGOLAB_QUIET = '1';

test('axis ticks: 1-2-5 steps inside the range, labels distinct even on a 0.98–1.0 axis', () => {
  for (const [lo, hi] of [[0.98, 1], [0.9812, 0.9998], [0, 1], [-0.2, 1], [0.5, 0.95], [0, 137]] as [number, number][]) {
    const t = niceTicks(lo, hi, 5);
    assert.ok(t.values.length >= 3, `${lo}..${hi}: ${t.labels}`);
    assert.equal(new Set(t.labels).size, t.labels.length, `${lo}..${hi}: duplicate labels ${t.labels}`);
    for (const v of t.values) assert.ok(v >= lo - 1e-12 && v <= hi + 1e-12, `${v} outside ${lo}..${hi}`);
  }
  assert.deepEqual(niceTicks(0.98, 1, 5).labels, ['0.980', '0.985', '0.990', '0.995', '1.000']);
  assert.deepEqual(niceTicks(0, 3, 5, true).labels, ['0', '1', '2', '3']); // counts: whole numbers only
  // the histogram: similarities crowded in 0.98–1.0 (it read 0.98, 0.98, 0.99, 0.99, 1)
  const svg = histogram([{ name: 'TP', values: [0.981, 0.99, 0.995, 0.999] }], { title: 't', xLabel: 'similarity' });
  const labels = [...svg.matchAll(/text-anchor="middle">([0-9.]+)<\/text>/g)].map((m) => m[1]);
  assert.ok(labels.length >= 4 && new Set(labels).size === labels.length, `x labels ${labels}`);
});

test('paired bootstrap: seeded, value inside its interval, pairing cancels shared noise, units must pair', () => {
  const rng = makeRng(5);
  const base = Array.from({ length: 200 }, () => [rng.next() < 0.5 ? 1 : 0, 1]);
  // the candidate gets exactly 20 more queries right than the baseline, on top of the same hits
  const cand = base.map((r, i) => [i < 40 ? 1 : r[0]!, 1]);
  const extra = cand.reduce((a, r) => a + r[0]!, 0) - base.reduce((a, r) => a + r[0]!, 0);
  const a = pairedBootstrap(base, cand, rateOfHits, { resamples: 500, seed: 3 });
  assert.deepEqual(a, pairedBootstrap(base, cand, rateOfHits, { resamples: 500, seed: 3 }));
  assert.ok(Math.abs(a.delta.value - extra / 200) < 1e-12);
  for (const iv of [a.baseline, a.candidate, a.delta]) assert.ok(iv.lo <= iv.value && iv.value <= iv.hi, JSON.stringify(iv));
  // paired: the difference's interval is narrower than either model's own
  assert.ok(a.delta.hi - a.delta.lo < a.baseline.hi - a.baseline.lo, JSON.stringify(a));
  assert.ok(a.delta.lo > 0);
  // identical models: the difference is exactly 0 on every resample
  const same = pairedBootstrap(base, base, rateOfHits, { resamples: 200 });
  assert.deepEqual([same.delta.lo, same.delta.hi], [0, 0]);
  // F1 from summed [tp, fp, fn, expected]
  assert.equal(f1OfCounts([6, 2, 2, 8]), 0.75);
  assert.equal(percentile(Float64Array.from([1, 2, 3, 4]), 0.5), 2.5);
  assert.throws(() => pairedBootstrap(base, cand.slice(1), rateOfHits), /paired/);
});

function randomSet(seed: number, logos: number, perLogo: number, dim: number, spread: number): EmbeddedSet {
  const rng = makeRng(seed);
  const centres = Array.from({ length: logos }, () => Array.from({ length: dim }, () => rng.normal()));
  const refs = [];
  for (let l = 0; l < logos; l++)
    for (let k = 0; k < perLogo; k++) refs.push({ id: `r${l}.${k}`, logo: `L${l}`, embedding: Float32Array.from(centres[l]!, (c) => c + spread * rng.normal()) });
  return { logos: centres.map((_, l) => `L${l}`), refs, images: [], meta: {} };
}

test('precision@1 units: their mean is the overall precision@1 of the retrieval report', () => {
  for (const [seed, spread] of [[1, 0.5], [2, 1.5], [3, 3]] as [number, number][]) {
    const set = randomSet(seed, 7, 5, 16, spread);
    set.refs.push({ id: 'lone', logo: 'L99', embedding: Float32Array.from({ length: 16 }, () => 1) }); // lone query: left out
    set.logos.push('L99');
    const hits = precisionAt1Hits(set);
    assert.equal(hits.length, 35);
    const r = referenceRetrieval(set)!;
    assert.ok(Math.abs(hits.reduce((a, h) => a + h, 0) / hits.length - r.overall.precision_at_1) < 1e-12, `spread ${spread}`);
  }
});

async function tinyCompare() {
  const dir = tmpDir('logolab-report-x-');
  const data = join(dir, 'data');
  await makeTinyDataDir(data, { perLogo: 8, negatives: 4 });
  const ds = datasetFromDataDir(data);
  const s = sampleTest(ds, { numLogos: 4, refsPerLogo: 2, positiveSamples: 4, negativeSamples: 4, seed: 2 });
  const base = await embedSet(fakeEncoder('base', 'fb', 0.6), gtBoxes, s.refs, s.images, s.logos, { quiet: true });
  const cand = await embedSet(fakeEncoder('cand', 'fc', 0.02), gtBoxes, s.refs, s.images, s.logos, { quiet: true });
  const o: MatchOptions = { method: 'margin', threshold: 0.5, margin: 0, minMatchingRefs: 1, aggregation: 'max' };
  const sides = [{ label: 'baseline', name: 'base', prepared: similaritySet(base) }, { label: 'candidate', name: 'cand', prepared: similaritySet(cand) }];
  const d = compareModels(sides, o, parseNumberList('0:1:0.01', 't'), 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 2, positiveSamples: 4, negativeSamples: 4, calibrate: { target: parseCalibrationTarget('f1'), thresholds: parseNumberList('0:1:0.01', 't') } });
  return { s, o, sides, d };
}

test('verdict: calibrated F1 and precision@1 differences with intervals, one paragraph at the top of the report', async () => {
  const { d } = await tinyCompare();
  const v = d.verdict!;
  assert.ok(v, 'two models → a verdict');
  assert.equal(v.f1.basis, 'calibrated');
  assert.deepEqual(v.f1.thresholds, [d.models[0]!.calibration!.threshold, d.models[1]!.calibration!.threshold]);
  // the verdict's F1 values are the calibrated held-out F1 of the tables
  assert.ok(Math.abs(v.f1.baseline.value - d.models[0]!.calibration!.test!.f1) < 1e-12);
  assert.ok(Math.abs(v.f1.candidate.value - d.models[1]!.calibration!.test!.f1) < 1e-12);
  assert.ok(Math.abs(v.p1!.baseline.value - d.models[0]!.retrieval!.overall.precision_at_1) < 1e-12);
  assert.equal(v.outcome, v.f1.delta.lo > 0 && v.p1!.delta.lo > 0 ? 'candidate-clear' : v.outcome);
  const html = renderHtml(d);
  const md = renderMarkdown(d);
  assert.match(html, /<p class="verdict"><b>Verdict\.<\/b> /);
  assert.ok(html.indexOf('class="verdict"') < html.indexOf('<h2>'), 'verdict comes first');
  assert.match(md, /\*\*Verdict\.\*\* .*95% CI .* points/);
});

test('compareModels: each model calibrates among the given candidate thresholds only; the curves keep the whole grid', async () => {
  const { o, sides } = await tinyCompare();
  const grid = parseNumberList('0:1:0.01', 't');
  const target = parseCalibrationTarget('f1');
  for (const list of [[0.55, 0.95], [0.9, 0.95]]) {
    const d = compareModels(sides, o, grid, 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 2, positiveSamples: 4, negativeSamples: 4, calibrate: { target, thresholds: list } });
    d.models.forEach((m, k) => {
      // exactly what eval --calibrate computes from the same list
      assert.deepEqual(m.calibration, calibrate(sides[k]!.prepared, o, list, target, 2, 'logos'));
      assert.ok(m.calibration!.threshold === null || list.includes(m.calibration!.threshold), `${m.label}: ${m.calibration!.threshold} not in ${list.join(',')}`);
      assert.equal(m.sweep.length, grid.length);
    });
  }
});

test('calibration split: the images holding a logo are halved apart from those holding none; a held-out half without one is not scored', async () => {
  // two images with a logo among 12: a plain shuffle put both in one half for some seeds
  const images = Array.from({ length: 12 }, (_, i) => ({ expected: i < 2 ? ['acme'] : [] }));
  for (let seed = 0; seed < 40; seed++) {
    const { calib, test: held } = calibrationSplit(images, seed);
    assert.deepEqual([...calib, ...held].sort((a, b) => a - b), [...Array(12).keys()]);
    assert.deepEqual([calib.length, held.length], [6, 6]);
    assert.equal(calib.filter((i) => i < 2).length, 1, `seed ${seed}: ${calib}`);
    assert.deepEqual(calibrationSplit(images, seed), { calib, test: held });
  }
  // one image with a logo: it calibrates, the held-out half holds none: recall and F1 there are n/a
  // (0/0), and the verdict's F1 falls back to the shared threshold on every image
  const { o, sides } = await tinyCompare();
  const set = sides[0]!.prepared.set;
  const first = set.images.findIndex((im) => im.expected.length > 0);
  const only = (p: (typeof sides)[number]['prepared']) => similaritySet({ ...p.set, images: p.set.images.map((im, i) => (i === first ? im : { ...im, expected: [] })) });
  // both sides the less noisy model, which finds that logo on the calibration half
  const one = sides.map((sd) => ({ ...sd, prepared: only(sides[1]!.prepared) }));
  const d = compareModels(one, o, parseNumberList('0:1:0.01', 't'), 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 2, positiveSamples: 4, negativeSamples: 4, calibrate: { target: parseCalibrationTarget('f1'), thresholds: parseNumberList('0:1:0.01', 't') } });
  assert.ok(d.models.every((m) => m.calibration?.threshold != null && m.calibration.test!.expected === 0), 'both calibrated; nothing expected on the held-out half');
  assert.match(renderMarkdown(d), /\| baseline @ calibrated \(held-out half\) \| [\d.]+ \| 0 \| \d+ \| 0 \| 0 \| (n\/a|[\d.]+%) \| n\/a \| n\/a \|/);
  assert.equal(d.verdict!.f1.basis, 'threshold');
  assert.equal(d.verdict!.f1.units, set.images.length);
});

test('gallery: worst false positives / negatives agree with the counts; thumbnails inline in the HTML', async () => {
  const { s, o, sides, d } = await tinyCompare();
  const gt = s.images.map((im) => im.gt);
  const t = 0.9; // strict: some misses and (with the noisy baseline) some false matches
  const g = buildGallery('baseline', sides[0]!.prepared, gt, o, t, 'logos', 1000);
  const r = evaluate(sides[0]!.prepared, { ...o, threshold: t }, 'logos');
  assert.equal(g.falsePositives.length, r.fp);
  assert.equal(g.falseNegatives.length, r.fn);
  for (let i = 1; i < g.falsePositives.length; i++) assert.ok(g.falsePositives[i - 1]!.similarity! >= g.falsePositives[i]!.similarity!);
  for (const it of g.falsePositives) {
    assert.ok(!s.images[it.imageIndex]!.expected.includes(it.takenFor!), 'a false positive names a logo the image does not hold');
    assert.ok(it.similarity! >= t);
  }
  for (const it of g.falseNegatives) {
    assert.ok(s.images[it.imageIndex]!.expected.includes(it.truth!));
    assert.ok(it.box && truthOf(it.box, gt[it.imageIndex]!) === it.truth, 'shown on the region that holds the missed logo');
  }
  assert.equal(buildGallery('baseline', sides[0]!.prepared, gt, o, t, 'logos', 3).falseNegatives.length, Math.min(3, r.fn));
  d.gallery = [g];
  d.thumbnails = await logoThumbnails(s.refs, s.logos);
  await galleryThumbnails(d.gallery, (i) => s.images[i]!.path);
  assert.deepEqual(Object.keys(d.thumbnails).sort(), [...s.logos].sort());
  const html = renderHtml(d);
  for (const l of s.logos) assert.ok(html.includes(`<img src="${d.thumbnails[l]}" alt="${l}">`), `thumbnail of ${l} in the per-logo table`);
  assert.match(html, /<h2>Worst mistakes<\/h2>/);
  assert.equal((html.match(/<figure>/g) ?? []).length, g.falsePositives.length + g.falseNegatives.length);
  assert.ok(g.falseNegatives.every((it) => it.thumb?.startsWith('data:image/jpeg;base64,')));
  assert.match(renderMarkdown(d), /## Worst mistakes/);
});
