/**
 * Small inline crop thumbnails for the report (data: URIs, so report.html stays one self-contained
 * file): one reference crop per logo for the per-logo table, and the gallery's region crops.
 * Only file I/O and encoding live here; what to show is decided by compare.ts / gallery.ts.
 */
import sharp from 'sharp';
import type { Box } from '../util/box.js';
import type { ModelGallery } from './gallery.js';

/** JPEG data URI of `path` (cut to `box` when given), fitted inside size×size. */
export async function cropThumbnail(path: string, box: Box | null, size = 72): Promise<string> {
  let img = sharp(path);
  if (box) {
    const meta = await sharp(path).metadata();
    const left = Math.max(0, Math.floor(box[0]));
    const top = Math.max(0, Math.floor(box[1]));
    const width = Math.max(1, Math.min(meta.width ?? box[2], Math.ceil(box[2])) - left);
    const height = Math.max(1, Math.min(meta.height ?? box[3], Math.ceil(box[3])) - top);
    img = img.extract({ left, top, width, height });
  }
  const buf = await img.resize({ width: size, height: size, fit: 'inside', kernel: 'lanczos3' }).jpeg({ quality: 82 }).toBuffer();
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/** One thumbnail per logo: its first sampled reference crop. */
export async function logoThumbnails(refs: readonly { logo: string; path: string; box?: Box }[], logos: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const l of logos) {
    const r = refs.find((x) => x.logo === l);
    // reference crops are their own files (box = where they were cut from, information only)
    if (r) out[l] = await cropThumbnail(r.path, null);
  }
  return out;
}

/** Fills in `thumb` for every gallery item with a box; `imagePath(i)` = file of sample image i. */
export async function galleryThumbnails(galleries: ModelGallery[], imagePath: (imageIndex: number) => string): Promise<void> {
  for (const g of galleries) for (const it of [...g.falsePositives, ...g.falseNegatives]) if (it.box) it.thumb = await cropThumbnail(imagePath(it.imageIndex), it.box);
}
