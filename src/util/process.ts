import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's start time (clock ticks after boot, /proc/<pid>/stat field 22) as a string, or null
 * where /proc cannot tell (not Linux, gone). With the pid it names one process: a pid is reused,
 * the pair is not.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 2 (comm) is in parentheses and may hold spaces: fields 3.. follow the last ')'
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start && /^\d+$/.test(start) ? start : null;
  } catch {
    return null;
  }
}

/** Exit status a shell reports for a process ended by this signal (128 + its number). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + (osConstants.signals[sig] ?? 0);
}

/** `<prefix><pid>-XXXXXX` under the system temp folder: the pid lets a later run tell it is stale. */
const pidTempName = (prefix: string) => new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)-[A-Za-z0-9]{6}$`);

/**
 * Removes `<tmpdir>/<prefix><pid>-XXXXXX` folders (made by makePidTempDir) whose process is gone:
 * a run killed by SIGKILL or the OOM killer leaves its folder (for `compare --candidate x.ckpt` a
 * whole merged model). Never anything else: only that exact name pattern, only real folders (not
 * links), only our own user's, only dead pids other than ours.
 */
export function removeDeadPidTempDirs(prefix: string): void {
  const root = tmpdir();
  const re = pidTempName(prefix);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  for (const f of entries) {
    const m = re.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const p = join(root, f);
    try {
      const st = lstatSync(p);
      if (!st.isDirectory() || (uid !== null && st.uid !== uid)) continue;
      rmSync(p, { recursive: true, force: true });
    } catch {
      // best effort: a folder we cannot remove stays (and is retried next time)
    }
  }
}

/**
 * A fresh temp folder named with this pid (after sweeping dead ones), removed by the returned
 * function — and also on SIGINT/SIGTERM/SIGHUP, which would otherwise end the process without
 * running the caller's `finally`: the handler removes the folder, then re-raises the signal so
 * the process still ends as the signal says (exit 130/143) when no one else handles it.
 */
export function makePidTempDir(prefix: string): { dir: string; remove: () => void } {
  removeDeadPidTempDirs(prefix);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}${process.pid}-`));
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const rm = () => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // left for removeDeadPidTempDirs at the next run
    }
  };
  const off = () => {
    for (const s of sigs) process.off(s, onSignal);
    process.off('exit', rm);
  };
  function onSignal(sig: NodeJS.Signals): void {
    rm();
    off();
    // ours was the only handler: the default action (end the process) applies to the re-raised signal
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  }
  for (const s of sigs) process.on(s, onSignal);
  // process.exit() from anywhere skips `finally` too
  process.on('exit', rm);
  return {
    dir,
    remove: () => {
      off();
      rm();
    },
  };
}

/**
 * Runs the synchronous `fn` with SIGINT/SIGTERM/SIGHUP held: one that arrives meanwhile takes
 * effect (the process ends with that signal's status, unless someone else handles it) only once
 * `fn` is done — e.g. not between the renames of files that belong together.
 */
export async function withSignalsHeld(fn: () => void): Promise<void> {
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let got: NodeJS.Signals | null = null;
  const hold = (s: NodeJS.Signals) => {
    got ??= s;
  };
  for (const s of sigs) process.on(s, hold);
  try {
    fn();
    // a signal that arrived during fn is emitted on a later turn of the event loop (its poll
    // phase); removing the listener before that would drop it
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  } finally {
    for (const s of sigs) process.off(s, hold);
  }
  if (got && process.listenerCount(got) === 0) process.kill(process.pid, got);
}
