/**
 * Baseline vs candidate on the SAME sample: metrics at the given threshold and at each model's
 * best-F1 threshold of the sweep, threshold sweeps (P/R/F1 curves, PR curves), threshold-free TP/FP
 * similarity distributions, retrieval metrics and per-logo wins/losses. Pure data → report.json;
 * render.ts turns it into report.md / report.html.
 */
import type { MatchOptions } from '../match/matchers.js';
import { evaluate, type SimilaritySet } from '../eval/evaluate.js';
import { scores, type Counting, type Counts, type ImageOutcome } from '../eval/counting.js';
import { calibrate, runSweep, type CalibrationTarget } from '../eval/sweep.js';
import { referenceRetrieval } from '../eval/retrieval.js';
import type { ModelGallery } from './gallery.js';
import { computeVerdict, type Verdict } from './verdict.js';
import type { ModelSide } from './model-side.js';

export type { ModelSide } from './model-side.js';

export interface LogoVerdict {
  logo: string;
  baseline: Counts;
  candidate: Counts;
  delta: number;
  verdict: 'win' | 'loss' | 'tie';
}

export interface CompareData {
  created: string;
  /** sampled false: a folder layout evaluated whole (refsPerLogo is then the most any logo has) */
  sample: { logos: string[]; refs: number; images: number; seed: number; refsPerLogo: number; positiveSamples: number; negativeSamples: number; sampled: boolean };
  options: MatchOptions;
  counting: Counting;
  detector: string;
  models: ModelSide[];
  perLogo: LogoVerdict[];
  wins: number;
  losses: number;
  ties: number;
  /** candidate − baseline with paired bootstrap intervals (two models) */
  verdict?: Verdict;
  /** logo → data: URI of one of its reference crops (the compare command adds them) */
  thumbnails?: Record<string, string>;
  /** each model's worst false positives / negatives at its calibrated (else the given) threshold */
  gallery?: ModelGallery[];
}

export function perLogoCounts(outcomes: ImageOutcome[], logos: string[]): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const l of logos) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let expected = 0;
    for (const o of outcomes) {
      const exp = o.expected.includes(l);
      const matched = o.matches.some((m) => m.logo === l);
      if (exp) expected++;
      if (exp && matched) tp++;
      else if (exp) fn++;
      else if (matched) fp++;
    }
    out[l] = scores(tp, fp, fn, expected);
  }
  return out;
}

export function modelSide(label: string, name: string, p: SimilaritySet, o: MatchOptions, thresholds: number[], counting: Counting): ModelSide {
  const at = evaluate(p, o, counting);
  const sweep = runSweep(p, { methods: [o.method], thresholds, margins: [o.margin], minMatchingRefs: [o.minMatchingRefs], aggregations: [o.aggregation] }, counting);
  let best = sweep[0]!;
  for (const c of sweep) if (c.counts.f1 > best.counts.f1) best = c;
  const bestThreshold = best.counts.f1 > 0 ? best.options.threshold : null;
  // without a best threshold the per-logo counts are taken at the given one (every per-logo F1 is 0 anyway)
  const bestRun = evaluate(p, { ...o, threshold: bestThreshold ?? o.threshold }, counting);
  // threshold and margin off: each region's best logo (best reference for simple) and its score,
  // correct or wrong — the separation the threshold has to work with
  const free = evaluate(p, { ...o, method: o.method === 'simple' ? 'margin' : o.method, threshold: -2, margin: 0, minMatchingRefs: 1 }, counting);
  const strip = (c: Counts): Counts => ({ tp: c.tp, fp: c.fp, fn: c.fn, expected: c.expected, precision: c.precision, recall: c.recall, f1: c.f1 });
  return {
    label,
    name,
    fingerprint: String(p.set.meta.fingerprint ?? ''),
    atThreshold: strip(at),
    best: { threshold: bestThreshold, counts: best.counts },
    sweep,
    tpSims: free.tpSims,
    fpSims: free.fpSims,
    perLogo: perLogoCounts(bestRun.outcomes, p.set.logos),
    retrieval: referenceRetrieval(p.set),
  };
}

export function compareModels(
  sides: { label: string; name: string; prepared: SimilaritySet; backends?: string[] }[],
  o: MatchOptions,
  thresholds: number[],
  counting: Counting,
  /**
   * `calibrate.thresholds`: the candidates each model's threshold is chosen from — eval --calibrate's
   * (--sweep-thresholds), not `thresholds`, the finer grid of the plotted curves, or compare would
   * pick a threshold the user excluded and eval would not
   */
  info: { detector: string; seed: number; refsPerLogo: number; positiveSamples: number; negativeSamples: number; sampled?: boolean; calibrate?: { target: CalibrationTarget; thresholds: number[] } },
): CompareData {
  const models = sides.map((s) => {
    const m = modelSide(s.label, s.name, s.prepared, o, thresholds, counting);
    if (s.backends) m.backends = s.backends;
    // each model gets its own threshold: one fixed threshold favours whichever model's similarity
    // scale it happens to suit (fine-tuning moves the scale)
    if (info.calibrate) m.calibration = calibrate(s.prepared, o, info.calibrate.thresholds, info.calibrate.target, info.seed, counting);
    return m;
  });
  const set = sides[0]!.prepared.set;
  const perLogo: LogoVerdict[] = set.logos.map((logo) => {
    const b = models[0]!.perLogo[logo]!;
    const c = models[1]?.perLogo[logo] ?? b;
    const delta = c.f1 - b.f1;
    return { logo, baseline: b, candidate: c, delta, verdict: delta > 1e-12 ? 'win' : delta < -1e-12 ? 'loss' : 'tie' };
  });
  const verdict = models.length === 2 ? computeVerdict([sides[0]!.prepared, sides[1]!.prepared], [models[0]!, models[1]!], o, counting, info.seed) : undefined;
  return {
    created: new Date().toISOString(),
    sample: { logos: set.logos, refs: set.refs.length, images: set.images.length, seed: info.seed, refsPerLogo: info.refsPerLogo, positiveSamples: info.positiveSamples, negativeSamples: info.negativeSamples, sampled: info.sampled ?? true },
    options: o,
    counting,
    detector: info.detector,
    models,
    perLogo,
    wins: perLogo.filter((p) => p.verdict === 'win').length,
    losses: perLogo.filter((p) => p.verdict === 'loss').length,
    ties: perLogo.filter((p) => p.verdict === 'tie').length,
    ...(verdict ? { verdict } : {}),
  };
}
