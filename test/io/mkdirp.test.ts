/**
 * mkdirp reports why a folder could not be made. Node's recursive mkdirSync answers ENOENT when
 * making a missing folder fails for another reason (measured: a read-only bind mount gave ENOENT
 * recursive, EROFS without), which told users that a folder was missing whose parent exists. The
 * fault is simulated here the way Node shows it: recursive calls under a folder → ENOENT,
 * non-recursive ones → EROFS (we run as root, and a mount is not allowed everywhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { tmpDir } from '../helpers.js';
import { mkdirp } from '../../src/io/mkdirp.js';

const errno = (code: string, p: string) => Object.assign(new Error(`${code}: mkdir '${p}'`), { code, path: p });

test('mkdirp: makes nested folders, accepts an existing one, names a file in the way', () => {
  const d = tmpDir('logolab-mkdirp-');
  mkdirp(join(d, 'a', 'b', 'c'));
  assert.ok(existsSync(join(d, 'a', 'b', 'c')));
  mkdirp(join(d, 'a', 'b'));
  writeFileSync(join(d, 'file'), 'x');
  assert.throws(() => mkdirp(join(d, 'file', 'sub')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR' || e.code === 'EEXIST');
});

test("mkdirp: a read-only file system is EROFS, not Node's recursive ENOENT", () => {
  const ro = resolve(tmpDir('logolab-mkdirp-ro-'));
  const orig = fs.mkdirSync;
  fs.mkdirSync = ((p: fs.PathLike, o?: fs.MakeDirectoryOptions) => {
    const inside = resolve(String(p)).startsWith(ro + '/');
    if (inside) throw errno(o?.recursive ? 'ENOENT' : 'EROFS', String(p));
    return orig(p, o);
  }) as typeof fs.mkdirSync;
  syncBuiltinESMExports();
  try {
    assert.throws(() => fs.mkdirSync(join(ro, 'x', 'y'), { recursive: true }), { code: 'ENOENT' }, 'the simulation behaves as Node does');
    assert.throws(() => mkdirp(join(ro, 'sub', 'deeper')), (e: NodeJS.ErrnoException) => e.code === 'EROFS' && e.path === join(ro, 'sub'));
    mkdirp(ro); // an existing folder: nothing to make
  } finally {
    fs.mkdirSync = orig;
    syncBuiltinESMExports();
  }
});
