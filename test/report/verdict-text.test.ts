/**
 * The verdict paragraph: a baseline "win" is clear only when every interval excludes 0 (as a
 * candidate win), the lead counts the measures actually made (precision@1 is missing when every
 * query is lone), and the figures say which model is which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf, verdictText, type Verdict } from '../../src/report/verdict.js';

const d = (value: number, lo: number, hi: number) => ({ value, lo, hi });
const side = (value: number) => ({ value, lo: value - 0.05, hi: value + 0.05 });

test('outcome: clear only when every interval excludes 0, for either model', () => {
  assert.equal(outcomeOf([d(0.1, 0.02, 0.2), d(0.05, 0.01, 0.1)]), 'candidate-clear');
  assert.equal(outcomeOf([d(0.1, 0.02, 0.2), d(0.05, -0.01, 0.1)]), 'candidate-noise');
  assert.equal(outcomeOf([d(-0.1, -0.2, -0.02)]), 'baseline-clear');
  // the reviewer's case: −1.8 points, 95% CI −6.1 to +1.4 — not a baseline win
  assert.equal(outcomeOf([d(-0.018, -0.061, 0.014)]), 'baseline-noise');
  assert.equal(outcomeOf([d(0.1, 0.02, 0.2), d(-0.05, -0.1, -0.01)]), 'mixed');
});

test('verdict text: the measures made, and which figure is which model', () => {
  const f1 = { baseline: side(0.6), candidate: side(0.582), delta: d(-0.018, -0.061, 0.014), units: 40, resamples: 2000, level: 0.95, basis: 'threshold' as const, thresholds: [0.7, 0.7] as [number, number] };
  const v: Verdict = { f1, p1: null, outcome: outcomeOf([f1.delta]) };
  const t = verdictText(v, ['baseline', 'candidate']);
  assert.match(t, /^The candidate model is behind in F1 \(the one measure: precision@1 is not measured, every query is lone\), but not clearly: an interval includes no loss\./);
  assert.match(t, /candidate 58\.2% vs baseline 60\.0%, −1\.8 points \(95% CI −6\.1 to \+1\.4 points/);
  assert.doesNotMatch(t, /wins/);
  const p1 = { baseline: side(0.7), candidate: side(0.8), delta: d(0.1, 0.03, 0.17), units: 160, resamples: 2000, level: 0.95 };
  const w = verdictText({ f1: { ...f1, delta: d(0.1, 0.04, 0.16) }, p1, outcome: 'candidate-clear' }, ['baseline', 'candidate']);
  assert.match(w, /^The candidate model wins clearly on both measures\./);
  assert.match(w, /Precision@1 over 160 reference-crop queries: candidate 80\.0% vs baseline 70\.0%/);
});

test('a measure with no difference is level, not behind: ahead + level is ahead (not clearly), all level is a tie', () => {
  assert.equal(outcomeOf([d(0, 0, 0), d(0, 0, 0)]), 'tie');
  assert.equal(outcomeOf([d(0, -0.02, 0.02)]), 'tie');
  assert.equal(outcomeOf([d(0.1, 0.05, 0.15), d(0, -0.01, 0.01)]), 'candidate-noise');
  assert.equal(outcomeOf([d(-0.1, -0.15, -0.05), d(0, -0.01, 0.01)]), 'baseline-noise');
  const f1 = { baseline: side(0.6), candidate: side(0.7), delta: d(0.1, 0.05, 0.15), units: 40, resamples: 2000, level: 0.95, basis: 'threshold' as const, thresholds: [0.7, 0.7] as [number, number] };
  const p1 = { baseline: side(1), candidate: side(1), delta: d(0, 0, 0), units: 12, resamples: 2000, level: 0.95 };
  const ahead = verdictText({ f1, p1, outcome: outcomeOf([f1.delta, p1.delta]) }, ['baseline', 'candidate']);
  assert.match(ahead, /^The candidate model is ahead in F1 and level in precision@1: not clearly better\./);
  assert.doesNotMatch(ahead, /behind/);
  const same = { ...f1, candidate: f1.baseline, delta: d(0, 0, 0) };
  assert.match(verdictText({ f1: same, p1, outcome: outcomeOf([same.delta, p1.delta]) }, ['baseline', 'candidate']), /^No difference: the candidate and baseline models score the same on both measures\./);
  const mixed = verdictText({ f1, p1: { ...p1, delta: d(-0.05, -0.1, -0.01) }, outcome: 'mixed' }, ['baseline', 'candidate']);
  assert.match(mixed, /^No clear winner: the candidate model is ahead in F1 and behind in precision@1\./);
});
