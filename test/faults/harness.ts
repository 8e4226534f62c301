/**
 * Fault-trial harness: run the CLI in-process, assert the failure is ONE `logolab:` error line with
 * the expected exit code and no stack, and assert that files written before the fault are
 * byte-identical afterwards. Filesystem faults (read-only, full disk, permissions) are injected by
 * patching node:fs for paths under a folder — we run as root, so chmod would not bite, and a tmpfs
 * mount is not allowed everywhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { runCli } from '../cli/run.js';
import { ROOT } from '../helpers.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in this process (fast: tfjs and the models' code stay loaded). */
export async function cli(...args: string[]): Promise<CliResult> {
  return runCli(args);
}

/** The CLI as a child process (the exit code/signal of a real process, or a call that could hang). */
export function cliProcess(args: string[], o: { timeoutMs?: number; cwd?: string; env?: Record<string, string>; onStderr?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<CliResult & { signal: string | null; timedOut: boolean }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/logolab.mjs'), ...args], { cwd: o.cwd ?? ROOT, env: { ...process.env, LOGOLAB_QUIET: '0', ...o.env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      o.onStderr?.(stderr, (sig) => p.kill(sig));
    });
    p.on('exit', (code, signal) => {
      clearTimeout(t);
      res({ code: code ?? -1, stdout, stderr, signal, timedOut });
    });
  });
}

export { expectFailure } from '../cli/run.js';

export function expectOk(r: CliResult): void {
  assert.equal(r.code, 0, `exit code ${r.code}; stderr:\n${r.stderr}`);
}

/** Every file under the roots (recursively) → sha256 of its bytes ('dir' for folders). */
export function snapshot(...roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      out.set(p, 'dir');
      for (const n of fs.readdirSync(p).sort()) walk(join(p, n));
    } else if (st.isFile()) out.set(p, createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    else out.set(p, st.isFIFO() ? 'fifo' : 'special');
  };
  for (const r of roots) walk(resolve(r));
  return out;
}

/** Asserts that every file of `before` still exists with the same bytes (new files are allowed). */
export function expectUnchanged(before: Map<string, string>, what = 'earlier data'): void {
  for (const [p, h] of before) {
    const now = snapshot(p).get(p);
    assert.equal(now, h, `${what} changed: ${p} ${now === undefined ? 'was removed' : 'was modified'}`);
  }
}

/** Asserts that `roots` hold exactly the same files as `before` (nothing added or removed either). */
export function expectIdentical(before: Map<string, string>, ...roots: string[]): void {
  const now = snapshot(...roots);
  const rel = (m: Map<string, string>) => [...m.keys()].map((k) => relative('/', k)).sort();
  assert.deepEqual(rel(now), rel(before), 'set of files changed');
  expectUnchanged(before);
}

// ---------------------------------------------------------------------------------------------
// Filesystem fault injection

const DESCRIPTIONS: Record<string, [number, string]> = {
  EROFS: [-30, 'read-only file system'],
  ENOSPC: [-28, 'no space left on device'],
  EACCES: [-13, 'permission denied'],
  EPERM: [-1, 'operation not permitted'],
  EISDIR: [-21, 'illegal operation on a directory'],
};

function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const [errno, desc] = DESCRIPTIONS[code] ?? [-5, 'i/o error'];
  return Object.assign(new Error(`${code}: ${desc}, ${syscall} '${path}'`), { errno, code, syscall, path });
}

const WRITE_FLAGS = /[wax+]/;

/**
 * Makes write operations on paths under `under` (whose file name matches `match`, when given) fail
 * with `code` until the returned function is called. `at: 'open'` fails creating/opening files and
 * folders (EROFS, EACCES, EPERM); `at: 'write'` lets files be created but fails the first data
 * write (ENOSPC: the disk fills mid-file).
 */
export function injectFsFault(code: keyof typeof DESCRIPTIONS, under: string, at: 'open' | 'write' = code === 'ENOSPC' ? 'write' : 'open', match?: RegExp): () => void {
  const root = resolve(under);
  const inside = (p: unknown) => typeof p === 'string' && (resolve(p) === root || resolve(p).startsWith(root + '/')) && (!match || match.test(basename(p)));
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved: Record<string, (...a: unknown[]) => unknown> = {};
  const fds = new Set<number>();
  const patch = (name: string, wrap: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown) => {
    saved[name] = f[name]!;
    f[name] = wrap(saved[name]!);
  };
  patch('openSync', (orig) => (p, flags, ...rest) => {
    const writing = typeof flags === 'string' ? WRITE_FLAGS.test(flags) : typeof flags === 'number' && (flags & 3) !== 0;
    if (writing && inside(p) && at === 'open') throw errnoError(code, 'open', p as string);
    const fd = orig(p, flags, ...rest) as number;
    if (writing && inside(p)) fds.add(fd);
    return fd;
  });
  patch('writeSync', (orig) => (fd, ...rest) => {
    if (fds.has(fd as number)) throw errnoError(code, 'write', '');
    return orig(fd, ...rest);
  });
  patch('closeSync', (orig) => (fd, ...rest) => {
    fds.delete(fd as number);
    return orig(fd, ...rest);
  });
  for (const name of ['writeFileSync', 'appendFileSync']) {
    patch(name, (orig) => (p, ...rest) => {
      if (inside(p)) throw errnoError(code, at === 'open' ? 'open' : 'write', p as string);
      return orig(p, ...rest);
    });
  }
  if (at === 'open') {
    for (const name of ['mkdirSync', 'mkdtempSync']) {
      patch(name, (orig) => (p, ...rest) => {
        if (inside(p) && !(name === 'mkdirSync' && fs.existsSync(p as string))) throw errnoError(code, 'mkdir', p as string);
        return orig(p, ...rest);
      });
    }
    for (const name of ['renameSync', 'copyFileSync', 'linkSync']) {
      patch(name, (orig) => (a, b, ...rest) => {
        if (inside(b) || (name === 'renameSync' && inside(a))) throw errnoError(code, name.replace('Sync', ''), b as string);
        return orig(a, b, ...rest);
      });
    }
    patch('rmSync', (orig) => (p, ...rest) => {
      if (inside(p)) throw errnoError(code, 'rm', p as string);
      return orig(p, ...rest);
    });
  }
  syncBuiltinESMExports();
  return () => {
    Object.assign(f, saved);
    syncBuiltinESMExports();
  };
}

/** Runs `fn` with the fault injected, always restoring node:fs. */
export async function withFsFault<T>(code: keyof typeof DESCRIPTIONS, under: string, fn: () => Promise<T>, at?: 'open' | 'write', match?: RegExp): Promise<T> {
  const restore = injectFsFault(code, under, at, match);
  try {
    return await fn();
  } finally {
    restore();
  }
}
