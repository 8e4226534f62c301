/**
 * --similarity-details' suggested threshold: the value printed, typed back as `eval --threshold`,
 * must give the F1 printed beside it (it is the exact value the F1 was re-matched at).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, similaritySet } from '../../src/eval/evaluate.js';
import { formatDetails, printableThresholdAtOrBelow, similarityDetails, thresholdText } from '../../src/eval/details.js';
import type { MatchOptions } from '../../src/match/matchers.js';
import type { EmbeddedSet } from '../../src/eval/types.js';
import { makeRng } from '../../src/util/rng.js';

/** A unit vector at cosine c to [1, 0]. */
const at = (c: number) => Float32Array.of(c, Math.sqrt(1 - c * c));

/** One reference of 'acme' at [1, 0]; one region per image at the given cosine. */
function oneRefSet(images: { sim: number; expected: string[] }[]): EmbeddedSet {
  return {
    logos: ['acme'],
    refs: [{ id: 'r0', logo: 'acme', embedding: Float32Array.of(1, 0) }],
    images: images.map((im, i) => ({ id: `i${i}`, name: `img${i}.jpg`, expected: im.expected, regions: [{ id: `i${i}#0`, box: [0, 0, 10, 10], score: 1, embedding: at(im.sim) }] })),
    meta: {},
  };
}

const MARGIN: MatchOptions = { method: 'margin', threshold: 0.5, margin: 0.05, minMatchingRefs: 1, aggregation: 'mean' };

/** The printed threshold and F1, and what `eval --threshold <printed>` gives. */
function printedAndRerun(set: EmbeddedSet, o: MatchOptions) {
  const p = similaritySet(set);
  const base = evaluate(p, o);
  const d = similarityDetails(p, base);
  const txt = formatDetails(d);
  const thr = /SUGGESTED OPTIMAL THRESHOLD: (\S+)/.exec(txt)![1]!;
  const f1 = /would give F1 = (\S+) /.exec(txt)![1]!;
  const re = evaluate(p, { ...o, threshold: Number(thr) });
  return { thr, f1, rerunF1: re.f1.toFixed(4), rerun: re, d, base };
}

test('suggested threshold: the reviewer case (TP at 0.71238, FP at 0.71231) prints a value that reproduces its F1', () => {
  const r = printedAndRerun(oneRefSet([{ sim: 0.71238, expected: ['acme'] }, { sim: 0.71231, expected: [] }]), MARGIN);
  // float32(0.71238) = 0.712379992…: 0.7124 (the old toFixed(4)) is above it and matched nothing (F1 0);
  // 0.7123 is below the FP's 0.712310016…, so a 5th decimal is needed
  assert.equal(r.thr, '0.71237');
  assert.equal(r.f1, '1.0000');
  assert.equal(r.rerunF1, r.f1);
  assert.deepEqual([r.rerun.tp, r.rerun.fp, r.rerun.fn], [1, 0, 0]);
});

test('suggested threshold: 4 decimals when they suffice, rounded down (never above the similarity it stands for)', () => {
  const r = printedAndRerun(oneRefSet([{ sim: 0.71238, expected: ['acme'] }, { sim: 0.7105, expected: [] }]), MARGIN);
  assert.equal(r.thr, '0.7123');
  assert.equal(r.f1, '1.0000');
  assert.equal(r.rerunF1, '1.0000');
});

