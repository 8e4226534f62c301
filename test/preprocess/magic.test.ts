/**
 * A GIF's bytes are read in full once, and only to decode it: imageMetadata (prepare's header read
 * after its decode, the folder-layout eval's image sizes) reads its first 6 bytes, as for any other
 * format, and leaves the header to sharp. It used to read every GIF whole and drop the bytes.
 * Counted as the bytes node:fs hands back for the file (sharp's own reads are native, not counted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { decodeImage, imageMetadata } from '../../src/preprocess/image.js';
import { imageKind } from '../../src/preprocess/magic.js';

const GIF = join(FIXTURES, 'gif', 'transparent_global.gif');
const BMP = join(FIXTURES, 'bmp', 'pil_pal8.bmp');

/** Bytes of `path` read through node:fs (readFileSync, or readSync on an fd opened on it) while `fn` runs. */
async function bytesRead(path: string, fn: () => Promise<unknown>): Promise<number> {
  const saved = { openSync: fs.openSync, closeSync: fs.closeSync, readSync: fs.readSync, readFileSync: fs.readFileSync };
  const fds = new Set<number>();
  let n = 0;
  let whole = false; // inside readFileSync, which may itself call fs.openSync/readSync
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  f.openSync = (p, ...rest) => {
    const fd = (saved.openSync as (...a: unknown[]) => number)(p, ...rest);
    if (p === path) fds.add(fd);
    return fd;
  };
  f.closeSync = (fd) => (fds.delete(fd as number), saved.closeSync(fd as number));
  f.readSync = (fd, ...rest) => {
    const got = (saved.readSync as (...a: unknown[]) => number)(fd, ...rest);
    if (fds.has(fd as number) && !whole) n += got;
    return got;
  };
  f.readFileSync = (p, ...rest) => {
    whole = true;
    try {
      const out = (saved.readFileSync as (...a: unknown[]) => Buffer | string)(p, ...rest);
      if (p === path) n += out.length;
      return out;
    } finally {
      whole = false;
    }
  };
  syncBuiltinESMExports();
  try {
    await fn();
    return n;
  } finally {
    Object.assign(fs, saved);
    syncBuiltinESMExports();
  }
}

test('imageMetadata reads only the first 6 bytes of a GIF; decodeImage reads it once', async () => {
  const size = statSync(GIF).size;
  assert.ok(size > 6);
  const m = await imageMetadata(GIF);
  assert.deepEqual([m.width, m.height, m.format], [4, 3, 'gif']);
  assert.equal(await bytesRead(GIF, () => imageMetadata(GIF)), 6);
  assert.equal(await bytesRead(GIF, () => decodeImage(GIF)), 6 + size);
  // prepare's pair (decode, then the header): the file whole once, not twice
  assert.equal(await bytesRead(GIF, async () => (await decodeImage(GIF), await imageMetadata(GIF))), 6 + size + 6);
  // a BMP's metadata still comes from its bytes (libvips reads no BMP)
  assert.equal(await bytesRead(BMP, () => imageMetadata(BMP)), 6 + statSync(BMP).size);
});

test('imageKind: GIF and BMP by their first bytes (path or Buffer), else null', () => {
  assert.equal(imageKind(GIF), 'gif');
  assert.equal(imageKind(readFileSync(GIF)), 'gif');
  assert.equal(imageKind(BMP), 'bmp');
  assert.equal(imageKind(Buffer.from('GIF8')), null);
  assert.equal(imageKind(Buffer.from([0x89, 0x50, 0x4e, 0x47])), null);
});
