/** `logolab demo --backend`: checked before any stage runs; part of the run a re-run resumes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

test('demo: an unavailable backend is one error line before any stage, from --backend or LOGOLAB_BACKEND', () => {
  const root = tmpDir('logolab-demo-backend-');
  // no GPU visible, whatever the machine has: tensorflow-gpu is unavailable
  const env: NodeJS.ProcessEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '-1' };
  delete env.LOGOLAB_BACKEND;
  try {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--backend', 'tensorflow-gpu'], env, /^logolab: error: --backend tensorflow-gpu: not available: CUDA_VISIBLE_DEVICES hides all GPUs$/],
      [[], { ...env, LOGOLAB_BACKEND: 'tensorflow-gpu' }, /^logolab: error: LOGOLAB_BACKEND=tensorflow-gpu: not available: CUDA_VISIBLE_DEVICES hides all GPUs$/],
    ];
    for (const [i, [args, e, want]] of cases.entries()) {
      const out = join(root, `run${i}`);
      const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', out, ...args], { cwd: ROOT, encoding: 'utf8', env: e });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), want);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(out), 'no work folder, no stage');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
