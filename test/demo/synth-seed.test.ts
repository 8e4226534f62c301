/** `logolab demo --synth-seed`: a bad seed is one `logolab: error:` line and a non-zero exit, before any work. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

test('demo --synth-seed: a negative or fractional seed is refused before the work folder is touched', () => {
  const root = tmpDir('logolab-demo-seed-');
  try {
    for (const bad of ['-1', '2.5']) {
      const out = join(root, `run${bad}`);
      const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--synth-seed', bad, '--out', out], { cwd: ROOT, encoding: 'utf8' });
      assert.notEqual(r.status, 0, bad);
      assert.match(r.stderr, new RegExp(`logolab: error: --synth-seed: ${bad.replace('.', '\\.')} is not an integer ≥ 0`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!existsSync(out), 'no work folder');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
