/**
 * Paired bootstrap intervals for "candidate − baseline" measured on the same units (test images
 * for F1, retrieval queries for precision@1): draw units with replacement from a seeded generator,
 * recompute both models' statistic on the same draw, and take the percentile interval of each
 * model's value and of the difference. Pairing matters: both models see the same hard images, so
 * the interval of the difference is much narrower than the two single intervals suggest.
 *
 * A unit carries a small vector of counts per model (e.g. [tp, fp, fn, expected] of one image); the
 * statistic is a function of their sums (F1 from summed counts, as the evaluation itself counts).
 */
import { LogolabError } from '../errors.js';
import { scores } from '../eval/counting.js';
import { makeRng } from '../util/rng.js';

export interface Interval {
  /** the statistic on all units */
  value: number;
  /** percentile bounds of the bootstrap distribution */
  lo: number;
  hi: number;
}

export interface PairedInterval {
  baseline: Interval;
  candidate: Interval;
  /** candidate − baseline */
  delta: Interval;
  units: number;
  resamples: number;
  /** two-sided coverage, e.g. 0.95 */
  level: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

function sums(rows: readonly (readonly number[])[], idx: ArrayLike<number> | null, k: number): number[] {
  const s = new Array<number>(k).fill(0);
  const n = idx ? idx.length : rows.length;
  for (let i = 0; i < n; i++) {
    const r = rows[idx ? idx[i]! : i]!;
    for (let j = 0; j < k; j++) s[j]! += r[j]!;
  }
  return s;
}

/** Percentile with linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * `baseline[i]` and `candidate[i]` are unit i's count vectors (same length k for every unit);
 * `stat` maps summed counts to the statistic.
 */
export function pairedBootstrap(baseline: readonly (readonly number[])[], candidate: readonly (readonly number[])[], stat: (summed: number[]) => number, o: BootstrapOptions = {}): PairedInterval {
  const n = baseline.length;
  if (candidate.length !== n) throw new LogolabError(`bootstrap: ${n} baseline units but ${candidate.length} candidate units (the comparison must be paired)`);
  const B = o.resamples ?? 2000;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new LogolabError(`bootstrap: resamples must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new LogolabError(`bootstrap: level must be in (0, 1), got ${level}`);
  const k = n ? baseline[0]!.length : 0;
  const vb = stat(sums(baseline, null, k));
  const vc = stat(sums(candidate, null, k));
  const bs = new Float64Array(B), cs = new Float64Array(B), ds = new Float64Array(B);
  const rng = makeRng(`bootstrap:${o.seed ?? 0}`);
  const idx = new Int32Array(n);
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    bs[r] = n ? stat(sums(baseline, idx, k)) : vb;
    cs[r] = n ? stat(sums(candidate, idx, k)) : vc;
    ds[r] = cs[r]! - bs[r]!;
  }
  const a = (1 - level) / 2;
  const iv = (v: number, xs: Float64Array): Interval => {
    xs.sort();
    return { value: v, lo: percentile(xs, a), hi: percentile(xs, 1 - a) };
  };
  return { baseline: iv(vb, bs), candidate: iv(vc, cs), delta: iv(vc - vb, ds), units: n, resamples: B, level };
}

/** F1 from summed [tp, fp, fn, expected] (counting.ts's scores()). */
export const f1OfCounts = (s: number[]): number => scores(s[0]!, s[1]!, s[2]!, s[3]!).f1;
/** Mean of 0/1 hits from summed [hits, queries]. */
export const rateOfHits = (s: number[]): number => (s[1]! > 0 ? s[0]! / s[1]! : 0);
