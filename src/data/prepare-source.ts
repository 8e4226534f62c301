/**
 * One source of `logolab prepare` (LogoDet-3K layout; the run is prepare.ts): its VOC XML parsed,
 * its image decoded, every box clipped to the image, each valid object cropped into
 * reference_logos/ and the image linked or copied into test_images/; what to record for it (or why
 * it is skipped) is returned, and prepare records it in one transaction. Files are written
 * atomically and deterministically, so a source re-done after a kill writes the same bytes.
 *
 * Faults (never abort the run; counted per kind in the summary and the `skipped` table):
 *   malformed_xml, missing_image, missing_xml, corrupt_image → the source is skipped
 *   image_too_large (over libvips' pixel limit) → the source is skipped
 *   degenerate_box (NaN, inverted, or < 2 px after clipping) → that object is skipped
 *   duplicate_object (the same logo at the same box as an earlier object of the XML) → that copy is
 *     skipped: two identical crops would find each other in retrieval and inflate precision@1
 *   no_valid_objects (an annotated image whose objects were all skipped) → the image is skipped,
 *     so it is not mistaken for a negative
 *   duplicate_image (an image byte-identical to an earlier source's: a copy) → skipped (planSources)
 * Not faults (ingested and counted): boxes partly outside the image are CLIPPED (clipped = 1);
 * grayscale / CMYK / 16-bit / palette / alpha images that decode are CONVERTED to 8-bit RGB by
 * decodeImage (PIL convert('RGB') rules) and ingested; test_images.converted names the
 * conversion. An XML with no <object> is a negative image (no ground truth rows).
 *
 * VOC <difficult> and <truncated> are read but every object counts, as in the reference (which
 * never reads them).
 *
 * Boxes: VOC xmin..xmax are read as the half-open pixel range [xmin, xmax) — what PIL's
 * img.crop((xmin, ymin, xmax, ymax)) cuts — with fractional values rounded half-to-even as PIL does.
 *
 * Object names: an object's <name> names its logo when it matches a brand folder of the
 * dataset (exactly, else case-insensitively; both Unicode NFC, as macOS writes NFD); otherwise the
 * object belongs to the folder's brand (LogoDet-3K spells some names differently from their
 * folders). A name that several categories hold as a folder is the image's own folder, else the
 * one in its category, else the first (the one whose logo is named without a category suffix).
 */
import type { Metadata } from 'sharp';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { firstLine } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { notRegularFile } from '../io/file-kind.js';
import { linkOrCopy } from './sync.js';
import { cropImage, decodeImage, imageMetadata, toSharp } from '../preprocess/image.js';
import { withOwnVipsError } from '../preprocess/vips-errors.js';
import type { Box } from '../util/box.js';
import type { ImageRecord } from './db-writer.js';
import { placeVocBoxes, type StoredImage } from './voc-size.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR, type SkipKind, type SkippedRow } from './db-schema.js';
import { decodeXml, parseVoc, type VocAnnotation } from './voc.js';
import type { BrandFolder, Source, SourcePlan } from './logodet-layout.js';
import { pixelLimitDetail } from './decode-skip.js';

