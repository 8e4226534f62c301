/**
 * `logolab demo --mode tiny` (the smallest plan: 8 held-out brands, 2 training steps) end to end
 * against the shipped baseline: every stage writes its marker, the table and report exist, and a
 * re-run after deleting the last two markers re-runs only those stages (resume). Does not assert
 * that the fine-tune wins — 2 steps are too few; the quick/default figures are in the README/report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';
import { splitSynthScenes, sceneHalf } from '../../src/demo/split.js';

test('sceneHalf: odd scene indices train, even test, other files none', () => {
  assert.equal(sceneHalf('1.jpg'), 'train');
  assert.equal(sceneHalf('12.xml'), 'test');
  assert.equal(sceneHalf('synth.json'), null);
  assert.equal(sceneHalf('a1.jpg'), null);
});

test('splitSynthScenes: rejects a folder that is not a synth output', async () => {
  const d = tmpDir();
  try {
    await assert.rejects(splitSynthScenes(d, join(d, 'a'), join(d, 'b')), /not a synth output/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('demo --mode tiny: all stages, table, report; re-run resumes', () => {
  const out = tmpDir('logolab-demo-');
  const run = () => execFileSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', out, '--backend', 'wasm'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOGOLAB_QUIET: '1' } });
  try {
    const stdout = run();
    assert.match(stdout, /\| baseline +\|/);
    assert.match(stdout, /\| candidate +\|/);
    const markers = readdirSync(join(out, 'stages')).sort();
    assert.deepEqual(markers.map((m) => m.replace(/^\d+-|\.json$/g, '')), ['synth', 'split', 'prepare', 'eval-baseline', 'train', 'export', 'compare', 'summary']);
    for (const f of ['report/report.html', 'report/report.json', 'finetuned/model.safetensors', 'baseline_eval.json', 'demo_summary.json']) assert.ok(existsSync(join(out, f)), f);
    // the two halves are disjoint scene sets of the same brands
    const split = JSON.parse(readFileSync(join(out, 'stages', markers[1]!), 'utf8')).result;
    assert.equal(split.train.brands, split.test.brands);
    // interrupt after export: drop the last two markers → only compare + summary run again
    rmSync(join(out, 'stages', markers[6]!));
    rmSync(join(out, 'stages', markers[7]!));
    run();
    const sum = JSON.parse(readFileSync(join(out, 'demo_summary.json'), 'utf8')) as { timings: { stage: string; resumed: boolean }[] };
    assert.deepEqual(sum.timings.map((t) => t.resumed), [true, true, true, true, true, true, false, false]);
    // compare ran with --calibrate f1: each model has its own held-out threshold
    const rep = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8')) as { models: { calibration?: { target: { kind: string }; testImages: number } }[] };
    for (const m of rep.models) assert.equal(m.calibration?.target.kind, 'f1');
    // a run folder made with other config/baseline contents is refused, not resumed
    const planFile = join(out, 'demo_plan.json');
    const planText = readFileSync(planFile, 'utf8');
    const plan = JSON.parse(planText);
    plan.contents.train_config = '0000000000000000';
    writeFileSync(planFile, JSON.stringify(plan, null, 2) + '\n');
    assert.throws(run, /another mode, baseline, config or work folder/);
    // a copy of the run folder is not resumed: its stage records name the original's files
    writeFileSync(planFile, planText);
    const copy = `${out}-copy`;
    cpSync(out, copy, { recursive: true });
    try {
      assert.throws(() => execFileSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', copy, '--backend', 'wasm'], { cwd: ROOT, stdio: 'pipe' }), /another mode, baseline, config or work folder/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('demo --baseline: a relative folder is taken from the working directory, not the package', () => {
  const cwd = tmpDir('logolab-demo-cwd-');
  try {
    // the package has models/logolab-tiny-clip; this working directory does not
    assert.throws(
      () => execFileSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'demo', '--mode', 'tiny', '--out', 'w', '--baseline', 'models/logolab-tiny-clip'], { cwd, stdio: 'pipe' }),
      (e: Error & { stderr?: Buffer }) => String(e.stderr).includes(`logolab: error: baseline ${join(cwd, 'models/logolab-tiny-clip')}: no config.json`),
    );
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
