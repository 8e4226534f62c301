/**
 * One training process per checkpoint_dir: two runs writing last.ckpt/best.ckpt into the same
 * folder would interleave their checkpoints silently. `train` holds `<checkpoint_dir>/.lock`
 * while it runs; a lock whose process is gone (a killed run) is taken over.
 *
 * The lock names its process as `<pid> <host> <start>` (start: the process's start time in clock
 * ticks after boot, /proc/<pid>/stat field 22), so that a pid reused by an unrelated process — after
 * a reboot or a container restart, pids start over — is not taken for the run. A lock of another
 * host cannot be checked from here; it is taken over with a warning naming that host: a restarted
 * container or Kubernetes pod gets a new host name, and its dead run's lock would otherwise block
 * every resume until removed by hand (two live runs on two hosts sharing one folder is the rare
 * case, and the warning says what to do).
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { log } from '../src/util/log.js';
import { processAlive, processStartTime } from '../src/util/process.js';

export const LOCK_FILE = '.lock';

interface LockOwner {
  pid: number;
  host: string | null;
  start: string | null;
}

/** The lock's owner, or null when unreadable; an older lock holds the pid only. */
export function readLockOwner(text: string): LockOwner | null {
  const [pid, host, start] = text.trim().split(/\s+/);
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? null, start: start ?? null } : null;
}

/**
 * Whether the lock's owner still holds it — `held`: the error to give — or why the lock is stale
 * (`stale`: the warning said when it is taken over). `o` null: an unreadable lock.
 */
function judgeLock(o: LockOwner | null, path: string, dir: string): { held: string } | { stale: string } {
  if (o?.host != null && o.host !== hostname())
    return { stale: `checkpoint_dir ${dir}: taking over the lock of a run on host ${o.host} (process ${o.pid}), which cannot be checked from here (a restarted container gets a new host name); if that run still writes into this folder, stop one of the two` };
  const gone = (why = '') => ({ stale: `checkpoint_dir ${dir}: removing the lock of a run that is no longer running (process ${o?.pid ?? '?'}${why})` });
  if (!o || o.pid === process.pid || !processAlive(o.pid)) return gone();
  // the pid lives, but is it the run's process? (a reused pid has another start time)
  const now = processStartTime(o.pid);
  if (o.start !== null && now !== null && now !== o.start) return gone(', a pid now used by another process');
  return { held: `checkpoint_dir ${dir}: in use by another training run (process ${o.pid}; ${path}); wait for it, or use another checkpoint_dir (if no training run uses ${dir}, remove ${path})` };
}

/**
 * Takes the lock of `dir` (which must exist); returns its release. A stale lock is moved aside
 * before it is removed and checked to be the lock that was judged: two runs taking over one stale
 * lock at once cannot remove each other's new lock. (Created with O_EXCL, not a hard link: network
 * and FUSE mounts that hold checkpoint folders often have no links.)
 */
export function acquireRunLock(dir: string, hooks: { beforeTakeover?: () => void } = {}): () => void {
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid} ${hostname()} ${processStartTime(process.pid) ?? '-'}\n`;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const fd = openSync(path, 'wx'); // fails if it exists: no two runs can both take it
      writeSync(fd, mine);
      closeSync(fd);
      const release = () => {
        process.off('exit', release);
        try {
          if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', release); // also on process.exit (a second Ctrl-C)
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // removed meanwhile: retry
    }
    // empty: its run created it and is writing its owner line this instant (or died doing so:
    // still empty on the last try, it is judged as an unreadable lock)
    if (text === '' && attempt < 2) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    const verdict = judgeLock(readLockOwner(text), path, dir);
    if ('held' in verdict) throw new LogolabError(verdict.held);
    hooks.beforeTakeover?.(); // tests: another run acts between our judgement and our move
    const aside = join(dir, `${LOCK_FILE}.${process.pid}.stale`);
    try {
      renameSync(path, aside); // of two runs taking over, one moves it, the other gets ENOENT
    } catch {
      continue;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved === text) log('warn', verdict.stale);
    else {
      // another run took the lock over between our read and our move: it is theirs, put it back
      try {
        linkSync(aside, path); // not over a lock a third run may have taken meanwhile
      } catch (e) {
        // a mount without links: moved back (over a third run's lock only in that rarest case)
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') renameSync(aside, path);
      }
    }
    rmSync(aside, { force: true });
  }
  throw new LogolabError(`checkpoint_dir ${dir}: cannot take ${path}`);
}
