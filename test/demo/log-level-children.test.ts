/**
 * `demo --log-level X` reaches the stages' child processes (they read $LOGOLAB_LOG_LEVEL; the flag
 * used to stay in the demo's own process). Shown with an unusable $LOGOLAB_LOG_LEVEL, which the
 * flag overrides for the demo: before, the first child (synth) refused it and the demo stopped
 * there; now every child runs at the flag's level, up to the baseline evaluation, which fails
 * here on purpose (the baseline is a stub) so the test stays short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';

test('demo --log-level warn: the stages run at that level, whatever $LOGOLAB_LOG_LEVEL says', { timeout: 180_000 }, async () => {
  const d = tmpDir('logolab-demo-level-');
  const prev = process.env.LOGOLAB_LOG_LEVEL;
  process.env.LOGOLAB_LOG_LEVEL = 'loud';
  try {
    const baseline = join(d, 'stub-baseline');
    mkdirSync(baseline);
    writeFileSync(join(baseline, 'config.json'), '{}\n');
    const out = join(d, 'run');
    const r = await runCli(['demo', '--mode', 'tiny', '--out', out, '--baseline', baseline, '--backend', 'wasm', '--log-level', 'warn']);
    // synth and both prepares ran (they would have refused 'loud'); eval stopped on the stub
    expectFailure(r, 1, /logolab eval failed/);
    assert.deepEqual(readdirSync(join(out, 'stages')).sort(), ['01-synth.json', '02-split.json', '03-prepare.json']);
    assert.ok(existsSync(join(out, 'data_test', 'test_data_mapping.db')));
    // the flag was this run's: the environment is as it was
    assert.equal(process.env.LOGOLAB_LOG_LEVEL, 'loud');
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_LOG_LEVEL;
    else process.env.LOGOLAB_LOG_LEVEL = prev;
    rmSync(d, { recursive: true, force: true });
  }
});
