import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { makeTinyDataDir, makeTinyFolders, fakeEncoder, TINY_LOGOS } from './tinydata.js';
import { datasetFromDataDir, datasetFromFolders } from '../../src/eval/dataset.js';
import { sampleAll, sampleTest, type SampleOptions } from '../../src/eval/sample.js';
import { embedSet } from '../../src/eval/pipeline.js';
import { gtBoxes, wholeImage, makeProposer } from '../../src/eval/proposals.js';
import { similaritySet, evaluate } from '../../src/eval/evaluate.js';
import { runSweep, sweepCells, calibrate, formatCalibration, parseNumberList, type SweepSpec } from '../../src/eval/sweep.js';
import { countOutcomes } from '../../src/eval/counting.js';
import { EmbeddingCache } from '../../src/eval/cache.js';
import { exportDataEmbeddings, readExchange, setFromExchange } from '../../src/eval/exchange.js';
import { formatFileBlock, formatSummary, type RunInfo } from '../../src/eval/format.js';
import { similarityDetails, formatDetails } from '../../src/eval/details.js';
import type { MatchOptions } from '../../src/match/matchers.js';

process.env.LOGOLAB_QUIET = '1';
let DATA = '';
const SO: SampleOptions = { numLogos: 3, refsPerLogo: 2, positiveSamples: 3, negativeSamples: 3, seed: 5 };

before(async () => {
  DATA = join(tmpDir('logolab-eval-'), 'data');
  await makeTinyDataDir(DATA, { perLogo: 6, negatives: 4 });
});

test('counting: reference (detections) vs per-logo; recall can exceed 1 only in reference mode', () => {
  const outs = [
    { image: 'a', expected: ['nike'], matches: [{ logo: 'nike', similarity: 0.9, region: 0 }, { logo: 'nike', similarity: 0.8, region: 1 }, { logo: 'puma', similarity: 0.75, region: 2 }] },
    { image: 'b', expected: ['adidas', 'nike'], matches: [{ logo: 'adidas', similarity: 0.71, region: 0 }] },
    { image: 'c', expected: [], matches: [] }, // no detections
  ];
  const det = countOutcomes(outs, 'detections');
  assert.deepEqual([det.tp, det.fp, det.fn, det.expected], [3, 1, 1, 3]);
  assert.equal(det.recall, 1);
  const lg = countOutcomes(outs, 'logos');
  assert.deepEqual([lg.tp, lg.fp, lg.fn, lg.expected], [2, 1, 1, 3]);
  assert.equal(lg.tp + lg.fn, lg.expected);
  assert.deepEqual(lg.tpSims, [0.9, 0.71]);
  assert.deepEqual(lg.falseNegatives, [{ image: 'b', logo: 'nike' }]);
  const none = countOutcomes([{ image: 'x', expected: ['a'], matches: [] }]);
  assert.deepEqual([none.precision, none.recall, none.f1], [0, 0, 0]);
});

test('sample: deterministic, no test image is the source of a sampled reference, expected ⊆ sampled logos', () => {
  const ds = datasetFromDataDir(DATA);
  assert.deepEqual(ds.logos, TINY_LOGOS);
  const a = sampleTest(ds, SO);
  const b = sampleTest(ds, SO);
  assert.deepEqual(a.images.map((i) => i.id), b.images.map((i) => i.id));
  assert.equal(a.logos.length, 3);
  assert.equal(a.refs.length, 6);
  const src = new Set(a.refs.map((r) => r.sourceImage));
  for (const im of a.images) {
    assert.ok(!src.has(im.id), `${im.id} is a reference source`);
    for (const e of im.expected) assert.ok(a.logos.includes(e));
  }
  assert.ok(a.images.some((i) => i.expected.length === 0), 'has negatives');
  assert.notDeepEqual(sampleTest(ds, { ...SO, seed: 6 }).images.map((i) => i.id), a.images.map((i) => i.id));
});

async function onePass(enc = fakeEncoder(), cache: EmbeddingCache | null = null) {
  const ds = datasetFromDataDir(DATA);
  const s = sampleTest(ds, SO);
  return { s, set: await embedSet(enc, gtBoxes, s.refs, s.images, s.logos, { cache, quiet: true }) };
}

const SPEC: SweepSpec = { methods: ['simple', 'margin', 'multi-ref', 'averaged'], thresholds: parseNumberList('0.3:0.95:0.05', 't'), margins: [0, 0.02, 0.05], minMatchingRefs: [1, 2], aggregations: ['mean', 'max'] };

