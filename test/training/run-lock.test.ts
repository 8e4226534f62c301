/**
 * The checkpoint_dir lock (training/run-lock.ts): a live run's lock is refused naming the lock
 * file; a dead pid, or a live pid whose start time differs (reused by another process), is taken
 * over; another host's lock cannot be checked and is taken over (with a warning naming the host).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { acquireRunLock } from '../../training/run-lock.js';
import { processStartTime } from '../../src/util/process.js';
import { LogolabError } from '../../src/errors.js';

const refused = (dir: string, re: RegExp) => assert.throws(() => acquireRunLock(dir), (e: Error) => e instanceof LogolabError && re.test(e.message));

test('run lock: live owner refused naming the file; dead or reused pid taken over; another host refused', () => {
  process.env.LOGOLAB_QUIET = '1';
  const dir = tmpDir();
  const lock = join(dir, '.lock');
  const parent = process.ppid; // a live process that is not this one
  const start = processStartTime(parent);
  assert.match(start ?? '', /^\d+$/, '/proc gives the start time on Linux');
  const esc = lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // the run's own identity: refused, naming the file to remove when no run uses it
  writeFileSync(lock, `${parent} ${hostname()} ${start}\n`);
  refused(dir, new RegExp(`in use by another training run \\(process ${parent}; ${esc}\\); wait for it, or use another checkpoint_dir \\(if no training run uses .*, remove ${esc}\\)$`));
  // an older lock (pid only) of a live pid cannot be told from the run: refused
  writeFileSync(lock, `${parent}\n`);
  refused(dir, /in use by another training run/);
  // another host's (a restarted container has a new host name): not checkable here, taken over
  writeFileSync(lock, `${parent} some-other-host ${start}\n`);
  acquireRunLock(dir)();
  assert.ok(!existsSync(lock));
  // the same pid started at another time: a reused pid, the lock is stale
  writeFileSync(lock, `${parent} ${hostname()} ${Number(start) + 1}\n`);
  const release = acquireRunLock(dir);
  assert.equal(readFileSync(lock, 'utf8'), `${process.pid} ${hostname()} ${processStartTime(process.pid)}\n`);
  // held by this process: a release after another took it over leaves theirs alone
  writeFileSync(lock, `${parent} ${hostname()} ${start}\n`);
  release();
  assert.ok(existsSync(lock));
  // a dead pid: taken over; its release removes the lock
  writeFileSync(lock, `999999999 ${hostname()} 5\n`);
  acquireRunLock(dir)();
  assert.ok(!existsSync(lock));
});

test('run lock: a run that took a stale lock over first keeps it; the second taker does not remove it', () => {
  const dir = tmpDir('logolab-lock-race-');
  const path = join(dir, '.lock');
  writeFileSync(path, `999999999 ${hostname()} 1\n`); // a run that is gone
  // the other run (the test's parent process, alive) takes the stale lock over between this run's
  // judgement and its takeover
  const theirs = `${process.ppid} ${hostname()} ${processStartTime(process.ppid) ?? '-'}\n`;
  assert.throws(() => acquireRunLock(dir, { beforeTakeover: () => writeFileSync(path, theirs) }), (e: Error) => e instanceof LogolabError && /in use by another training run \(process \d+/.test(e.message));
  assert.equal(readFileSync(path, 'utf8'), theirs, 'their lock is still in place');
  assert.deepEqual(readdirSync(dir), ['.lock'], 'no temp or aside file left');
});

test('run lock: an empty lock (a run that died before writing its owner) is taken over after a short wait', () => {
  const dir = tmpDir('logolab-lock-empty-');
  writeFileSync(join(dir, '.lock'), '');
  const release = acquireRunLock(dir);
  assert.match(readFileSync(join(dir, '.lock'), 'utf8'), new RegExp(`^${process.pid} `));
  release();
  assert.ok(!existsSync(join(dir, '.lock')));
});
