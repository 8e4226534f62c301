/**
 * The report's verdict: does the candidate beat the baseline, by how much, and how sure are we?
 *   F1 — at each model's calibrated threshold on the held-out half of the test images (when both
 *        were calibrated; else at the given threshold on all images), paired bootstrap over images;
 *   precision@1 — over the reference-crop queries, paired bootstrap over queries.
 * A win is "clear" when both differences are positive and both 95% intervals exclude 0.
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
  outcome: 'candidate-clear' | 'candidate-noise' | 'mixed' | 'baseline';
}

export const BOOTSTRAP_RESAMPLES = 2000;

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
  const calibrated = mb.calibration?.threshold != null && mc.calibration?.threshold != null;
  const n = pb.set.images.length;
  const idx = calibrated ? calibrationSplit(n, seed).test : [...Array(n).keys()];
  const tb = calibrated ? mb.calibration!.threshold! : o.threshold;
  const tc = calibrated ? mc.calibration!.threshold! : o.threshold;
  const bs = { resamples: BOOTSTRAP_RESAMPLES, seed };
  const f1 = pairedBootstrap(imageCounts(pb, o, tb, counting, idx), imageCounts(pc, o, tc, counting, idx), f1OfCounts, bs);
  const hb = precisionAt1Hits(pb.set), hc = precisionAt1Hits(pc.set);
  const p1 = hb.length && hb.length === hc.length ? pairedBootstrap(hb.map((h) => [h, 1]), hc.map((h) => [h, 1]), rateOfHits, bs) : null;
  const ds = [f1.delta, ...(p1 ? [p1.delta] : [])];
  const outcome = ds.every((d) => d.value > 0 && d.lo > 0) ? 'candidate-clear' : ds.every((d) => d.value > 0) ? 'candidate-noise' : ds.every((d) => d.value < 0) ? 'baseline' : 'mixed';
  return { f1: { ...f1, basis: calibrated ? 'calibrated' : 'threshold', thresholds: [tb, tc] }, p1, outcome };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
const ci = (i: { lo: number; hi: number }) => `95% CI ${pts(i.lo)} to ${pts(i.hi)} points`;

/** One paragraph (plain text) for the top of the report. */
export function verdictText(v: Verdict, labels: [string, string]): string {
  const [b, c] = labels;
  const lead = {
    'candidate-clear': `The ${c} model wins clearly.`,
    'candidate-noise': `The ${c} model is ahead, but not clearly: an interval includes no gain.`,
    mixed: `No clear winner: the ${c} model is not ahead on both measures.`,
    baseline: `The ${b} model wins: the ${c} model is worse on both measures.`,
  }[v.outcome];
  const where = v.f1.basis === 'calibrated'
    ? `at each model's own calibrated threshold (${v.f1.thresholds[0]} and ${v.f1.thresholds[1]}, chosen on the other half), on the ${v.f1.units} held-out test images`
    : `at the shared threshold ${v.f1.thresholds[0]}, on ${v.f1.units} test images`;
  const f = `F1 ${where}: ${pct(v.f1.candidate.value)} vs ${pct(v.f1.baseline.value)}, ${pts(v.f1.delta.value)} points (${ci(v.f1.delta)}, paired bootstrap over the test images).`;
  const p = v.p1 ? ` Precision@1 over ${v.p1.units} reference-crop queries: ${pct(v.p1.candidate.value)} vs ${pct(v.p1.baseline.value)}, ${pts(v.p1.delta.value)} points (${ci(v.p1.delta)}, bootstrap over the queries).` : '';
  return `${lead} ${f}${p} ${v.f1.resamples.toLocaleString('en')} resamples.`;
}