test('sweep: every cell equals a separate run of that setting (its own embedding pass)', async () => {
  const { set } = await onePass();
  const cells = runSweep(similaritySet(set), SPEC);
  assert.equal(cells.length, sweepCells(SPEC).length);
  assert.equal(cells.length, 14 * (1 + 3 + 3 * 2 * 2 + 3));
  // separate runs: a fresh pass (fresh encoder, no cache) and a fresh prepare per setting, on a subset of cells
  const picks = cells.filter((_, i) => i % 7 === 0);
  let informative = 0;
  for (const c of picks) {
    const { set: s2 } = await onePass();
    const r = evaluate(similaritySet(s2), c.options);
    assert.deepEqual(c.counts, { tp: r.tp, fp: r.fp, fn: r.fn, expected: r.expected, precision: r.precision, recall: r.recall, f1: r.f1 }, JSON.stringify(c.options));
    if (r.tp > 0 && r.fn > 0) informative++;
  }
  assert.ok(informative > 3, 'sweep cells should include non-trivial settings');
  // the fake encoder separates the logos: at a sensible threshold multi-ref finds most of them
  const best = Math.max(...cells.map((c) => c.counts.f1));
  assert.ok(best > 0.6, `best F1 ${best}`);
});

test('calibrate: chooses on one half, reports on the other', async () => {
  const { set } = await onePass();
  const p = similaritySet(set);
  const base: MatchOptions = { method: 'multi-ref', threshold: 0.7, margin: 0, minMatchingRefs: 1, aggregation: 'max' };
  const r = calibrate(p, base, SPEC.thresholds, { kind: 'f1' }, 1);
  assert.ok(r.threshold !== null);
  assert.equal(r.calibrationImages + r.testImages, set.images.length);
  const hi = calibrate(p, base, SPEC.thresholds, { kind: 'precision', value: 0.99 }, 1);
  if (hi.threshold !== null) assert.ok(hi.calibration!.precision >= 0.99);
  const lo = calibrate(p, base, SPEC.thresholds, { kind: 'recall', value: 0.01 }, 1);
  if (lo.threshold !== null) assert.ok(lo.calibration!.recall >= 0.01);
  // F1 is 0 at every threshold (nothing matches above 1): nothing is chosen, as for the other targets,
  // rather than the sweep's lowest threshold
  const none = calibrate(p, base, [1.01, 1.5], { kind: 'f1' }, 1);
  assert.equal(none.threshold, null);
  assert.match(formatCalibration(none), /no threshold in the sweep gives an F1 above 0 on the calibration split/);
});

test('cache: warm pass embeds nothing and returns identical embeddings; model fingerprint is part of the key', async () => {
  const path = join(tmpDir('logolab-cache-'), 'cache.sqlite');
  const c1 = EmbeddingCache.open(path);
  const c2 = EmbeddingCache.open(path); // a second concurrent user of the same file
  const e1 = fakeEncoder();
  const a = await onePass(e1, c1);
  assert.ok(e1.crops > 0);
  const e2 = fakeEncoder();
  const b = await onePass(e2, c2);
  assert.equal(e2.crops, 0, 'warm cache must not embed');
  assert.deepEqual(b.set.refs.map((r) => [...r.embedding]), a.set.refs.map((r) => [...r.embedding]));
  const e3 = fakeEncoder('other', 'fp-other');
  await onePass(e3, c2);
  assert.equal(e3.crops, e1.crops, 'a different fingerprint misses');
  c1.close();
  c2.close();
  EmbeddingCache.clear(path);
});

test('exchange file: eval from exported embeddings = eval in place', async () => {
  const file = join(tmpDir('logolab-emb-'), 'emb.safetensors');
  const info = await exportDataEmbeddings(DATA, fakeEncoder(), gtBoxes, file, { quiet: true });
  assert.equal(info.dim, 27);
  const ex = readExchange(file);
  const s = sampleTest(ex.dataset, SO);
  const fromFile = similaritySet(setFromExchange(ex, s));
  const { set } = await onePass();
  const inPlace = similaritySet(set);
  for (const o of sweepCells({ ...SPEC, thresholds: [0.5, 0.8] })) {
    const x = evaluate(fromFile, o);
    const y = evaluate(inPlace, o);
    assert.deepEqual(x.outcomes, y.outcomes, JSON.stringify(o));
  }
});

