/**
 * --similarity-details: the Python original's distribution analysis (print_similarity_details) —
 * TP / FP / missed-logo best / all per-reference positive and negative similarities, overlap of the
 * TP and FP ranges, a suggested threshold and per-detection top-5 logos.
 *
 * Fixed vs the reference: its suggested threshold maximised an "F1" whose recall was TPs-above-t /
 * TPs-at-the-current-threshold, ignoring the logos already missed (so it could never suggest a
 * threshold below the current one). Ours re-runs the matching at each candidate threshold on the
 * same similarities and reports the real F1, and it keeps the run's threshold unless another is
 * strictly better (the reference's rule: never an arbitrary lowest threshold when every F1 is 0).
 * Missed-logo best similarity starts at −∞, not 0. With `averaged` matching the top-5 logos and the
 * missed logos' best similarities are to the averaged logo embeddings, the scale the matcher (and the
 * reference's Burnley test) uses; otherwise per reference, aggregated as the reference's multi-ref test.
 */
import { aggregatePerLogo } from '../match/matchers.js';
import { row } from '../match/similarity.js';
import { evaluate, type EvalResult, type SimilaritySet } from './evaluate.js';
import { extent } from '../metrics/extent.js';

export interface Distribution {
  n: number;
  min: number;
  max: number;
  mean: number;
  stdev: number | null;
  median: number;
  p10: number;
  p25: number;
  p75: number;
  p90: number;
  above: number;
  below: number;
}

export function distribution(values: number[], threshold: number): Distribution | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const stdev = n > 1 ? Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  // the Python original's percentile indexing (sorted[int(n*q)], with its small-n fallbacks)
  const at = (q: number) => s[Math.floor(n * q)]!;
  return {
    n,
    min: s[0]!,
    max: s[n - 1]!,
    mean,
    stdev,
    median,
    p10: n > 10 ? at(0.1) : s[0]!,
    p25: n > 4 ? at(0.25) : s[0]!,
    p75: n > 4 ? at(0.75) : s[n - 1]!,
    p90: n > 10 ? at(0.9) : s[n - 1]!,
    above: s.filter((v) => v >= threshold).length,
    below: s.filter((v) => v < threshold).length,
  };
}

export interface SimilarityDetails {
  threshold: number;
  truePositive: number[];
  falsePositive: number[];
  missedBest: number[];
  allPositive: number[];
  allNegative: number[];
  /** threshold: the value matched at and printed (thresholdText reads back as it exactly); f1: re-matched there */
  suggested: { threshold: number; f1: number } | null;
  detections: { image: string; region: number; expected: string[]; score: number; top: [string, number][] }[];
}

export function similarityDetails(p: SimilaritySet, r: EvalResult): SimilarityDetails {
  const o = r.options;
  const allPositive: number[] = [];
  const allNegative: number[] = [];
  const detections: SimilarityDetails['detections'] = [];
  const missedBest: number[] = [];
  const imgIndex = new Map(p.set.images.map((im, i) => [im.name, i]));
  p.set.images.forEach((im, i) => {
    const exp = new Set(im.expected);
    for (let k = 0; k < im.regions.length; k++) {
      const sims = row(p.refSims[i]!, k);
      for (let j = 0; j < sims.length; j++) (exp.has(p.set.logos[p.index.refLabels.labels[j]!]!) ? allPositive : allNegative).push(sims[j]!);
      const agg = o.method === 'averaged' ? row(p.logoSims[i]!, k) : aggregatePerLogo(sims, p.index.refLabels, o.threshold, o.aggregation).score;
      const top = p.set.logos.map((l, li) => [l, agg[li]!] as [string, number]).filter((x) => Number.isFinite(x[1]));
      top.sort((a, b) => b[1] - a[1]);
      detections.push({ image: im.name, region: k, expected: im.expected, score: im.regions[k]!.score, top: top.slice(0, 5) });
    }
  });
  for (const fn of r.falseNegatives) {
    const i = imgIndex.get(fn.image)!;
    const im = p.set.images[i]!;
    if (!im.regions.length) continue;
    const li = p.set.logos.indexOf(fn.logo);
    let best = -Infinity;
    for (let k = 0; k < im.regions.length; k++) {
      if (o.method === 'averaged') {
        best = Math.max(best, row(p.logoSims[i]!, k)[li]!);
        continue;
      }
      const sims = row(p.refSims[i]!, k);
      for (let j = 0; j < sims.length; j++) if (p.index.refLabels.labels[j] === li && sims[j]! > best) best = sims[j]!;
    }
    if (Number.isFinite(best)) missedBest.push(best);
  }
  // candidate thresholds: a grid plus every similarity that was counted
  const cands = new Set<number>();
  for (let t = 0; t <= 100; t++) cands.add(t / 100);
  for (const v of [...r.tpSims, ...r.fpSims, ...missedBest]) cands.add(v);
  // Each candidate is tried at the value that will be printed, not at the exact similarity: an
  // exact float32 similarity printed with 4 decimals and typed back as --threshold can land above
  // it (TP at 0.712379…, printed 0.7124, matched nothing). The printed value is the similarity
  // rounded DOWN to 4 decimals (more where that would reach the next lower candidate), and the F1
  // reported is re-matched at exactly that value, so `eval --threshold <printed>` gives it.
  // The run's own threshold (as given: the user typed it, so it prints back exactly) stays the
  // suggestion unless another is strictly better: never worse than the current F1, and never an
  // arbitrary lowest candidate when every F1 is 0. Among better ones, ties go to the lowest.
  const sorted = [...cands].sort((a, b) => a - b);
  const tries = new Set<number>();
  sorted.forEach((c, k) => tries.add(printableThresholdAtOrBelow(c, k > 0 ? sorted[k - 1]! : -Infinity)));
  let suggested: SimilarityDetails['suggested'] = { threshold: o.threshold, f1: r.f1 };
  for (const t of [...tries].sort((a, b) => a - b)) {
    const e = evaluate(p, { ...o, threshold: t }, r.counting);
    if (e.f1 > suggested.f1) suggested = { threshold: t, f1: e.f1 };
  }
  return { threshold: o.threshold, truePositive: r.tpSims, falsePositive: r.fpSims, missedBest, allPositive, allNegative, suggested, detections };
}

