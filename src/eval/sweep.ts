/**
 * Single-pass sweeps: every cell of thresholds × margins × min_matching_refs × aggregation
 * (× method) is `evaluate` on the same similarity matrices — so a cell is exactly what a
 * separate run with that setting gives (tested), at the cost of matching only.
 * Calibration picks a threshold on one half of the images and reports it on the other half.
 */
import { LogolabError, UsageError } from '../errors.js';
import { makeRng } from '../util/rng.js';
import { DECIMAL_TEXT } from '../util/finite.js';
import { AGGREGATIONS, MATCHING_METHODS, type Aggregation, type MatchingMethod, type MatchOptions } from '../match/matchers.js';
import { evaluate, type SimilaritySet } from './evaluate.js';
import type { Counting, Counts } from './counting.js';

export interface SweepSpec {
  methods: MatchingMethod[];
  thresholds: number[];
  margins: number[];
  minMatchingRefs: number[];
  aggregations: Aggregation[];
}

export interface SweepCell {
  options: MatchOptions;
  counts: Counts;
}

/** Most values a start:end:step list may expand to (a typo like step 1e-9 would exhaust memory). */
const MAX_LIST = 10000;


/** The range every value of a list must lie in: the same as the single-value flag's (--threshold …). */
export interface ListRange {
  min?: number;
  max?: number;
  int?: boolean;
  /** why the range is what it is (ends the out-of-range message) */
  why?: string;
}

/**
 * "0.5:0.95:0.05" (inclusive range) or "0.6,0.7" → numbers; values rounded to 1e-9 to kill drift.
 * Every item is a plain decimal (no empty item, no hex) and every value lies in `r`.
 */
export function parseNumberList(s: string, what: string, r: ListRange = {}): number[] {
  const t = s.trim();
  const num = (x: string): number => {
    const v = Number(x.trim());
    if (!DECIMAL_TEXT.test(x.trim()) || !Number.isFinite(v)) throw new UsageError(`${what}: '${x.trim()}' in '${s}' is not a number`);
    return v;
  };
  let out: number[];
  const parts = t.split(':');
  if (parts.length === 3) {
    const [a, b, step] = parts.map(num) as [number, number, number];
    if (!(step > 0) || !(b >= a)) throw new UsageError(`${what}: bad range '${s}' (want start:end:step with end ≥ start, step > 0)`);
    if ((b - a) / step > MAX_LIST) throw new LogolabError(`${what}: '${s}' gives ${Math.floor((b - a) / step) + 1} values; at most ${MAX_LIST} (use a larger step)`);
    out = [];
    for (let i = 0; a + i * step <= b + 1e-9; i++) out.push(Math.round((a + i * step) * 1e9) / 1e9);
  } else if (parts.length === 1) out = t.split(',').map(num);
  else throw new UsageError(`${what}: bad range '${s}' (want start:end:step or a,b,c)`);
  for (const v of out) {
    if (r.int && !Number.isInteger(v)) throw new UsageError(`${what}: '${v}' in '${s}' is not an integer`);
    const lo = r.min ?? -Infinity;
    const hi = r.max ?? Infinity;
    if (!(v >= lo && v <= hi)) throw new UsageError(`${what}: '${v}' in '${s}' is out of range: ${r.why ?? `must be ${r.max === undefined ? `≥ ${lo}` : `in [${lo}, ${hi}]`}`}`);
  }
  return out;
}

export function parseEnumList<T extends string>(s: string, allowed: readonly T[], what: string): T[] {
  const out = s.split(',').map((x) => x.trim()) as T[];
  for (const x of out) if (!allowed.includes(x)) throw new LogolabError(`${what}: '${x}' is not one of ${allowed.join('|')}`);
  return out;
}

/** All distinct cells (parameters a method ignores are not multiplied out). */
export function sweepCells(spec: SweepSpec): MatchOptions[] {
  const cells: MatchOptions[] = [];
  const seen = new Set<string>();
  for (const method of spec.methods)
    for (const aggregation of method === 'multi-ref' ? spec.aggregations : [spec.aggregations[0] ?? 'max'])
      for (const minMatchingRefs of method === 'multi-ref' ? spec.minMatchingRefs : [spec.minMatchingRefs[0] ?? 1])
        for (const margin of method === 'simple' ? [spec.margins[0] ?? 0] : spec.margins)
          for (const threshold of spec.thresholds) {
            const o: MatchOptions = { method, threshold, margin, minMatchingRefs, aggregation };
            const k = JSON.stringify(o);
            if (!seen.has(k)) {
              seen.add(k);
              cells.push(o);
            }
          }
  return cells;
}

export function runSweep(p: SimilaritySet, spec: SweepSpec, counting: Counting = 'logos', imageSubset?: number[]): SweepCell[] {
  for (const m of spec.methods) if (!MATCHING_METHODS.includes(m)) throw new LogolabError(`sweep: unknown method '${m}'`);
  for (const a of spec.aggregations) if (!AGGREGATIONS.includes(a)) throw new LogolabError(`sweep: unknown aggregation '${a}'`);
  return sweepCells(spec).map((options) => {
    const r = evaluate(p, options, counting, imageSubset);
    const { tp, fp, fn, expected, precision, recall, f1 } = r;
    return { options, counts: { tp, fp, fn, expected, precision, recall, f1 } };
  });
}

