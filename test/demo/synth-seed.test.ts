/** `logolab demo --synth-seed`: a bad seed is one usage-error line quoting it as typed and a non-zero exit, before any work. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

test('demo --synth-seed: a negative, fractional, hex, empty or repeated seed is refused before the work folder is touched', () => {
  const root = tmpDir('logolab-demo-seed-');
  try {
    // yargs' number type read '' as seed 0 and 0x10 as 16, and printed 'abc' as NaN
    const cases: [string[], RegExp][] = [
      [['-1'], /--synth-seed: '-1' is out of range/],
      [['2.5'], /--synth-seed: '2\.5' is not an integer/],
      [['0x10'], /--synth-seed: '0x10' is not a number/],
      [['abc'], /--synth-seed: 'abc' is not a number/],
      [[''], /--synth-seed: needs a value/],
      [['1', '--synth-seed', '2'], /--synth-seed: given more than once \('1', '2'\)/],
    ];
    for (const [i, [args, want]] of cases.entries()) {
      const out = join(root, `run${i}`);
      const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--synth-seed', ...args, '--out', out], { cwd: ROOT, encoding: 'utf8' });
      const bad = args.join(' ');
      assert.equal(r.status, 2, bad);
      assert.match(r.stderr, /^logolab: usage error: /, bad);
      assert.match(r.stderr, want, bad);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!existsSync(out), 'no work folder');
    }
    const both = spawnSync(process.execPath, ['bin/logolab.mjs', 'demo', '--quick', '--mode', 'tiny', '--out', join(root, 'both')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--quick and --mode tiny: two different modes/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
