/**
 * listImages over folders: a symlink cycle is walked once (it recursed until the kernel's ELOOP,
 * listing every image 40 times, then failed), a link to itself is passed over like a dangling one,
 * and a name that is not valid UTF-8 is refused naming it (Node turns its bytes into U+FFFD, so
 * the listed path named no file: a false "no such file" at decode time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { listImages } from '../../src/embed/files.js';
import { LogolabError } from '../../src/errors.js';

test('a symlink cycle is listed once; a self-referencing link is skipped, not fatal', () => {
  const d = join(tmpDir(), 'loopdir');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'a.png'), 'x');
  writeFileSync(join(d, 'sub', 'b.png'), 'x');
  symlinkSync('.', join(d, 'loop'));
  symlinkSync('..', join(d, 'sub', 'up'));
  symlinkSync('loopy', join(d, 'loopy'));
  assert.deepEqual(listImages([d]), [join(d, 'a.png'), join(d, 'sub', 'b.png')]);
  // a self-referencing link named like an image is listed, as a dangling one is: its decode names it
  symlinkSync('self.png', join(d, 'self.png'));
  assert.deepEqual(listImages([d]), [join(d, 'a.png'), join(d, 'self.png'), join(d, 'sub', 'b.png')]);
});

test('a file name that is not valid UTF-8 is refused, naming the folder and its bytes', (t) => {
  const d = join(tmpDir(), 'dir5');
  mkdirSync(d);
  writeFileSync(join(d, 'a.png'), 'x');
  try {
    writeFileSync(Buffer.concat([Buffer.from(`${d}/lat`), Buffer.from([0xe9]), Buffer.from('n.png')]), 'x');
  } catch {
    return t.skip('this file system refuses names that are not UTF-8');
  }
  assert.throws(() => listImages([d]), (e: Error) => {
    assert.ok(e instanceof LogolabError, String(e));
    assert.equal(e.message, `${d}/lat\\xe9n.png: the file name is not valid UTF-8 (bytes shown as \\xNN); rename it, e.g. with convmv -f latin1 -t utf8`);
    return true;
  });
});

test('a file that is never read (not an image) may have a name that is not UTF-8; a folder may not', (t) => {
  const d = join(tmpDir(), 'dir6');
  mkdirSync(d);
  writeFileSync(join(d, 'a.png'), 'x');
  const bad = (s: string) => Buffer.concat([Buffer.from(`${d}/`), Buffer.from(s.split('é')[0]!), Buffer.from([0xe9]), Buffer.from(s.split('é')[1]!)]);
  try {
    writeFileSync(bad('Thumbs-é.db'), 'x');
  } catch {
    return t.skip('this file system refuses names that are not UTF-8');
  }
  // a stray editor or OS file beside the images used to be passed over, and still is
  assert.deepEqual(listImages([d]), [join(d, 'a.png')]);
  mkdirSync(bad('sub-é'));
  assert.throws(() => listImages([d]), /sub-\\xe9: the file name is not valid UTF-8/);
});
