/**
 * Atomic file writes: write to a temp file beside the target, fsync, then rename over it, so a
 * reader (or a re-run after a crash) sees either the old file or the complete new one, never a
 * partial file.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { processAlive } from '../util/process.js';
import { mkdirp } from './mkdirp.js';

let counter = 0;

export function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
}

/**
 * Removes temp names of `path` (`.<name>.<pid>.<n>.tmp`, files or folders) left by a writer that
 * was killed before it could rename or remove them: a SIGKILL, an OOM kill, or a signal's default
 * action never reach a `finally`. Only our own temp-name pattern for this very target, and only
 * when that pid is gone (a live writer, this process included, keeps its temp). Best effort: a
 * name we cannot remove (another user's) is left alone.
 */
export function removeStaleTemps(path: string): void {
  const parent = dirname(resolve(path));
  const name = basename(resolve(path));
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return; // no parent folder yet: nothing can be stale
  }
  const prefix = `.${name}.`;
  for (const f of entries.sort()) {
    if (!f.startsWith(prefix)) continue;
    // exactly <pid>.<n>.tmp|old after the name: `.a.5.<pid>.<n>.tmp` (the target `a.5`) is not `a`'s
    const m = /^(\d+)\.\d+\.(tmp|old)$/.exec(f.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    // an .old is the previous folder withAtomicDir moved aside: its writer died before the new one
    // was renamed in (the target is missing: put the old one back) or before removing it (drop it)
    if (m[2] === 'old' && !existsSync(join(parent, name))) {
      try {
        renameSync(join(parent, f), join(parent, name));
        continue;
      } catch {
        // left as it is: never delete the only copy
        continue;
      }
    }
    removeQuietly(join(parent, f));
  }
}

/** Where withAtomicDir moves the folder it replaces until the new one is in place (see removeStaleTemps). */
function asidePathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.old`);
}

/** Errors of writes through a file descriptor carry no path: name the file being written. */
function withPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && !err.path) err.path = path;
  return e;
}

/** Best-effort cleanup that never hides the error being reported (e.g. rm on a read-only mount). */
function removeQuietly(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    // the original error matters more
  }
}

/** Temp-pattern names seen in a folder when this process first wrote there (see removeStaleTempsOnce). */
const tempNamesByDir = new Map<string, string[]>();
const TEMP_NAME = /^\..+\.\d+\.\d+\.(tmp|old)$/;

/**
 * removeStaleTemps for single-file writes, with one listing of a folder per process: loops that
 * write thousands of files into one folder (prepare's crops, detect --draw) would otherwise list
 * and sort it once per file (10,000 writes: 3.5 s → 43 s). Temps that writers killed while this
 * process runs leave are removed by the next run.
 */
function removeStaleTempsOnce(path: string): void {
  const parent = dirname(resolve(path));
  let names = tempNamesByDir.get(parent);
  if (!names) {
    try {
      names = readdirSync(parent).filter((f) => TEMP_NAME.test(f));
    } catch {
      names = []; // no folder yet: nothing can be stale
    }
    if (tempNamesByDir.size >= 4096) tempNamesByDir.clear();
    tempNamesByDir.set(parent, names);
  }
  const prefix = `.${basename(resolve(path))}.`;
  if (!names.some((f) => f.startsWith(prefix))) return;
  removeStaleTemps(path);
  tempNamesByDir.set(parent, names.filter((f) => !f.startsWith(prefix)));
}

/**
 * Runs `write(fd)` against a new temp name of `path` and fsyncs it; returns that name (removed on
 * error). Temps of `path` that killed writers left are removed first (removeStaleTempsOnce): an
 * OOM-killed `embed --out` of a large dataset would otherwise leave gigabytes beside the output.
 */
function writeTemp(path: string, write: (fd: number) => void): string {
  removeStaleTempsOnce(path);
  mkdirp(dirname(path));
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'w');
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    removeQuietly(tmp);
    throw withPath(e, path);
  }
  return tmp;
}

const writeAll = (data: string | Uint8Array) => (fd: number) => {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
};

/**
 * Runs `write(fd)` against a temp file, then renames it to `path`. The temp file is removed on
 * error; those of dead writers of `path` are removed before (see writeTemp).
 */
export function withAtomicFile(path: string, write: (fd: number) => void): void {
  const tmp = writeTemp(path, write);
  try {
    renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  withAtomicFile(path, writeAll(data));
}

/**
 * Refuses a target that exists as something other than a regular file (a folder, a socket): a
 * rename could not replace it, and finding that out only at its rename would leave the files
 * renamed before it new and the rest old.
 */
function assertReplaceableFile(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  // a symlink is replaced as a link (rename never writes through it)
  if (st.isFile() || st.isSymbolicLink()) return;
  throw new LogolabError(`${path}: exists and is ${st.isDirectory() ? 'a folder' : 'not a regular file'}; refusing to replace it (move it away)`);
}

/**
 * Writes a set of files that belong together (a report's json/md/html): all are written in full
 * to temp names first — one failing removes them all and leaves every earlier file as it was —
 * then, once every target is known to be replaceable (a missing or regular file), renamed back to
 * back, in the order given. A rename that fails anyway (the folder changed meanwhile) removes
 * the temps not yet renamed. Temps of these files that a killed writer left are removed first.
 */
export function writeFilesAtomic(files: [path: string, data: string | Uint8Array][]): void {
  const staged: [string, string][] = [];
  let renamed = 0;
  try {
    for (const [path] of files) assertReplaceableFile(path);
    for (const [path, data] of files) staged.push([writeTemp(path, writeAll(data)), path]);
    // checked again right before the renames: the folder may have changed while the temps were written
    for (const [path] of files) assertReplaceableFile(path);
    for (const [tmp, path] of staged) {
      renameSync(tmp, path);
      renamed += 1;
    }
  } catch (e) {
    for (const [tmp] of staged.slice(renamed)) removeQuietly(tmp);
    throw e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes a whole directory atomically: build it under a temp name, then swap it in. An old folder
 * is first renamed aside and removed only after the new one is in place, so a failure at any point
 * leaves either the old folder or the new one. Callers decide whether replacing `dir` is allowed
 * (src/io/output-dir.ts). A writer killed mid-build (Ctrl-C in `synth`) leaves its temp folder —
 * a whole partial dataset — so each call first removes such folders of dead writers of `dir`.
 */
export function withAtomicDir(dir: string, build: (tmpDir: string) => void | Promise<void>): Promise<void> {
  mkdirp(dirname(dir));
  removeStaleTemps(dir);
  const tmp = tempPathFor(dir);
  mkdirSync(tmp);
  return (async () => {
    try {
      await build(tmp);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    let old: string | null = null;
    if (existsSync(dir)) {
      old = asidePathFor(dir);
      try {
        renameSync(dir, old);
      } catch (e) {
        removeQuietly(tmp);
        throw e;
      }
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (old) renameSync(old, dir);
      removeQuietly(tmp);
      throw e;
    }
    if (old) removeQuietly(old);
  })();
}