export function formatSweepTable(cells: SweepCell[]): string {
  const head = 'method     aggr  min_refs  margin  threshold     TP     FP     FN   prec   recall  F1';
  const lines = [head, '-'.repeat(head.length)];
  for (const c of cells) {
    const o = c.options;
    const k = c.counts;
    lines.push(
      `${o.method.padEnd(10)} ${(o.method === 'multi-ref' ? o.aggregation : '-').padEnd(5)} ${String(o.method === 'multi-ref' ? o.minMatchingRefs : '-').padStart(8)}  ${(o.method === 'simple' ? '-' : o.margin.toFixed(3)).padStart(6)}  ${o.threshold.toFixed(3).padStart(9)} ${String(k.tp).padStart(6)} ${String(k.fp).padStart(6)} ${String(k.fn).padStart(6)}  ${(k.precision * 100).toFixed(1).padStart(5)}  ${(k.recall * 100).toFixed(1).padStart(6)}  ${(k.f1 * 100).toFixed(1).padStart(5)}`,
    );
  }
  return lines.join('\n') + '\n';
}

// ---------------- calibration ----------------

export type CalibrationTarget = { kind: 'precision' | 'recall'; value: number } | { kind: 'f1' };

export function parseCalibrationTarget(s: string): CalibrationTarget {
  if (s === 'f1') return { kind: 'f1' };
  const m = /^(precision|recall)=([\d.]+)$/.exec(s);
  if (!m || !(Number(m[2]) > 0 && Number(m[2]) <= 1)) throw new LogolabError(`--calibrate: '${s}' is not precision=<0..1>, recall=<0..1> or f1`);
  return { kind: m[1] as 'precision' | 'recall', value: Number(m[2]) };
}

export interface CalibrationResult {
  target: CalibrationTarget;
  threshold: number | null;
  /** what was achieved on the calibration split at that threshold */
  calibration: Counts | null;
  /** the same threshold on the held-out test split */
  test: Counts | null;
  calibrationImages: number;
  testImages: number;
}

/**
 * Images split in two halves by a seeded shuffle (calibration: the larger half), the images that
 * hold a logo and those that hold none halved apart: a plain shuffle could put every image holding a
 * logo in one half, leaving the other's recall and F1 0/0.
 */
export function calibrationSplit(images: readonly { expected: readonly string[] }[], seed: number): { calib: number[]; test: number[] } {
  const rng = makeRng(`calibrate:${seed}`);
  const pos = rng.shuffle(images.flatMap((im, i) => (im.expected.length ? [i] : [])));
  const neg = rng.shuffle(images.flatMap((im, i) => (im.expected.length ? [] : [i])));
  const hp = Math.ceil(pos.length / 2);
  // the negatives fill the calibration half up to ceil(n / 2)
  const hn = Math.min(neg.length, Math.max(0, Math.ceil(images.length / 2) - hp));
  const calib = [...pos.slice(0, hp), ...neg.slice(0, hn)];
  const test = [...pos.slice(hp), ...neg.slice(hn)];
  return { calib: calib.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/**
 * precision=p: the lowest threshold whose calibration precision ≥ p (most recall at that precision);
 * recall=r: the highest threshold whose calibration recall ≥ r (most precision at that recall);
 * f1: the threshold with the best calibration F1 (ties: the lower threshold), none when F1 is 0 at
 * every threshold (no true positive: the sweep's lowest threshold would be "chosen" by nothing).
 */
export function calibrate(p: SimilaritySet, base: MatchOptions, thresholds: number[], target: CalibrationTarget, seed: number, counting: Counting = 'logos'): CalibrationResult {
  const { calib, test } = calibrationSplit(p.set.images, seed);
  const ts = [...new Set(thresholds)].sort((a, b) => a - b);
  const rows = ts.map((t) => ({ t, c: evaluate(p, { ...base, threshold: t }, counting, calib) }));
  let pick: (typeof rows)[number] | undefined;
  if (target.kind === 'precision') pick = rows.find((r) => r.c.tp + r.c.fp > 0 && r.c.precision >= target.value);
  else if (target.kind === 'recall') pick = [...rows].reverse().find((r) => r.c.recall >= target.value);
  else for (const r of rows) if (r.c.f1 > (pick?.c.f1 ?? 0)) pick = r;
  const strip = (c: Counts): Counts => ({ tp: c.tp, fp: c.fp, fn: c.fn, expected: c.expected, precision: c.precision, recall: c.recall, f1: c.f1 });
  if (!pick) return { target, threshold: null, calibration: null, test: null, calibrationImages: calib.length, testImages: test.length };
  const t = evaluate(p, { ...base, threshold: pick.t }, counting, test);
  return { target, threshold: pick.t, calibration: strip(pick.c), test: strip(t), calibrationImages: calib.length, testImages: test.length };
}

export function formatCalibration(r: CalibrationResult): string {
  const tgt = r.target.kind === 'f1' ? 'best F1' : `${r.target.kind} ≥ ${r.target.value}`;
  // 0/0 is n/a, not a measured 0 %: precision with nothing matched, recall and F1 with nothing expected
  const pc = (x: number, defined: boolean) => (defined ? `${(x * 100).toFixed(1)}%` : 'n/a');
  const f = (c: Counts) => `P ${pc(c.precision, c.tp + c.fp > 0)}  R ${pc(c.recall, c.expected > 0)}  F1 ${pc(c.f1, c.expected > 0)}  (TP ${c.tp} FP ${c.fp} FN ${c.fn})`;
  const L = ['', '-'.repeat(60), `CALIBRATION (${tgt}; ${r.calibrationImages} calibration / ${r.testImages} test images)`];
  if (r.threshold === null) L.push(r.target.kind === 'f1' ? '  no threshold in the sweep gives an F1 above 0 on the calibration split (no true positive there)' : '  no threshold in the sweep reaches the target on the calibration split');
  else L.push(`  Chosen threshold: ${r.threshold}`, `  Calibration split: ${f(r.calibration!)}`, `  Test split:        ${f(r.test!)}`);
  return L.join('\n') + '\n';
}
