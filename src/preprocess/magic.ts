/**
 * A file's (or Buffer's) bytes when its first bytes say it is of a format we decode ourselves (GIF
 * transparency, BMP), else null: the magic is read first, so other images are not read twice.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export function bytesIfMagic(src: string | Buffer, magicLength: number, accept: (head: Buffer) => boolean): Buffer | null {
  if (Buffer.isBuffer(src)) return accept(src) ? src : null;
  const head = Buffer.alloc(magicLength);
  const fd = openSync(src, 'r');
  try {
    if (readSync(fd, head, 0, magicLength, 0) < magicLength || !accept(head)) return null;
  } finally {
    closeSync(fd);
  }
  return readFileSync(src);
}