test('suggested threshold: over random sets and every method, eval at the printed value gives the printed F1', () => {
  const rng = makeRng('details-threshold');
  for (let trial = 0; trial < 20; trial++) {
    const logos = ['acme', 'bolt', 'cola'];
    const unit = () => {
      const v = Float32Array.from({ length: 4 }, () => rng.normal());
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const refs = logos.flatMap((logo, li) => [0, 1].map((j) => ({ id: `r${li}${j}`, logo, embedding: unit() })));
    const images = Array.from({ length: 12 }, (_, i) => {
      const expected = rng.next() < 0.6 ? [logos[rng.int(3)]!] : [];
      return { id: `i${i}`, name: `img${i}.jpg`, expected, regions: [0, 1].map((k) => ({ id: `i${i}#${k}`, box: [0, 0, 10, 10] as [number, number, number, number], score: 1, embedding: unit() })) };
    });
    const set: EmbeddedSet = { logos, refs, images, meta: {} };
    for (const method of ['simple', 'margin', 'multi-ref', 'averaged'] as const) {
      // a threshold of many decimals too: the suggestion is never worse than the run's own F1
      for (const threshold of [0.3, 0.31234567]) {
        const o: MatchOptions = { method, threshold, margin: 0.02, minMatchingRefs: 1, aggregation: 'mean' };
        const r = printedAndRerun(set, o);
        assert.equal(r.rerunF1, r.f1, `trial ${trial} ${method}: printed ${r.thr}`);
        assert.equal(Number(r.thr), r.d.suggested!.threshold, 'the printed text reads back as the value matched at');
        assert.ok(r.d.suggested!.f1 >= r.base.f1, `trial ${trial} ${method} @${threshold}: suggested F1 ${r.d.suggested!.f1} < current ${r.base.f1}`);
      }
    }
  }
});

test('printableThresholdAtOrBelow / thresholdText: ≤ t, > the next lower candidate, reads back exactly', () => {
  assert.equal(printableThresholdAtOrBelow(0.7, -Infinity), 0.7); // 0.7·10^4 rounds; 0.7 itself is kept
  assert.equal(printableThresholdAtOrBelow(Math.fround(0.71238), -Infinity), 0.7123);
  assert.equal(printableThresholdAtOrBelow(Math.fround(0.71238), Math.fround(0.71231)), 0.71237);
  assert.equal(printableThresholdAtOrBelow(-0.71238, -Infinity), -0.7124);
  assert.equal(printableThresholdAtOrBelow(-1, -Infinity), -1);
  assert.equal(printableThresholdAtOrBelow(-1.0000001, -Infinity), -1.0001); // below −1 already: no clamp up
  const t = 0.5 + 1e-14;
  assert.equal(printableThresholdAtOrBelow(t, 0.5), t, 'closer than 12 decimals to the next lower: the value itself');
  assert.equal(thresholdText(0.7123), '0.7123');
  assert.equal(thresholdText(0.71237), '0.71237');
  assert.equal(thresholdText(1), '1.0000');
  assert.equal(Number(thresholdText(t)), t);
  assert.equal(Number(thresholdText(Math.fround(0.71238))), Math.fround(0.71238));
});

test('suggested threshold: the run\'s own when no threshold is better (every F1 0), not the lowest tried', () => {
  // the only positive image is missed at every threshold: its region points away from the reference
  const set = oneRefSet([{ sim: -0.9, expected: ['acme'] }, { sim: 0.2, expected: [] }]);
  set.logos.push('bolt');
  set.refs.push({ id: 'r1', logo: 'bolt', embedding: Float32Array.of(-1, 0) });
  const r = printedAndRerun(set, { ...MARGIN, threshold: 0.7 });
  assert.equal(r.base.f1, 0);
  assert.equal(r.thr, '0.7000');
  assert.equal(r.f1, '0.0000');
});

test('averaged matching: top-5 and missed-logo similarities are to the averaged logo embeddings, as the matcher scores', () => {
  // acme's references at [1, 0] and [0, 1] average to [√½, √½]. A region at [1, 0]: 0.5 per reference
  // on average, cos 45° ≈ 0.7071 to the averaged embedding (matched at 0.6). A region at [0.8, −0.6]:
  // 0.8 to its best reference, (0.8 − 0.6)·√½ ≈ 0.1414 to the averaged embedding (missed)
  const region = (i: number, e: Float32Array) => ({ id: `i${i}`, name: `img${i}.jpg`, expected: ['acme'], regions: [{ id: `i${i}#0`, box: [0, 0, 10, 10] as [number, number, number, number], score: 1, embedding: e }] });
  const set: EmbeddedSet = {
    logos: ['acme'],
    refs: [{ id: 'r0', logo: 'acme', embedding: Float32Array.of(1, 0) }, { id: 'r1', logo: 'acme', embedding: Float32Array.of(0, 1) }],
    images: [region(0, Float32Array.of(1, 0)), region(1, Float32Array.of(0.8, -0.6))],
    meta: {},
  };
  const p = similaritySet(set);
  const r = evaluate(p, { ...MARGIN, method: 'averaged', threshold: 0.6 });
  assert.deepEqual([r.tp, r.fn], [1, 1]);
  assert.ok(Math.abs(r.tpSims[0]! - Math.SQRT1_2) < 1e-6);
  const d = similarityDetails(p, r);
  assert.ok(Math.abs(d.detections[0]!.top[0]![1] - Math.SQRT1_2) < 1e-6, `top-5 shows ${d.detections[0]!.top[0]![1]}, the matcher ${r.tpSims[0]}`);
  assert.equal(d.missedBest.length, 1);
  assert.ok(Math.abs(d.missedBest[0]! - 0.2 * Math.SQRT1_2) < 1e-6, `missed best ${d.missedBest[0]}`);
});
