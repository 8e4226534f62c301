/**
 * Small inline crop thumbnails for the report (data: URIs, so report.html stays one self-contained
 * file): one reference crop per logo for the per-logo table, and the gallery's region crops.
 * Only file I/O and encoding live here; what to show is decided by compare.ts / gallery.ts.
 */
import { firstLine } from '../errors.js';
import { cropImage, decodeImage, hasPixels, toSharp, type RgbImage } from '../preprocess/image.js';
import type { Box } from '../util/box.js';
import type { GalleryItem, ModelGallery } from './gallery.js';

// twice the CSS boxes report.html shows them in (gallery 120 × 80, per-logo table 72 × 40), so
// they stay sharp on high-density screens
export const GALLERY_THUMB = [240, 160] as const;
export const LOGO_THUMB = [144, 80] as const;

/**
 * JPEG data URI of `path` (cut to `box` when given), fitted inside `fit` [width, height] and never
 * enlarged (the browser scales a small crop up as well as we would, for fewer bytes); null when the
 * box lies outside the picture. Cut from decodeImage's pixels as the embedding pass cuts its
 * crops, so the thumbnail shows what the model saw: EXIF-oriented (boxes are in that frame),
 * alpha dropped keeping the stored colour (a JPEG encoder would flatten it onto black), a GIF's
 * transparent pixels in their palette colour, a BMP read as PIL reads it.
 */
export async function cropThumbnail(path: string, box: Box | null, fit: readonly [number, number] = GALLERY_THUMB): Promise<string | null> {
  return thumbnailOf(await decodeImage(path), box, fit);
}

/** cropThumbnail of a picture already decoded (decodeImage's pixels). */
async function thumbnailOf(decoded: RgbImage, box: Box | null, fit: readonly [number, number]): Promise<string | null> {
  let img = decoded;
  if (box) {
    if (!hasPixels(box, img.width, img.height)) return null;
    img = cropImage(img, box);
  }
  const buf = await toSharp(img).resize({ width: fit[0], height: fit[1], fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' }).jpeg({ quality: 82 }).toBuffer();
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/**
 * cropThumbnail, with a picture that cannot be read (missing, corrupt, on another machine for an
 * exchange file) left out alone: its message goes to `failures`, the other thumbnails are made.
 */
async function tryThumbnail(path: string, box: Box | null, fit: readonly [number, number], failures: string[]): Promise<string | null> {
  try {
    return await cropThumbnail(path, box, fit);
  } catch (e) {
    failures.push(firstLine(e));
    return null;
  }
}

/** One thumbnail per logo: its first sampled reference crop; `failures` collects the pictures that could not be read. */
export async function logoThumbnails(refs: readonly { logo: string; path: string; box?: Box }[], logos: readonly string[], failures: string[] = []): Promise<Record<string, string>> {
  // no prototype: a logo named __proto__ is a key like any other
  const out = Object.create(null) as Record<string, string>;
  for (const l of logos) {
    const r = refs.find((x) => x.logo === l);
    // reference crops are their own files (box = where they were cut from, information only)
    const t = r ? await tryThumbnail(r.path, null, LOGO_THUMB, failures) : null;
    if (t) out[l] = t;
  }
  return out;
}

/**
 * Fills in `thumb` for every gallery item with a box; `imagePath(i)` = file of sample image i;
 * `failures` as logoThumbnails' (one message per item left out). Items are taken picture by
 * picture: each picture is decoded once however many of its regions are shown (both models' mistakes
 * are often in one photo), and only one decoded picture is held at a time. `decode`: tests count the calls.
 */
export async function galleryThumbnails(galleries: ModelGallery[], imagePath: (imageIndex: number) => string, failures: string[] = [], decode: (path: string) => Promise<RgbImage> = decodeImage): Promise<void> {
  const byPath = new Map<string, { item: GalleryItem; box: Box }[]>();
  for (const g of galleries)
    for (const item of [...g.falsePositives, ...g.falseNegatives]) {
      if (!item.box) continue;
      const path = imagePath(item.imageIndex);
      const list = byPath.get(path) ?? [];
      list.push({ item, box: item.box });
      byPath.set(path, list);
    }
  for (const [path, items] of byPath) {
    let img: RgbImage;
    try {
      img = await decode(path);
    } catch (e) {
      for (let i = 0; i < items.length; i++) failures.push(firstLine(e));
      continue;
    }
    for (const { item, box } of items) {
      try {
        const t = await thumbnailOf(img, box, GALLERY_THUMB);
        if (t) item.thumb = t;
      } catch (e) {
        failures.push(firstLine(e));
      }
    }
  }
}
