/**
 * `logolab prepare`: LogoDet-3K layout (`<Category>/<Brand>/<stem>.jpg` + `<stem>.xml`) → a
 * prepared data dir (see db.ts for its layout and schema).
 *
 * Per source image (one unit of work): parse the VOC XML, decode the image, clip every box to
 * the image, crop each valid object into reference_logos/, link/copy the image into
 * test_images/, then record the image, its ground truth, its crops, its skipped objects and a
 * progress mark in ONE transaction. Files are written atomically before the transaction and
 * deterministically, so a run killed at any point re-does at most the unfinished source and a
 * second run changes nothing (no duplicate rows, identical file bytes).
 *
 * Every run compares each source with what was recorded for it: a source whose XML or image
 * CONTENT changed (sha256, so an edit that keeps size and mtime counts too) or whose labels other
 * brand folders changed (planSources), a source whose outputs (crops, test image) were deleted,
 * and one no longer in the dataset are forgotten (rows and output files) and — unless gone —
 * ingested again. So a data dir equals a fresh prepare, and an unchanged dataset is a no-op.
 *
 * A dataset root holding `<logo>_reference_images/` folders is the Burnley folder layout: see
 * prepare-folders.ts.
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
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LogolabError, firstLine } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { notRegularFile } from '../io/file-kind.js';
import { isFolderLayout, prepareFolders, type FolderPrepareSummary } from './prepare-folders.js';
import { forgetTakenLogos, linkOrCopy, syncWithSources } from './sync.js';
import { cropImage, decodeImage, imageMetadata, toSharp } from '../preprocess/image.js';
import { withOwnVipsError } from '../preprocess/vips-errors.js';
import { Progress } from '../util/progress.js';
import { log } from '../util/log.js';
import { processAlive } from '../util/process.js';
import type { Box } from '../util/box.js';
import { DataDbWriter, type ImageRecord } from './db-writer.js';
import { placeVocBoxes, type StoredImage } from './voc-size.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR, type DataStats, type SkipKind, type SkippedRow } from './db-schema.js';
import { decodeXml, parseVoc, type VocAnnotation } from './voc.js';
import { duplicatesWarning, objectBrandResolver, planSources, sameBytesWarning, scanDataset, scopeOf, type Source } from './logodet-layout.js';
import { pixelLimitDetail } from './decode-skip.js';


export interface PrepareOptions {
  dataset: string;
  out: string;
  /** only the first N brand folders (sorted by category, then brand) */
  limitBrands?: number;
  concurrency?: number;
  quiet?: boolean;
  /** sync a data dir prepared from another dataset path with this one (else refused) */
  replaceDataset?: boolean;
  /** test hook: throw after recording this many sources (simulates an interrupted run) */
  abortAfter?: number;
}

export interface PrepareSummary {
  layout: 'logodet3k';
  dataset: string;
  out: string;
  sources: number;
  alreadyDone: number;
  /** sources re-ingested because their files changed / their outputs were deleted */
  changed: number;
  restored: number;
  /** sources no longer in the dataset, removed from the data dir */
  removed: number;
  processed: number;
  ingestedImages: number;
  negativeImages: number;
  objects: number;
  clippedBoxes: number;
  converted: Record<string, number>;
  skipped: Partial<Record<SkipKind, number>>;
  /** totals in the database after this run */
  totals: DataStats;
}

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


/** Removes temp files an interrupted run left (names from io/atomic's tempPathFor: .<name>.<pid>.<n>.tmp). */
function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeStaleTemps(p);
    else {
      // only a dead writer's temp: a live one (another prepare on this folder) still renames it
      const m = /^\..+\.(\d+)\.\d+\.tmp$/.exec(e.name);
      if (m && !processAlive(Number(m[1]))) rmSync(p, { force: true });
    }
  }
}

interface Outcome {
  image: ImageRecord | null;
  skips: SkippedRow[];
}

/** Either layout: the Burnley folder layout (prepare-folders.ts) or LogoDet-3K (prepareDataset). */
export async function prepareAny(opts: PrepareOptions): Promise<PrepareSummary | FolderPrepareSummary> {
  checkOutNotInDataset(opts);
  if (!isFolderLayout(resolve(opts.dataset))) return prepareDataset(opts);
  if (opts.limitBrands !== undefined) throw new LogolabError('--limit-brands: applies to the LogoDet-3K layout only');
  return prepareFolders(opts);
}

function checkOutNotInDataset(opts: PrepareOptions): void {
  const dataset = resolve(opts.dataset);
  const out = resolve(opts.out);
  if (out === dataset || out.startsWith(dataset + '/')) throw new LogolabError(`--out ${out}: must not be inside --dataset`);
}