test('whole-image and gt-boxes proposers; detector spec errors name the option', async () => {
  const ds = datasetFromDataDir(DATA);
  assert.deepEqual(await wholeImage.propose(ds.images[0]!, null), [{ box: [0, 0, 64, 48], score: 1 }]);
  const two = ds.images.find((i) => i.gt.length === 2)!;
  assert.equal((await gtBoxes.propose(two, null)).length, 2);
  const neg = ds.images.find((i) => i.gt.length === 0)!;
  assert.deepEqual(await gtBoxes.propose(neg, null), []); // no detections at all
  assert.throws(() => makeProposer('yolo', { detrThreshold: 0.5, minBoxSize: 20, nmsIou: 0.5 }), /--detector: 'yolo'/);
});

test('summary blocks have the reference shape; similarity details print', async () => {
  const { s, set } = await onePass();
  const p = similaritySet(set);
  const o: MatchOptions = { method: 'multi-ref', threshold: 0.7, margin: 0.05, minMatchingRefs: 1, aggregation: 'max' };
  const r = evaluate(p, o);
  const info: RunInfo = { model: 'fake', preprocessMode: 'default', numLogos: s.logos.length, refsPerLogo: 2, totalRefs: s.refs.length, positiveSamples: 3, negativeSamples: 3, testImages: s.images.length, detector: 'gt-boxes', detrThreshold: null, backends: ['wasm'], seed: 5, counting: 'logos' };
  const block = formatFileBlock(info, o, r, new Date(2026, 0, 2, 13, 5, 17));
  const lines = block.split('\n');
  assert.equal(lines[1], 'TEST: MULTI-REF MATCHING');
  assert.equal(lines[3], 'Method: Multi-ref (max, min_refs=1, margin=0.05)');
  assert.equal(lines[5], 'Date: 2026-01-02 13:05:17');
  assert.ok(lines.includes(`  True Positives:  ${String(r.tp).padStart(6)}`));
  assert.match(block, /\n {2}F1 Score: {2}\d\.\d{4} \(\d+\.\d%\)\n/);
  assert.ok(lines.includes('  Backend: wasm'));
  const sum = formatSummary(info, o, r);
  assert.match(sum, /LOGO DETECTION TEST RESULTS/);
  assert.match(sum, /\n {2}Backend: wasm\n/);
  assert.match(formatSummary({ ...info, backends: [] }, o, r), /\n {2}Backend: not recorded \(an embeddings file of an older logolab\)\n/);
  assert.match(sum, /True Positives \(correct matches\): \d+/);
  const d = similarityDetails(p, r);
  assert.ok(d.suggested && d.suggested.f1 >= r.f1, 'suggested threshold is at least as good as the current one');
  const txt = formatDetails(d);
  assert.match(txt, /SIMILARITY DISTRIBUTION ANALYSIS/);
  assert.match(txt, /SUGGESTED OPTIMAL THRESHOLD: \d\.\d{4}/);
});

test('Burnley folder layout: filename-prefix ground truth, averaged embeddings + margin over whole images', async () => {
  const root = tmpDir('logolab-folders-');
  await makeTinyFolders(root);
  const ds = await datasetFromFolders(root);
  assert.deepEqual(ds.logos, ['alpha', 'beta']);
  const s = sampleAll(ds);
  assert.equal(s.refs.length, 6);
  assert.deepEqual(s.images.map((i) => [i.name, i.expected]), [['alpha+beta_1.png', ['alpha', 'beta']], ['alpha_1.png', ['alpha']], ['beta_1.png', ['beta']], ['crowd_1.png', []], ['crowd_2.png', []]]);
  assert.deepEqual([s.images[0]!.width, s.images[0]!.height], [64, 48]);
  const set = await embedSet(fakeEncoder(), wholeImage, s.refs, s.images, s.logos, { quiet: true });
  const r = evaluate(similaritySet(set), { method: 'averaged', threshold: -1, margin: 0, minMatchingRefs: 1, aggregation: 'max' });
  // one whole-image region per image → at most one logo per image: the two-logo image has ≥1 FN
  assert.equal(r.expected, 4);
  assert.ok(r.fn >= 1);
  assert.equal(r.tp + r.fp, 5, 'threshold off, margin 0: every image matches one logo');
});
