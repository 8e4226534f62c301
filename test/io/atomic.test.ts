/**
 * writeFilesAtomic writes a set of files as one: a target that cannot be replaced (a folder where a
 * report file should be) is an error before anything is renamed, and a rename that fails anyway
 * leaves no temp files behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { writeFilesAtomic } from '../../src/io/atomic.js';

const NAMES = ['report.json', 'report.md', 'report.html', '.logolab-output.json'];

/** A folder holding an earlier set ('old <name>'), with report.html replaced by a folder. */
function earlierSet(): string {
  const d = tmpDir('logolab-atomic-');
  for (const n of NAMES) writeFileSync(join(d, n), `old ${n}`);
  return d;
}

test('writeFilesAtomic: a target that is a folder is refused before any rename; the earlier set is intact, no temps left', () => {
  const d = earlierSet();
  fs.rmSync(join(d, 'report.html'));
  mkdirSync(join(d, 'report.html'));
  writeFileSync(join(d, 'report.html', 'keep.txt'), 'mine');
  assert.throws(
    () => writeFilesAtomic(NAMES.map((n) => [join(d, n), `new ${n}`])),
    (e: unknown) => e instanceof LogolabError && !e.message.includes('\n') && e.message.startsWith(`${join(d, 'report.html')}: exists and is a folder; refusing to replace it`),
  );
  for (const n of NAMES.filter((x) => x !== 'report.html')) assert.equal(readFileSync(join(d, n), 'utf8'), `old ${n}`, n);
  assert.equal(readFileSync(join(d, 'report.html', 'keep.txt'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(d).sort(), [...NAMES].sort());
});

test('writeFilesAtomic: a rename that fails midway removes the temps not yet renamed', () => {
  const d = earlierSet();
  const orig = fs.renameSync;
  let calls = 0;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    calls += 1;
    if (calls === 2) throw Object.assign(new Error(`EACCES: permission denied, rename '${String(from)}' -> '${String(to)}'`), { code: 'EACCES' });
    return orig(from, to);
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
  try {
    assert.throws(() => writeFilesAtomic(NAMES.map((n) => [join(d, n), `new ${n}`])), /EACCES/);
  } finally {
    fs.renameSync = orig;
    syncBuiltinESMExports();
  }
  assert.equal(calls, 2);
  assert.deepEqual(readdirSync(d).sort(), [...NAMES].sort(), 'no temp files left');
  assert.equal(readFileSync(join(d, 'report.json'), 'utf8'), 'new report.json');
  for (const n of NAMES.slice(1)) assert.equal(readFileSync(join(d, n), 'utf8'), `old ${n}`, n);
});

test('writeFilesAtomic: missing targets and regular files are written', () => {
  const d = earlierSet();
  writeFilesAtomic([...NAMES, 'extra.txt'].map((n) => [join(d, n), `new ${n}`]));
  for (const n of [...NAMES, 'extra.txt']) assert.equal(readFileSync(join(d, n), 'utf8'), `new ${n}`, n);
  assert.deepEqual(readdirSync(d).sort(), [...NAMES, 'extra.txt'].sort());
});
