/**
 * The report's verdict: does the candidate beat the baseline, by how much, and how sure are we?
 *   F1 — at each model's calibrated threshold on the held-out half of the test images (when both
 *        were calibrated; else at the given threshold on all images), paired bootstrap over images;
 *   precision@1 — over the reference-crop queries, paired bootstrap over queries.
 * A win (of either model) is "clear" when every difference points its way and every 95% interval
 * excludes 0; precision@1 is left out when no query has another crop of its logo.
 */
import { countOutcomes, type Counting } from '../eval/counting.js';
import { evaluate, type SimilaritySet } from '../eval/evaluate.js';
import { precisionAt1Hits } from '../eval/retrieval.js';
import { calibrationSplit } from '../eval/sweep.js';
import type { MatchOptions } from '../match/matchers.js';
import { f1OfCounts, pairedBootstrap, rateOfHits, type PairedInterval } from './bootstrap.js';
import type { ModelSide } from './model-side.js';

export interface Verdict {
  f1: PairedInterval & { basis: 'calibrated' | 'threshold'; thresholds: [number, number] };
  p1: PairedInterval | null;
  outcome: 'candidate-clear' | 'candidate-noise' | 'mixed' | 'tie' | 'baseline-clear' | 'baseline-noise';
}

export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * The verdict of the measured differences (candidate − baseline, with 95% intervals). A measure with
 * no difference is level, not behind: ahead on one and level on the other is ahead, not clearly;
 * level on every measure (a model compared with itself) is a tie.
 */
export function outcomeOf(ds: { value: number; lo: number; hi: number }[]): Verdict['outcome'] {
  if (ds.every((d) => d.value === 0)) return 'tie';
  if (ds.every((d) => d.value >= 0)) return ds.every((d) => d.value > 0 && d.lo > 0) ? 'candidate-clear' : 'candidate-noise';
  if (ds.every((d) => d.value <= 0)) return ds.every((d) => d.value < 0 && d.hi < 0) ? 'baseline-clear' : 'baseline-noise';
  return 'mixed';
}

/** Per-image [tp, fp, fn, expected] of `p` at `threshold` over the images `idx`. */
function imageCounts(p: SimilaritySet, o: MatchOptions, threshold: number, counting: Counting, idx: number[]): number[][] {
  return evaluate(p, { ...o, threshold }, counting, idx).outcomes.map((out) => {
    const c = countOutcomes([out], counting);
    return [c.tp, c.fp, c.fn, c.expected];
  });
}

export function computeVerdict(prepared: [SimilaritySet, SimilaritySet], models: [ModelSide, ModelSide], o: MatchOptions, counting: Counting, seed: number): Verdict {
  const [pb, pc] = prepared;
  const [mb, mc] = models;
  const n = pb.set.images.length;
  const held = calibrationSplit(pb.set.images, seed).test;
  // F1 on a held-out half that holds no logo is 0/0 (one image with a logo in all: it calibrates):
  // then the shared threshold on every image
  const calibrated = mb.calibration?.threshold != null && mc.calibration?.threshold != null && held.some((i) => pb.set.images[i]!.expected.length > 0);
  const idx = calibrated ? held : [...Array(n).keys()];
  const tb = calibrated ? mb.calibration!.threshold! : o.threshold;
  const tc = calibrated ? mc.calibration!.threshold! : o.threshold;
  const bs = { resamples: BOOTSTRAP_RESAMPLES, seed };
  const f1 = pairedBootstrap(imageCounts(pb, o, tb, counting, idx), imageCounts(pc, o, tc, counting, idx), f1OfCounts, bs);
  const hb = precisionAt1Hits(pb.set), hc = precisionAt1Hits(pc.set);
  const p1 = hb.length && hb.length === hc.length ? pairedBootstrap(hb.map((h) => [h, 1]), hc.map((h) => [h, 1]), rateOfHits, bs) : null;
  const outcome = outcomeOf([f1.delta, ...(p1 ? [p1.delta] : [])]);
  return { f1: { ...f1, basis: calibrated ? 'calibrated' : 'threshold', thresholds: [tb, tc] }, p1, outcome };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** A difference of fractions in percentage points, signed with + or a true minus (−), one decimal. */
export const signedPoints = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
const pts = signedPoints;
const ci = (i: { lo: number; hi: number }) => `95% CI ${pts(i.lo)} to ${pts(i.hi)} points`;

/** One paragraph (plain text) for the top of the report. */
export function verdictText(v: Verdict, labels: [string, string]): string {
  const [b, c] = labels;
  const on = v.p1 ? 'on both measures' : 'in F1 (the one measure: precision@1 is not measured, every query is lone)';
  // the direction of each measure, when they differ: "ahead in F1 and level in precision@1"
  const word = (x: number) => (x > 0 ? 'ahead' : x < 0 ? 'behind' : 'level');
  const each = v.p1 && word(v.f1.delta.value) !== word(v.p1.delta.value) ? `${word(v.f1.delta.value)} in F1 and ${word(v.p1.delta.value)} in precision@1` : null;
  const lead = {
    'candidate-clear': `The ${c} model wins clearly ${on}.`,
    'candidate-noise': each ? `The ${c} model is ${each}: not clearly better.` : `The ${c} model is ahead ${on}, but not clearly: an interval includes no gain.`,
    mixed: `No clear winner: the ${c} model is ${each ?? 'ahead on one measure and behind on the other'}.`,
    tie: `No difference: the ${c} and ${b} models score the same ${on}.`,
    'baseline-clear': `The ${b} model wins clearly: the ${c} model is worse ${on}.`,
    'baseline-noise': each ? `The ${c} model is ${each}: not clearly worse.` : `The ${c} model is behind ${on}, but not clearly: an interval includes no loss.`,
  }[v.outcome];
  const where = v.f1.basis === 'calibrated'
    ? `at each model's own calibrated threshold (${v.f1.thresholds[0]} and ${v.f1.thresholds[1]}, chosen on the other half), on the ${v.f1.units} held-out test images`
    : `at the shared threshold ${v.f1.thresholds[0]}, on ${v.f1.units} test images`;
  const f = `F1 ${where}: ${c} ${pct(v.f1.candidate.value)} vs ${b} ${pct(v.f1.baseline.value)}, ${pts(v.f1.delta.value)} points (${ci(v.f1.delta)}, paired bootstrap over the test images).`;
  const p = v.p1 ? ` Precision@1 over ${v.p1.units} reference-crop queries: ${c} ${pct(v.p1.candidate.value)} vs ${b} ${pct(v.p1.baseline.value)}, ${pts(v.p1.delta.value)} points (${ci(v.p1.delta)}, bootstrap over the queries).` : '';
  return `${lead} ${f}${p} ${v.f1.resamples.toLocaleString('en')} resamples.`;
}
