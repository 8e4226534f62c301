/** compare --candidate <run>.ckpt names the candidate by the checkpoint given, not by the deleted temp export. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseModel, dataDir, loraRun, ROOT_TMP, BACKEND } from '../faults/fixtures.js';
import { runCli } from '../cli/run.js';

test('compare --candidate x.ckpt: report.json and the summary name x.ckpt', async () => {
  const run = await loraRun();
  const rep = join(ROOT_TMP, 'report-ckpt-name');
  const r = await runCli(['compare', '--data', await dataDir(), '--baseline', await baseModel(), '--candidate', run.last, '--report', rep, '-n', '2', '--no-cache', ...BACKEND]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8')) as { models: { label: string; name: string }[] };
  assert.equal(j.models[1]!.name, run.last);
  assert.match(r.stdout, new RegExp(`candidate .*\\(${run.last.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
  assert.doesNotMatch(readFileSync(join(rep, 'report.md'), 'utf8'), /logolab-compare-/);
});