/**
 * The shortest decimal (4 decimals at least, up to 12) that is ≤ `t` and still > `below` (the next
 * lower candidate, so each candidate keeps a distinct value); `t` itself when none is. Never below
 * −1 for a `t` ≥ −1: the CLI refuses a threshold outside [−1, 1].
 * k/10^n is IEEE-exactly the double nearest the decimal, i.e. what Number('<that decimal>') parses.
 */
export function printableThresholdAtOrBelow(t: number, below: number): number {
  for (let n = 4; n <= 12; n++) {
    const scale = 10 ** n;
    let k = Math.floor(t * scale);
    // t·scale is itself rounded: step k so that k/scale ≤ t < (k+1)/scale holds exactly
    while (k / scale > t) k--;
    while ((k + 1) / scale <= t) k++;
    let d = k / scale;
    if (d < -1 && t >= -1) d = -1;
    if (d > below) return d;
  }
  return t;
}

/** A threshold as printed for the user: 4 decimals, or as many more as it needs to read back as the same number. */
export function thresholdText(t: number): string {
  for (let n = 4; n <= 20; n++) {
    const s = t.toFixed(n);
    if (Number(s) === t) return s;
  }
  return String(t);
}

export function formatDetails(d: SimilarityDetails): string {
  const L: string[] = ['', '='.repeat(60), 'SIMILARITY DISTRIBUTION ANALYSIS', '='.repeat(60)];
  const t = d.threshold;
  const stats = (values: number[], name: string) => {
    const s = distribution(values, t);
    if (!s) {
      L.push('', `${name}: No data`);
      return;
    }
    L.push('', `${name} (n=${s.n}):`, `  Min: ${s.min.toFixed(4)}`, `  Max: ${s.max.toFixed(4)}`, `  Mean: ${s.mean.toFixed(4)}`);
    if (s.stdev !== null) L.push(`  StdDev: ${s.stdev.toFixed(4)}`);
    L.push(`  Median: ${s.median.toFixed(4)}`, `  P10: ${s.p10.toFixed(4)}`, `  P25: ${s.p25.toFixed(4)}`, `  P75: ${s.p75.toFixed(4)}`, `  P90: ${s.p90.toFixed(4)}`);
    L.push(`  Above threshold (${t}): ${s.above} (${((100 * s.above) / s.n).toFixed(1)}%)`, `  Below threshold (${t}): ${s.below} (${((100 * s.below) / s.n).toFixed(1)}%)`);
  };
  stats(d.truePositive, 'TRUE POSITIVE similarities (correct matches)');
  stats(d.falsePositive, 'FALSE POSITIVE similarities (wrong matches)');
  stats(d.missedBest, 'MISSED LOGO best similarities (false negatives)');
  stats(d.allPositive, 'ALL similarities to CORRECT logos (per-ref)');
  stats(d.allNegative, 'ALL similarities to WRONG logos (per-ref)');
  const tp = d.truePositive;
  const fp = d.falsePositive;
  if (tp.length && fp.length) {
    L.push('', '-'.repeat(40), 'OVERLAP ANALYSIS:');
    const [[tpMin, tpMax], [fpMin, fpMax]] = [extent(tp), extent(fp)];
    L.push(`  True Positives range: [${tpMin.toFixed(4)}, ${tpMax.toFixed(4)}]`, `  False Positives range: [${fpMin.toFixed(4)}, ${fpMax.toFixed(4)}]`);
    const lo = Math.max(tpMin, fpMin);
    const hi = Math.min(tpMax, fpMax);
    if (lo < hi) {
      const tin = tp.filter((v) => v >= lo && v <= hi).length;
      const fin = fp.filter((v) => v >= lo && v <= hi).length;
      L.push(`  OVERLAP REGION: [${lo.toFixed(4)}, ${hi.toFixed(4)}]`, `  TPs in overlap: ${tin} (${((100 * tin) / tp.length).toFixed(1)}%)`, `  FPs in overlap: ${fin} (${((100 * fin) / fp.length).toFixed(1)}%)`);
    } else L.push('  NO OVERLAP - distributions are separable!');
  }
  if (d.suggested) {
    L.push('', `  SUGGESTED OPTIMAL THRESHOLD: ${thresholdText(d.suggested.threshold)}`, `  (would give F1 = ${d.suggested.f1.toFixed(4)} on this data, re-matched at that threshold)`);
  }
  if (d.detections.length) {
    L.push('', '-'.repeat(40), `SAMPLE DETECTION DETAILS (first 20 of ${d.detections.length}):`);
    d.detections.slice(0, 20).forEach((det, i) => {
      L.push('', `  [${i + 1}] Image: ${det.image}`, `      Expected: ${det.expected.length ? det.expected.join(', ') : '(none)'}`, `      DETR score: ${det.score.toFixed(3)}`, '      Top 5 matches:');
      for (const [logo, sim] of det.top) L.push(`        ${sim.toFixed(4)} ${logo}${det.expected.includes(logo) ? ' <-- CORRECT' : ''}`);
    });
  }
  L.push('', '='.repeat(60));
  return L.join('\n') + '\n';
}
