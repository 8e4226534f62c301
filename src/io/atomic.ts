/**
 * Atomic file writes: write to a temp file beside the target, fsync, then rename over it, so a
 * reader (or a re-run after a crash) sees either the old file or the complete new one, never a
 * partial file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

export function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
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
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, path);
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

/** Writes a whole directory atomically: build it under a temp name, then rename (replacing an old one). */
export function withAtomicDir(dir: string, build: (tmpDir: string) => void | Promise<void>): Promise<void> {
  const tmp = tempPathFor(dir);
  mkdirSync(tmp, { recursive: true });
  return (async () => {
    try {
      await build(tmp);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  })();
}
