/**
 * Small inline crop thumbnails for the report (data: URIs, so report.html stays one self-contained
 * file): one reference crop per logo for the per-logo table, and the gallery's region crops.
 * Only file I/O and encoding live here; what to show is decided by compare.ts / gallery.ts.
 */
import { imageMetadata, sharpImage } from '../preprocess/image.js';
import type { Box } from '../util/box.js';
import type { ModelGallery } from './gallery.js';

// twice the CSS boxes report.html shows them in (gallery 120 × 80, per-logo table 72 × 40), so
// they stay sharp on high-density screens
export const GALLERY_THUMB = [240, 160] as const;
export const LOGO_THUMB = [144, 80] as const;

/**
 * JPEG data URI of `path` (cut to `box` when given), fitted inside `fit` [width, height] and never
 * enlarged (the browser scales a small crop up as well as we would, for fewer bytes); null when the
 * box lies outside the picture. The picture is EXIF-oriented first, as decodeImage does, so boxes (which are
 * in the oriented frame) cut what the model saw.
 */
export async function cropThumbnail(path: string, box: Box | null, fit: readonly [number, number] = GALLERY_THUMB): Promise<string | null> {
  let img = sharpImage(path).rotate();
  if (box) {
    // metadata() describes the stored frame; autoOrient is the frame after rotate()
    const { autoOrient } = await imageMetadata(path);
    const [w, h] = [autoOrient.width, autoOrient.height];
    const left = Math.max(0, Math.floor(box[0]));
    const top = Math.max(0, Math.floor(box[1]));
    const right = Math.min(w, Math.ceil(box[2]));
    const bottom = Math.min(h, Math.ceil(box[3]));
    if (right <= left || bottom <= top) return null;
    img = img.extract({ left, top, width: right - left, height: bottom - top });
  }
  const buf = await img.resize({ width: fit[0], height: fit[1], fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' }).jpeg({ quality: 82 }).toBuffer();
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/** One thumbnail per logo: its first sampled reference crop. */
export async function logoThumbnails(refs: readonly { logo: string; path: string; box?: Box }[], logos: readonly string[]): Promise<Record<string, string>> {
  // no prototype: a logo named __proto__ is a key like any other
  const out = Object.create(null) as Record<string, string>;
  for (const l of logos) {
    const r = refs.find((x) => x.logo === l);
    // reference crops are their own files (box = where they were cut from, information only)
    const t = r ? await cropThumbnail(r.path, null, LOGO_THUMB) : null;
    if (t) out[l] = t;
  }
  return out;
}

/** Fills in `thumb` for every gallery item with a box; `imagePath(i)` = file of sample image i. */
export async function galleryThumbnails(galleries: ModelGallery[], imagePath: (imageIndex: number) => string): Promise<void> {
  for (const g of galleries)
    for (const it of [...g.falsePositives, ...g.falseNegatives]) {
      const t = it.box ? await cropThumbnail(imagePath(it.imageIndex), it.box, GALLERY_THUMB) : null;
      if (t) it.thumb = t;
    }
}
