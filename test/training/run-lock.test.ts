/**
 * The checkpoint_dir lock (training/run-lock.ts): a live run's lock is refused naming the lock
 * file; a dead pid, or a live pid whose start time differs (reused by another process), is taken
 * over; another host's lock cannot be checked and is taken over (with a warning naming the host).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
