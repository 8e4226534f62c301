/**
 * The formats decodeImage reads itself (GIF, for PIL's transparent colour; BMP, which libvips does
 * not read), told by their first bytes. `imageKind` reads a path's first 6 bytes only (enough for
 * imageMetadata: sharp reads a GIF's header itself); `sniffImage` then reads the whole file only
 * when it is one of them and its bytes are decoded here, so other images are not read twice.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { isBmp } from './bmp.js';
import { isGif } from './gif.js';

const MAGIC = 6;

export interface Sniffed {
  /** the bytes of a GIF, else null */
  gif: Buffer | null;
  /** the bytes of a BMP, else null */
  bmp: Buffer | null;
}

/** 'gif' or 'bmp' by the first bytes of a Buffer or a path (only those 6 bytes are read), else null. */
export function imageKind(src: string | Buffer): 'gif' | 'bmp' | null {
  let head: Buffer = Buffer.isBuffer(src) ? src : Buffer.alloc(MAGIC);
  if (!Buffer.isBuffer(src)) {
    const fd = openSync(src, 'r');
    try {
      head = head.subarray(0, readSync(fd, head, 0, MAGIC, 0));
    } finally {
      closeSync(fd);
    }
  }
  return isGif(head) ? 'gif' : isBmp(head) ? 'bmp' : null;
}

/** The bytes of a GIF or BMP (`kind`: imageKind's answer, when the caller has it). */
export function sniffImage(src: string | Buffer, kind = imageKind(src)): Sniffed {
  const bytes = kind ? (Buffer.isBuffer(src) ? src : readFileSync(src)) : null;
  return { gif: kind === 'gif' ? bytes : null, bmp: kind === 'bmp' ? bytes : null };
}