export async function prepareDataset(opts: PrepareOptions): Promise<PrepareSummary> {
  const dataset = resolve(opts.dataset);
  const out = resolve(opts.out);
  checkOutNotInDataset(opts);
  const { brands, used, sources } = scanDataset(dataset, opts.limitBrands);
  const brandOf = objectBrandResolver(brands);
  const folderOf = new Map(brands.map((b) => [`${b.category}/${b.folder}`, b] as const));

  const db = DataDbWriter.openFor(out, 'logodet3k', { dataset, replaceDataset: opts.replaceDataset }); // refuses a foreign folder or another dataset's before anything in it is touched
  try {
    removeStaleTemps(join(out, REFERENCE_DIR));
    removeStaleTemps(join(out, TEST_IMAGES_DIR));
    db.setMeta('dataset', dataset);
    const done = db.doneSources();
    const plans = planSources(sources, brands);
    const signatures = new Map([...plans].map(([k, p]) => [k, p.signature]));
    const sync = syncWithSources(db, done, signatures, scopeOf(brands, used));
    if (used.length < brands.length) sync.removed += forgetTakenLogos(db, done, brands);
    const pending = sources.filter((s) => !done.has(s.key));
    const summary: PrepareSummary = {
      layout: 'logodet3k',
      dataset,
      out,
      sources: sources.length,
      alreadyDone: sources.length - pending.length,
      ...sync,
      processed: 0,
      ingestedImages: 0,
      negativeImages: 0,
      objects: 0,
      clippedBoxes: 0,
      converted: {},
      skipped: {},
      totals: db.stats(),
    };
    if (summary.alreadyDone) log('info', `prepare: ${summary.alreadyDone} of ${sources.length} sources already done (resuming)`);
    const progress = new Progress({ label: 'prepare', total: pending.length, unit: 'img', quiet: opts.quiet });
    const flippedSources: string[] = [];
    const copies: [string, string][] = [];
    const sameBytes: [string, string][] = [];
    const killAfter = process.env.LOGOLAB_PREPARE_KILL_AFTER ? Number(process.env.LOGOLAB_PREPARE_KILL_AFTER) : undefined;

    const processOne = async (s: Source): Promise<Outcome> => {
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
    };

    // decode/crop a few sources concurrently, record strictly in order (stable row ids)
    const conc = Math.max(1, opts.concurrency ?? 2);
    const inflight: Promise<Outcome>[] = [];
    let next = 0;
    const launch = () => {
      while (inflight.length < conc && next < pending.length) inflight.push(processOne(pending[next++]!));
    };
    launch();
    for (let i = 0; i < pending.length; i++) {
      const s = pending[i]!;
      const r = await inflight.shift()!;
      db.recordSource(s.key, r.image, r.skips, signatures.get(s.key)!);
      summary.processed++;
      for (const k of r.skips) summary.skipped[k.kind] = (summary.skipped[k.kind] ?? 0) + 1;
      if (r.image) {
        summary.ingestedImages++;
        if (r.image.objects.length === 0) summary.negativeImages++;
        summary.objects += r.image.objects.length;
        summary.clippedBoxes += r.image.objects.filter((o) => o.clipped).length;
        if (r.image.converted) summary.converted[r.image.converted] = (summary.converted[r.image.converted] ?? 0) + 1;
      }
      progress.tick(1, Object.keys(summary.skipped).length ? `skipped ${Object.values(summary.skipped).reduce((a, b) => a + b, 0)}` : undefined);
      if (killAfter !== undefined && summary.processed >= killAfter) process.kill(process.pid, 'SIGKILL');
      if (opts.abortAfter !== undefined && summary.processed >= opts.abortAfter) {
        await Promise.allSettled(inflight);
        throw new Error(`prepare: aborted after ${summary.processed} sources (test hook)`);
      }
      launch();
    }
    progress.finish(`${summary.ingestedImages} images, ${summary.objects} objects, ${Object.values(summary.skipped).reduce((a, b) => a + b, 0)} skipped`);
    if (flippedSources.length)
      log('warn', `prepare: ${flippedSources.length} annotated image${flippedSources.length > 1 ? 's have' : ' has'} an EXIF orientation whose stored and displayed grids have one size (2–4: mirrored or turned 180°; 5–8 on a square picture; e.g. ${flippedSources.sort()[0]}): their boxes were read in the displayed picture, as logolab crops it; an annotation tool that ignores EXIF writes them in the stored one — check a crop in ${REFERENCE_DIR}/`);
    if (copies.length) log('warn', duplicatesWarning(copies.sort()));
    if (sameBytes.length) log('warn', sameBytesWarning(sameBytes.sort()));
    db.setMeta('prepared_sources', String(sources.length));
    summary.totals = db.stats();
    db.finish();
    return summary;
  } finally {
    db.close();
  }
}

function relPath(root: string, p: string): string {
  return p.startsWith(root + '/') ? p.slice(root.length + 1) : p;
}
