/**
 * Atomic file writes: write to a temp file beside the target, fsync, then rename over it, so a
 * reader (or a re-run after a crash) sees either the old file or the complete new one, never a
 * partial file.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

export function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
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

/** Runs `write(fd)` against a temp file, then renames it to `path`. The temp file is removed on error. */
export function withAtomicFile(path: string, write: (fd: number) => void): void {
  mkdirSync(dirname(path), { recursive: true });
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
  try {
    renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  withAtomicFile(path, (fd) => {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
  });
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes a whole directory atomically: build it under a temp name, then swap it in. An old folder
 * is first renamed aside and removed only after the new one is in place, so a failure at any point
 * leaves either the old folder or the new one. Callers decide whether replacing `dir` is allowed
 * (src/io/output-dir.ts).
 */
export function withAtomicDir(dir: string, build: (tmpDir: string) => void | Promise<void>): Promise<void> {
  mkdirSync(dirname(dir), { recursive: true });
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
      old = tempPathFor(dir);
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
