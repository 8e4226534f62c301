/** The demo's side-by-side table and its verdict, from a synthetic compare report.json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { formatComparison, readComparison } from '../../src/demo/table.js';

const counts = (tp: number, fp: number, fn: number) => {
  const p = tp + fp ? tp / (tp + fp) : 0, r = tp + fn ? tp / (tp + fn) : 0;
  return { tp, fp, fn, expected: tp + fn, precision: p, recall: r, f1: p + r ? (2 * p * r) / (p + r) : 0 };
};
const side = (label: string, at: [number, number, number], cal: [number, number, number] | null, p1: number) => ({
  label, name: label, atThreshold: counts(...at), best: { threshold: 0.8, counts: counts(...at) },
  retrieval: { overall: { precision_at_1: p1, r_precision: 0, map_at_r: 0.1 } },
  ...(cal ? { calibration: { target: { kind: 'f1' }, threshold: 0.7, test: counts(...cal), testImages: 50 } } : {}),
});
function report(models: unknown[]): string {
  const f = join(tmpDir('logolab-table-'), 'report.json');
  writeFileSync(f, JSON.stringify({ options: { threshold: 0.9 }, models }));
  return f;
}

test('demo table: the verdict uses calibrated F1 when both models have it, else F1 at the threshold', () => {
  // at the fixed threshold the candidate loses F1, on its own calibrated threshold it wins clearly
  const c = readComparison(report([side('baseline', [10, 10, 10], [5, 5, 5], 0.2), side('candidate', [8, 10, 12], [9, 3, 1], 0.3)]));
  assert.equal(c.candidateWins, true);
  const txt = formatComparison(c);
  assert.match(txt, /F1 calibrated \(thr\)/);
  assert.match(txt, /beats the baseline on both F1 and precision@1\./);
  // no calibration: the fixed-threshold F1 decides
  const d = readComparison(report([side('baseline', [10, 10, 10], null, 0.2), side('candidate', [8, 10, 12], null, 0.3)]));
  assert.equal(d.candidateWins, false);
  assert.doesNotMatch(formatComparison(d), /calibrated/);
  assert.match(formatComparison(d), /does NOT beat/);
  // ahead by one count and < 2 points of precision@1: called within noise
  const e = readComparison(report([side('baseline', [10, 10, 10], [5, 5, 5], 0.2), side('candidate', [10, 10, 10], [6, 5, 5], 0.21)]));
  assert.equal(e.candidateWins, true);
  assert.match(formatComparison(e), /within noise/);
});

test('demo table: a report without two models is a one-line error naming the field', () => {
  assert.throws(() => readComparison(report([side('baseline', [1, 1, 1], null, 0.1)])), /field 'models'/);
});

test('demo table: with the report\'s bootstrap verdict, intervals beside calibrated F1 and precision@1, verdict from the intervals', () => {
  const iv = (value: number, lo: number, hi: number) => ({ value, lo, hi });
  const pair = (b: number, c: number, dlo: number, dhi: number) => ({ baseline: iv(b, b - 0.05, b + 0.05), candidate: iv(c, c - 0.05, c + 0.05), delta: iv(c - b, dlo, dhi), units: 50, resamples: 2000, level: 0.95 });
  const write = (outcome: string, dlo: number) => {
    const f = report([side('baseline', [10, 10, 10], [5, 5, 5], 0.2), side('candidate', [8, 10, 12], [9, 3, 1], 0.3)]);
    const d = JSON.parse(readFileSync(f, 'utf8'));
    d.verdict = { f1: { ...pair(0.5, 9 / 11, dlo, 0.4), basis: 'calibrated', thresholds: [0.7, 0.7] }, p1: { ...pair(0.2, 0.3, dlo, 0.2), units: 40 }, outcome };
    writeFileSync(f, JSON.stringify(d));
    return formatComparison(readComparison(f));
  };
  const clear = write('candidate-clear', 0.05);
  assert.match(clear, /F1 calibrated \(thr\) \[95% CI\]/);
  assert.match(clear, /81\.8% \(0\.7\) \[76\.8, 86\.8\]/);
  assert.match(clear, /30\.0% \[25\.0, 35\.0\]/);
  assert.match(clear, /beats the baseline clearly: F1 \+31\.8 points \(95% CI \+5\.0 to \+40\.0\), precision@1 \+10\.0 points/);
  assert.match(write('candidate-noise', -0.02), /within noise/);
});

test('demo table: a model whose F1 is 0 at every threshold has no best-F1 threshold, shown as none (not "0.0% (null)")', () => {
  const zero = { ...side('candidate', [0, 3, 10], null, 0.1), best: { threshold: null, counts: counts(0, 3, 10) } };
  const txt = formatComparison(readComparison(report([side('baseline', [10, 10, 10], null, 0.2), zero])));
  assert.match(txt, /none \(F1 0 at every threshold\)/);
  assert.doesNotMatch(txt, /null/);
});
