/**
 * Small inline crop thumbnails for the report (data: URIs, so report.html stays one self-contained
 * file): one reference crop per logo for the per-logo table, and the gallery's region crops.
 * Only file I/O and encoding live here; what to show is decided by compare.ts / gallery.ts.
 */
import sharp from 'sharp';
import type { Box } from '../util/box.js';
import type { ModelGallery } from './gallery.js';

/**
 * JPEG data URI of `path` (cut to `box` when given), fitted inside size×size; null when the box lies
 * outside the picture. The picture is EXIF-oriented first, as decodeImage does, so boxes (which are
 * in the oriented frame) cut what the model saw.
 */
export async function cropThumbnail(path: string, box: Box | null, size = 72): Promise<string | null> {
  let img = sharp(path).rotate();
  if (box) {
    // metadata() describes the stored frame; autoOrient is the frame after rotate()
    const { autoOrient } = await sharp(path).metadata();
    const [w, h] = [autoOrient.width, autoOrient.height];
    const left = Math.max(0, Math.floor(box[0]));
    const top = Math.max(0, Math.floor(box[1]));
    const right = Math.min(w, Math.ceil(box[2]));
    const bottom = Math.min(h, Math.ceil(box[3]));
    if (right <= left || bottom <= top) return null;
    img = img.extract({ left, top, width: right - left, height: bottom - top });
  }
  const buf = await img.resize({ width: size, height: size, fit: 'inside', kernel: 'lanczos3' }).jpeg({ quality: 82 }).toBuffer();
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/** One thumbnail per logo: its first sampled reference crop. */
export async function logoThumbnails(refs: readonly { logo: string; path: string; box?: Box }[], logos: readonly string[]): Promise<Record<string, string>> {
  // no prototype: a logo named __proto__ is a key like any other
  const out = Object.create(null) as Record<string, string>;
  for (const l of logos) {
    const r = refs.find((x) => x.logo === l);
    // reference crops are their own files (box = where they were cut from, information only)
    const t = r ? await cropThumbnail(r.path, null) : null;
    if (t) out[l] = t;
  }
  return out;
}

/** Fills in `thumb` for every gallery item with a box; `imagePath(i)` = file of sample image i. */
export async function galleryThumbnails(galleries: ModelGallery[], imagePath: (imageIndex: number) => string): Promise<void> {
  for (const g of galleries)
    for (const it of [...g.falsePositives, ...g.falseNegatives]) {
      const t = it.box ? await cropThumbnail(imagePath(it.imageIndex), it.box) : null;
      if (t) it.thumb = t;
    }
}
