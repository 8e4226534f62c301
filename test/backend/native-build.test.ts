/**
 * scripts/build-native.mjs and native/binding.gyp: a cblas.h outside the compiler's search path
 * (Fedora/RHEL's /usr/include/openblas) reaches the compiler as an include directory; one on the
 * search path (Debian/Ubuntu) adds none. The layouts are stubbed; the node-gyp part configures a
 * copy of binding.gyp (no compile) and is skipped only when node-gyp or Node's headers are absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Cblas = { dir: string; extra: boolean } | null;
const root = resolve(import.meta.dirname, '../..');
const script = (await import(pathToFileURL(join(root, 'scripts/build-native.mjs')).href)) as {
  findCblas(exists?: (p: string) => boolean): Cblas;
  nodeGypArgs(cblas: Cblas, nodedir: string | null, opts?: { command?: string; directory?: string }): string[];
  findNodeGyp(): string | undefined;
  nodeHeadersDir(): string | null;
};

const layout = (...files: string[]) => (p: string) => files.includes(p);

test('build-native: cblas.h in /usr/include/openblas is passed to node-gyp, one on the compiler path is not', () => {
  const fedora = script.findCblas(layout('/usr/include/openblas/cblas.h'));
  assert.deepEqual(fedora, { dir: '/usr/include/openblas', extra: true });
  assert.ok(script.nodeGypArgs(fedora, null).includes('--openblas_include=/usr/include/openblas'));
  for (const f of ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/local/include/cblas.h']) {
    const c = script.findCblas(layout(f, '/usr/include/openblas/cblas.h'));
    assert.equal(c?.extra, false, f);
    assert.ok(!script.nodeGypArgs(c, null).some((a) => a.startsWith('--openblas_include')), f);
  }
  assert.equal(script.findCblas(layout()), null);
});

const gyp = script.findNodeGyp(), headers = script.nodeHeadersDir();
const skip = gyp && headers ? false : 'node-gyp or Node\'s headers not found';
test('build-native: binding.gyp puts --openblas_include on the include path (and nothing without it)', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'logolab-gyp-'));
  try {
    const inc = join(tmp, 'openblas-inc');
    mkdirSync(inc);
    /** The -I flags of the generated makefile's Release build. */
    const incsOf = (cblas: Cblas, name: string): string[] => {
      const dir = join(tmp, name);
      mkdirSync(dir);
      copyFileSync(join(root, 'native/binding.gyp'), join(dir, 'binding.gyp'));
      const r = spawnSync(process.execPath, [gyp!, ...script.nodeGypArgs(cblas, headers, { command: 'configure', directory: dir })], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const mk = readFileSync(join(dir, 'build/logolab_native.target.mk'), 'utf8');
      return /INCS_Release := ((?:.*\\\n)*.*)/.exec(mk)![1]!.split(/[\s\\]+/).filter(Boolean);
    };
    const fedora = incsOf({ dir: inc, extra: true }, 'fedora');
    assert.ok(fedora.includes(`-I${inc}`), `the cblas.h directory is an include dir: ${fedora.join(' ')}`);
    const debian = incsOf({ dir: '/usr/include', extra: false }, 'debian');
    assert.deepEqual(debian, fedora.filter((f) => f !== `-I${inc}`), 'no other include dir, and no empty one, without it');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
