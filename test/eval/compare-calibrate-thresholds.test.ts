/**
 * compare --calibrate chooses each model's threshold from the same candidates as eval --calibrate:
 * the --sweep-thresholds list (its default when not given), not the finer 0:1 grid of the plotted
 * curves. One model, seed and list give one calibrated threshold — and one verdict F1 — in both.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { exportDataEmbeddings } from '../../src/eval/exchange.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import type { CalibrationResult } from '../../src/eval/sweep.js';
import { runCli } from '../cli/run.js';
import { fakeEncoder, makeTinyDataDir } from './tinydata.js';

const OPTS = ['-n', '4', '--matching-method', 'simple', '--calibrate', 'f1', '--backend', 'wasm'];
let W = '';
let B = '';
let C = '';

before(async () => {
  W = tmpDir('logolab-compare-cal-');
  const data = join(W, 'data');
  await makeTinyDataDir(data, { perLogo: 5, negatives: 4 });
  B = join(W, 'base.safetensors');
  C = join(W, 'cand.safetensors');
  // the noisier candidate's best thresholds lie below 0.5: outside the default list
  await exportDataEmbeddings(data, fakeEncoder('fake-base', 'fp-base', 0.12), gtBoxes, B, { quiet: true });
  await exportDataEmbeddings(data, fakeEncoder('fake-cand', 'fp-cand', 0.3), gtBoxes, C, { quiet: true });
});

async function evalCalibration(file: string, list: string[], name: string): Promise<CalibrationResult> {
  const json = join(W, `${name}.json`);
  const r = await runCli(['eval', '--embeddings', file, ...OPTS, ...list, '--json', json]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(readFileSync(json, 'utf8')) as { calibration: CalibrationResult }).calibration;
}

type Report = { models: { calibration: CalibrationResult }[]; verdict?: { f1: { basis: string; thresholds: number[] } } };

async function compareReport(list: string[], name: string): Promise<{ stdout: string; report: Report }> {
  const rep = join(W, name);
  const r = await runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', C, ...OPTS, ...list, '--report', rep]);
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, report: JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8')) as Report };
}

const CASES: [string, string[], number[] | null][] = [
  // no threshold of the list has a true positive on the calibration half: none is chosen
  ['high', ['--sweep-thresholds', '0.9,0.95'], [0.9, 0.95]],
  ['mixed', ['--sweep-thresholds', '0.3,0.6,0.8'], [0.3, 0.6, 0.8]],
  // the default list, read by both commands from one place
  ['default', [], null],
];

for (const [name, list, allowed] of CASES) {
  test(`compare --calibrate ${list.join(' ') || '(default --sweep-thresholds)'}: each model's calibration is eval --calibrate's`, async () => {
    const [eb, ec] = [await evalCalibration(B, list, `${name}-b`), await evalCalibration(C, list, `${name}-c`)];
    const { stdout, report } = await compareReport(list, `rep-${name}`);
    assert.deepEqual(report.models[0]!.calibration, eb);
    assert.deepEqual(report.models[1]!.calibration, ec);
    for (const cal of [eb, ec]) if (allowed && cal.threshold !== null) assert.ok(allowed.includes(cal.threshold), `${cal.threshold} is not in ${allowed.join(',')}`);
    // the verdict's F1 is taken at those thresholds (or at --threshold when one side has none)
    const v = report.verdict!.f1;
    if (eb.threshold !== null && ec.threshold !== null) assert.deepEqual([v.basis, ...v.thresholds], ['calibrated', eb.threshold, ec.threshold]);
    else assert.equal(v.basis, 'threshold');
    if (name === 'high') {
      assert.deepEqual([eb.threshold, ec.threshold], [null, null]);
      assert.match(stdout, /calibration: no --sweep-thresholds value gives an F1 above 0 on the calibration half/);
    }
  });
}
