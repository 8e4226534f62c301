/** Test files: images that fail to decode, each in its own decoder with its own text. */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

/** Corrupt files of different kinds (each fails in its own decoder with its own text) and good ones. */
export async function corruptImages(dir: string): Promise<{ bad: string[]; good: string[] }> {
  const pic = sharp({ create: { width: 64, height: 48, channels: 3, background: '#a33' } });
  const enc = { jpg: await pic.clone().jpeg().toBuffer(), png: await pic.clone().png().toBuffer(), webp: await pic.clone().webp().toBuffer(), gif: await pic.clone().gif().toBuffer() };
  const files: Record<string, Buffer | string> = {
    'trunc.jpg': enc.jpg.subarray(0, enc.jpg.length >> 1),
    'trunc.png': enc.png.subarray(0, enc.png.length >> 1),
    'trunc.webp': enc.webp.subarray(0, enc.webp.length >> 1),
    'trunc.gif': enc.gif.subarray(0, enc.gif.length >> 1),
    'header.jpg': enc.jpg.subarray(0, 40),
    'text.jpg': 'hello world',
    'ok.jpg': enc.jpg,
    'ok.png': enc.png,
  };
  mkdirSync(dir, { recursive: true });
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  const paths = Object.keys(files).map((n) => join(dir, n));
  return { bad: paths.filter((p) => !/\bok\./.test(p)), good: paths.filter((p) => /\bok\./.test(p)) };
}
