/**
 * Fault trials: command-line usage. A bad option value is one error line quoting the value as
 * typed (exit 2), found before any slow work; unknown commands/options are usage errors.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, expectFailure } from './harness.js';
import { BACKEND, baseModel, dataDir } from './fixtures.js';

describe('fault trials: command-line usage', () => {
  let data = '';
  let model = '';
  before(async () => {
    data = await dataDir();
    model = await baseModel();
  });
  const evalWith = (...extra: string[]) => cli('eval', '--data', data, '--model', model, '--no-cache', ...extra, ...BACKEND);

  const cases: [string, string[], RegExp][] = [
    ['-t abc (not a number)', ['-t', 'abc'], /--threshold.*'abc'.*not a number/],
    ['-t 2 (a cosine threshold above 1)', ['-t', '2'], /--threshold.*'2'.*\[-1, 1\]/],
    ['-n -5 (negative count)', ['-n', '-5'], /--num-logos.*'-5'/],
    ['--batch-size 0', ['--batch-size', '0'], /--batch-size.*'0'/],
    ['--margin x', ['--margin', 'x'], /--margin.*'x'/],
    ['--refs-per-logo 1.5 (not an integer)', ['--refs-per-logo', '1.5'], /--refs-per-logo.*'1\.5'.*integer/],
    ['--detr-threshold 1.5', ['--detr-threshold', '1.5'], /--detr-threshold.*'1\.5'/],
    ['-t given twice', ['-t', '0.5', '-t', '0.6'], /--threshold.*(twice|more than once)/],
    ['--seed 0x (garbage)', ['--seed', '0x'], /--seed.*'0x'/],
  ];
  for (const [name, args, msg] of cases) {
    it(`eval ${name} is a usage error quoting the value`, async () => {
      expectFailure(await evalWith(...args), 2, msg);
    });
  }

  it('embed --batch-size 2.5 is a usage error quoting the value', async () => {
    expectFailure(await cli('embed', data, '--model', model, '--out', join(tmpdir(), 'never.jsonl'), '--batch-size', '2.5', ...BACKEND), 2, /--batch-size.*'2\.5'/);
  });

  it('prepare --concurrency 0 is a usage error quoting the value', async () => {
    expectFailure(await cli('prepare', '--dataset', data, '--out', join(tmpdir(), 'never-prepared'), '--concurrency', '0'), 2, /--concurrency.*'0'/);
  });

  it('--sweep-thresholds that would expand to millions of values is refused', async () => {
    expectFailure(await evalWith('--sweep', '--sweep-thresholds', '0:1:0.0000001'), 1, /--sweep-thresholds.*at most/);
  });

  it('-n above the logos available warns and samples all of them', async () => {
    const r = await evalWith('-n', '50');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warn.*num-logos 50: only 4 logos/);
  });

  it('--refs-per-logo / --positive-samples / --negative-samples above what the logos have warn (all of theirs are taken)', async () => {
    const r = await evalWith('--refs-per-logo', '100', '--positive-samples', '1000', '--negative-samples', '1000');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warn.*refs-per-logo 100: \d+ of the \d+ sampled logos have fewer reference crops \(as few as \d+\); all of theirs are used/);
    assert.match(r.stderr, /warn.*positive-samples 1000: .* fewer test images holding it/);
    assert.match(r.stderr, /warn.*negative-samples 1000: .* fewer test images without it/);
    const quiet = await evalWith('--refs-per-logo', '1', '--positive-samples', '1', '--negative-samples', '1');
    assert.doesNotMatch(quiet.stderr, /have fewer/);
  });

  it('an unknown command is a usage error', async () => {
    expectFailure(await cli('frobnicate'), 2, /frobnicate/);
  });

  it('a missing required option is a usage error naming it', async () => {
    expectFailure(await cli('export', '--out', join(tmpdir(), 'x')), 2, /checkpoint/);
  });
});
