/**
 * The formats decodeImage reads itself (GIF, for PIL's transparent colour; BMP, which libvips does
 * not read), told by their first bytes. A path's first 6 bytes are read once; the whole file only
 * when it is one of them, so other images are not read twice.
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

export function sniffImage(src: string | Buffer): Sniffed {
  let head: Buffer = Buffer.isBuffer(src) ? src : Buffer.alloc(MAGIC);
  if (!Buffer.isBuffer(src)) {
    const fd = openSync(src, 'r');
    try {
      head = head.subarray(0, readSync(fd, head, 0, MAGIC, 0));
    } finally {
      closeSync(fd);
    }
  }
  const gif = isGif(head), bmp = !gif && isBmp(head);
  const bytes = gif || bmp ? (Buffer.isBuffer(src) ? src : readFileSync(src)) : null;
  return { gif: gif ? bytes : null, bmp: bmp ? bytes : null };
}
