/** The demo's side-by-side table, read from `logolab compare`'s report.json. */
import { readFileSync } from 'node:fs';
import { LogolabError, firstLine } from '../errors.js';
import { signedPoints, type Verdict } from '../report/verdict.js';

interface Counts { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }
interface ModelEntry {
  label: string;
  name: string;
  atThreshold: Counts;
  /** threshold null: F1 is 0 at every threshold (no best one) */
  best: { threshold: number | null; counts: Counts };
  retrieval?: { overall?: { precision_at_1: number; r_precision: number; map_at_r: number; recall_at_k?: Record<string, number> } } | null;
  calibration?: { threshold: number | null; test: Counts | null; testImages: number } | null;
}

export interface DemoRow {
  label: string;
  name: string;
  f1: number;
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
  bestF1: number;
  /** null when F1 is 0 at every threshold */
  bestThreshold: number | null;
  p1: number | null;
  mapAtR: number | null;
  /** F1 on the held-out half at this model's own calibrated threshold (compare --calibrate f1) */
  calibrated: { threshold: number; counts: Counts; images: number } | null;
}

export interface DemoComparison {
  threshold: number;
  rows: DemoRow[];
  /** the report's paired bootstrap intervals (absent in reports written before they existed) */
  verdict: Verdict | null;
  /** the candidate beats the baseline on both F1 (calibrated when available, else at the demo's threshold) and precision@1 */
  candidateWins: boolean;
}

export function readComparison(reportJson: string): DemoComparison {
  let d: { options?: { threshold: number }; models?: ModelEntry[]; verdict?: Verdict };
  try {
    d = JSON.parse(readFileSync(reportJson, 'utf8'));
  } catch (e) {
    throw new LogolabError(`${reportJson}: cannot read the compare report (${firstLine(e)})`);
  }
  if (!Array.isArray(d.models) || d.models.length !== 2 || !d.options) throw new LogolabError(`${reportJson}: field 'models' must hold the baseline and the candidate`);
  const rows = d.models.map((m): DemoRow => {
    const o = m.retrieval?.overall ?? null;
    return {
      label: m.label, name: m.name, f1: m.atThreshold.f1, precision: m.atThreshold.precision, recall: m.atThreshold.recall,
      tp: m.atThreshold.tp, fp: m.atThreshold.fp, fn: m.atThreshold.fn, bestF1: m.best.counts.f1, bestThreshold: m.best.threshold,
      p1: o ? o.precision_at_1 : null, mapAtR: o ? o.map_at_r : null,
      calibrated: m.calibration?.test && m.calibration.threshold !== null ? { threshold: m.calibration.threshold, counts: m.calibration.test, images: m.calibration.testImages } : null,
    };
  });
  const [b, c] = rows as [DemoRow, DemoRow];
  const f1 = (r: DemoRow) => (b.calibrated && c.calibrated ? r.calibrated!.counts.f1 : r.f1);
  return { threshold: d.options.threshold, rows, verdict: d.verdict ?? null, candidateWins: f1(c) > f1(b) && (c.p1 ?? -1) > (b.p1 ?? -1) };
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const pts = signedPoints;
const ci = (i: { lo: number; hi: number }) => `[${(100 * i.lo).toFixed(1)}, ${(100 * i.hi).toFixed(1)}]`;

/** The win line, saying plainly when a "win" is smaller than one count either way. */
function verdict(c: DemoComparison): string {
  const v = c.verdict;
  if (v) {
    const f = `F1 ${pts(v.f1.delta.value)} points (95% CI ${pts(v.f1.delta.lo)} to ${pts(v.f1.delta.hi)})`;
    const p = v.p1 ? `, precision@1 ${pts(v.p1.delta.value)} points (95% CI ${pts(v.p1.delta.lo)} to ${pts(v.p1.delta.hi)})` : '';
    // ('baseline': the outcome's name in the report.json of earlier versions, which a resumed demo reads)
    const lead = { 'candidate-clear': 'The fine-tuned model beats the baseline clearly', 'candidate-noise': 'The fine-tuned model is ahead of the baseline, but an interval includes no gain (within noise)', mixed: 'No clear winner', tie: 'No difference between the fine-tuned model and the baseline', 'baseline-clear': 'The fine-tuned model does NOT beat the baseline: it is worse', 'baseline-noise': 'The fine-tuned model does NOT beat the baseline (behind, within noise)', baseline: 'The fine-tuned model does NOT beat the baseline' }[v.outcome as string];
    return `${lead}: ${f}${p}; paired bootstrap, ${v.f1.resamples.toLocaleString('en')} resamples of the ${v.f1.units} test images${v.p1 ? ` / ${v.p1.units} queries` : ''}.`;
  }
  if (!c.candidateWins) return 'The fine-tuned model does NOT beat the baseline on both F1 and precision@1.';
  const [b, k] = [c.rows[0], c.rows[1]];
  // counts of the F1 the verdict used (calibrated when both have it)
  const cnt = (r: DemoRow) => (b?.calibrated && k?.calibrated ? r.calibrated!.counts : r);
  const small = b && k && Math.abs(cnt(k).tp - cnt(b).tp) + Math.abs(cnt(k).fp - cnt(b).fp) + Math.abs(cnt(k).fn - cnt(b).fn) <= 2 && k.p1 !== null && b.p1 !== null && k.p1 - b.p1 < 0.02;
  return small
    ? 'The fine-tuned model is ahead of the baseline on both F1 and precision@1, but only by a count or two: within noise on this sample.'
    : 'The fine-tuned model beats the baseline on both F1 and precision@1.';
}

export function formatComparison(c: DemoComparison): string {
  const cal = c.rows.every((r) => r.calibrated);
  const v = c.verdict;
  // 95% bootstrap intervals beside the calibrated F1 and precision@1 (when the report has them)
  const f1ci = (k: number) => (v && v.f1.basis === 'calibrated' ? ` ${ci(k ? v.f1.candidate : v.f1.baseline)}` : '');
  const p1ci = (k: number) => (v?.p1 ? ` ${ci(k ? v.p1.candidate : v.p1.baseline)}` : '');
  const head = ['model', `F1 @${c.threshold}`, 'precision', 'recall', 'TP/FP/FN', ...(cal ? [`F1 calibrated (thr)${v ? ' [95% CI]' : ''}`] : []), 'best F1 (thr)', `precision@1${v?.p1 ? ' [95% CI]' : ''}`, 'MAP@R'];
  const lines = c.rows.map((r, k) => [r.label, pct(r.f1), pct(r.precision), pct(r.recall), `${r.tp}/${r.fp}/${r.fn}`,
    ...(cal ? [`${pct(r.calibrated!.counts.f1)} (${r.calibrated!.threshold})${f1ci(k)}`] : []), r.bestThreshold === null ? 'none (F1 0 at every threshold)' : `${pct(r.bestF1)} (${r.bestThreshold})`, `${pct(r.p1)}${p1ci(k)}`, pct(r.mapAtR)]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => '| ' + cells.map((s, i) => s.padEnd(w[i]!)).join(' | ') + ' |';
  return [
    `Held-out test images, gt-boxes, margin matching at threshold ${c.threshold}${cal ? `; "calibrated" = each model's own best-F1 threshold chosen on a seeded half of these images, F1 on the other half (${c.rows[0]!.calibrated!.images} images)` : ''}; "best F1" = the best threshold on all of them (optimistic); retrieval over reference crops:`,
    fmt(head),
    '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|',
    ...lines.map(fmt),
    verdict(c),
  ].join('\n');
}