/** Which conversion decodeImage applies, from sharp's metadata (null = plain 8-bit RGB). */
export function conversionKind(m: Metadata): string | null {
  const k: string[] = [];
  if (m.space === 'cmyk') k.push('cmyk');
  else if (m.space === 'b-w' || m.space === 'grey16' || (!m.isPalette && (m.channels ?? 3) <= 2)) k.push('grayscale');
  if (m.depth && m.depth !== 'uchar' && m.depth !== 'char') k.push('16bit');
  if (m.isPalette) k.push('palette');
  if (m.hasAlpha) k.push('alpha');
  return k.length ? k.join('+') : null;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Clips a VOC box to a w×h image. null = degenerate. */
export function clipBox(box: [number, number, number, number], w: number, h: number): { box: Box; clipped: boolean } | null {
  if (box.some((v) => !Number.isFinite(v))) return null;
  const r = box.map(roundHalfEven) as Box;
  if (r[2] <= r[0] || r[3] <= r[1]) return null;
  const c: Box = [Math.max(0, r[0]), Math.max(0, r[1]), Math.min(w, r[2]), Math.min(h, r[3])];
  if (c[2] - c[0] < 2 || c[3] - c[1] < 2) return null;
  return { box: c, clipped: c.some((v, i) => v !== r[i]) };
}

export interface Outcome {
  image: ImageRecord | null;
  skips: SkippedRow[];
}

/**
 * What every source of one run shares: the dataset and data dir, the sources' plans (planSources)
 * and brand folders, and the findings prepare reports once at the end (each list sorted there).
 */
export interface IngestContext {
  dataset: string;
  out: string;
  plans: Map<string, SourcePlan>;
  /** brand folders by '<Category>/<folder>' */
  folderOf: Map<string, BrandFolder>;
  /** objectBrandResolver: the brand folder an object's <name> names */
  brandOf: (name: string, own: BrandFolder) => BrandFolder;
  /** annotated sources whose EXIF orientation leaves their boxes' grid ambiguous */
  flippedSources: string[];
  /** [copy, first] of images byte-identical to an earlier source's (not ingested) */
  copies: [string, string][];
  /** [source, other] of sources whose image has the same bytes as another's (planSources' sameBytesAs) */
  sameBytes: [string, string][];
}

/** Reads, checks, crops and places one source; returns what to record for it. */
export async function ingestSource(s: Source, ctx: IngestContext): Promise<Outcome> {
  const { dataset, out, plans, folderOf, brandOf, flippedSources, copies, sameBytes } = ctx;
    const skip = (kind: SkipKind, detail: string, objectIndex: number | null = null): SkippedRow => ({ source: s.key, objectIndex, kind, detail });
    // a FIFO would block the read forever; a device is no image
    for (const f of [s.xml, s.image]) {
      const why = f ? notRegularFile(f) : null;
      if (why) return { image: null, skips: [skip('special_file', why)] };
    }
    if (!s.xml) return { image: null, skips: [skip('missing_xml', `${s.image}: no ${s.stem}.xml beside it`)] };
    if (!s.image) return { image: null, skips: [skip('missing_image', `${s.xml}: no image ${s.stem}.{jpg,png,…} beside it`)] };
    let ann: VocAnnotation;
    try {
      ann = parseVoc(decodeXml(readFileSync(s.xml), s.xml), s.xml);
    } catch (e) {
      return { image: null, skips: [skip('malformed_xml', (e as Error).message)] };
    }
    let converted: string | null;
    let img;
    let stored: StoredImage;
    try {
      // decoded first: its error is the file's own reason, as read alone (vips-errors.ts), so a
      // resumed run records the same detail; the header read then meets a file that decodes
      const file = s.image;
      img = await decodeImage(file);
      const meta = await withOwnVipsError(() => imageMetadata(file));
      converted = conversionKind(meta);
      stored = { width: meta.width ?? 0, height: meta.height ?? 0, orientation: meta.orientation };
    } catch (e) {
      const line = firstLine(e);
      const tooLarge = pixelLimitDetail(s.image, line);
      if (tooLarge) return { image: null, skips: [skip('image_too_large', tooLarge)] };
      // decodeImage's message is "cannot decode image <path>: <why>"; sharp's metadata() names no file
      const detail = line.replace(/^cannot decode image /, '');
      return { image: null, skips: [skip('corrupt_image', detail.startsWith(`${s.image}: `) ? detail : `${s.image}: ${detail}`)] };
    }
    // after the decode: a copy of an undecodable image is reported as what it is, as the first is
    const plan = plans.get(s.key)!;
    if (plan.sameBytesAs) sameBytes.push([relPath(dataset, s.image), relPath(dataset, plan.sameBytesAs.image!)]);
    const first = plan.duplicateOf;
    if (first) {
      copies.push([relPath(dataset, s.image), relPath(dataset, first.image!)]);
      return { image: null, skips: [skip('duplicate_image', `${s.image}: the same bytes as ${first.image}, the image of the earlier source ${first.key}; this copy is not ingested`)] };
    }
    const placement = placeVocBoxes(ann, stored, img);
    if (placement.kind === 'mismatch') return { image: null, skips: [skip('size_mismatch', `${s.xml}: ${placement.detail}; its boxes belong to another picture`)] };
    const skips: SkippedRow[] = [];
    const objects: ImageRecord['objects'] = [];
    const own = folderOf.get(`${s.category}/${s.brand}`)!;
    for (let k = 0; k < ann.objects.length; k++) {
      const o = ann.objects[k]!;
      const c = clipBox(placement.kind === 'rotate' ? placement.map(o.box) : o.box, img.width, img.height);
      if (!c) {
        const field = ['xmin', 'ymin', 'xmax', 'ymax'].filter((_, i) => !Number.isFinite(o.box[i]));
        const why = field.length ? `has no number in <${field.join('>, <')}>` : `is empty inside the ${img.width}x${img.height} image`;
        skips.push(skip('degenerate_box', `${s.xml}: object #${k} (${o.name}) box [${o.box.join(', ')}] ${why}`, k));
        continue;
      }
      const bf = brandOf(o.name, own);
      const twin = objects.find((p) => p.logoName === bf.name && p.box.every((v, i) => v === c.box[i]));
      if (twin) {
        skips.push(skip('duplicate_object', `${s.xml}: object #${k} (${o.name}) repeats object #${twin.objectIndex}: same logo, same box [${c.box.join(', ')}]`, k));
        continue;
      }
      const crop = cropImage(img, c.box);
      const stemPart = encodeURIComponent(s.stem);
      const file = bf === own ? `${bf.category}/${bf.folder}/${stemPart}_${k}.jpg` : `${bf.category}/${bf.folder}/${stemPart}_${k}@${encodeURIComponent(s.category)}@${encodeURIComponent(s.brand)}.jpg`;
      const jpeg = await toSharp(crop).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
      writeFileAtomic(join(out, REFERENCE_DIR, file), jpeg);
      objects.push({ objectIndex: k, logoName: bf.name, category: bf.category, box: c.box, clipped: c.clipped, cropFile: file, cropWidth: crop.width, cropHeight: crop.height });
    }
    if (ann.objects.length > 0 && objects.length === 0) {
      skips.push(skip('no_valid_objects', `${s.xml}: none of its ${ann.objects.length} objects has a usable box`));
      return { image: null, skips };
    }
    // EXIF 2–4 (mirror, 180°), or 5–8 on a square picture: both grids have one size, so <size>
    // cannot tell which the boxes use (counted once the image is accepted)
    const o = stored.orientation ?? 1;
    if (objects.length && placement.kind === 'as-is' && o > 1 && (o <= 4 || stored.width === stored.height)) flippedSources.push(s.key);
    const rel = `${s.category}/${s.brand}/${basename(s.image)}`;
    linkOrCopy(s.image, join(out, TEST_IMAGES_DIR, rel));
    return { image: { filename: rel, source: relPath(dataset, s.image), width: img.width, height: img.height, converted, objects }, skips };
}

function relPath(root: string, p: string): string {
  return p.startsWith(root + '/') ? p.slice(root.length + 1) : p;
}
