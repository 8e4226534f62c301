/**
 * LOGOLAB_NATIVE=1 asks for the native kernels by name: where the addon is not built, choosing the
 * cpu backend is an error naming why, not the stock kernels in their place; unset, it is a note.
 * Run in a copy of src/ without native/build (the package root is found from the module's folder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

test('LOGOLAB_NATIVE=1 without a built addon: initBackend(cpu) fails naming the reason; without it, a note', () => {
  const d = tmpDir('logolab-nonative-');
  cpSync(join(ROOT, 'src'), join(d, 'src'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(d, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(d, 'node_modules'));
  const run = (native: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "const m = await import('./src/backend/index.js'); await m.initBackend('cpu');"], {
      cwd: d, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '0', LOGOLAB_NATIVE: native },
    });
  const asked = run('1');
  assert.notEqual(asked.status, 0);
  assert.match(asked.stderr, /LOGOLAB_NATIVE=1: the native kernels are unavailable \(addon not built .*\); unset it to run on the stock cpu kernels/);
  const plain = run('');
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /backend: cpu \(native kernels off: addon not built/);
});
