/**
 * LOGOLAB_NATIVE=1 asks for the native kernels by name: where the addon is not built, choosing the
 * cpu backend is an error naming why, not the stock kernels in their place; unset, it is a note.
 * Under `auto` it is the same error, before any backend is tried: auto would otherwise move on to
 * wasm and the run would end well without the kernels that were asked for.
 * Run in a copy of the package without native/build (the package root is found from the module's folder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT, tmpDir } from '../helpers.js';

/** A copy of the package's sources without native/build. */
function packageWithoutAddon(): string {
  const d = tmpDir('logolab-nonative-');
  for (const dir of ['src', 'cli', 'training', 'bin']) cpSync(join(ROOT, dir), join(d, dir), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) copyFileSync(join(ROOT, f), join(d, f));
  symlinkSync(join(ROOT, 'node_modules'), join(d, 'node_modules'));
  assert.ok(!existsSync(join(d, 'native', 'build')));
  return d;
}

const pkg = packageWithoutAddon();

function initIn(backend: string, native: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const m = await import('./src/backend/index.js'); await m.initBackend('${backend}');`], {
    cwd: pkg, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '0', LOGOLAB_NATIVE: native },
  });
}

test('LOGOLAB_NATIVE=1 without a built addon: initBackend(cpu) fails naming the reason; without it, a note', () => {
  const asked = initIn('cpu', '1');
  assert.notEqual(asked.status, 0);
  assert.match(asked.stderr, /LOGOLAB_NATIVE=1: the native kernels are unavailable \(addon not built .*\); unset it to run on the stock cpu kernels/);
  const plain = initIn('cpu', '');
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /backend: cpu \(native kernels off: addon not built/);
});

test('LOGOLAB_NATIVE=1 without a built addon under auto: the same error before any backend is tried; unset, auto chooses', () => {
  const asked = initIn('auto', '1');
  assert.notEqual(asked.status, 0);
  assert.match(asked.stderr, /LOGOLAB_NATIVE=1: the native kernels are unavailable \(addon not built .*\); unset it to let auto choose a backend without them/);
  assert.doesNotMatch(asked.stderr, /backend: /, 'no backend was chosen');
  const plain = initIn('auto', '');
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /backend: \S+/);
});

test('the CLI under auto: one error line, exit 1, no output written', () => {
  const out = join(tmpDir(), 'e.jsonl');
  const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'embed', '--model', join(ROOT, 'models/logolab-tiny-clip'), '--out', out, join(FIXTURES, 'images/square_224.png'), '--backend', 'auto'], {
    cwd: pkg, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '0', LOGOLAB_NATIVE: '1' },
  });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('logolab: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^logolab: error: LOGOLAB_NATIVE=1: the native kernels are unavailable \(addon not built .*\); unset it to let auto choose a backend without them$/);
  assert.ok(!existsSync(out));
});

test('doctor reports what auto refuses under LOGOLAB_NATIVE=1 instead of stopping there', () => {
  const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'doctor'], { cwd: pkg, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '0', LOGOLAB_NATIVE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^auto picks: none — LOGOLAB_NATIVE=1: the native kernels are unavailable \(addon not built/m);
  // the rest of the report is still there
  assert.match(r.stdout, /hardware adapter: /);
});
