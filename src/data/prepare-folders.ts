/**
 * `logolab prepare` for the Burnley folder layout (src/data/folders.ts):
 *
 *   <root>/<logo>_reference_images/*   → reference_logos/<logo>/<file>   (folder_references rows)
 *   <root>/*test_images/<file>         → test_images/<file>               (test_images rows +
 *                                         image_labels = the logos named by the filename prefix)
 *
 * Files are hard-linked (copied across filesystems), bytes unchanged, so `eval --data <out>` embeds
 * exactly what `eval --folders <root>` does and gives the same results; `train` uses the reference
 * images as its crops. No boxes exist in this layout: evaluate with --detector whole-image or
 * detr:<dir>.
 *
 * Like the LogoDet-3K path (prepare.ts): one source (image) per transaction with its progress
 * mark; every run re-ingests sources whose content changed (a test image's labels count as its
 * content: a new logo folder can change them), whose outputs were deleted, and forgets sources
 * that left the dataset; unreadable and special files are skipped and counted, and so are files
 * the layout does not read (skipped.not_in_layout: another extension, in a subfolder), which
 * readFolderDataset names in a warning.
 */
import { pixelLimitDetail } from './decode-skip.js';
import { basename, join, resolve } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { notRegularFile } from '../io/file-kind.js';
import { decodeImage } from '../preprocess/image.js';
import { Progress } from '../util/progress.js';
import { log } from '../util/log.js';
import { DataDbWriter } from './db-writer.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR, type DataStats, type SkipKind, type SkippedRow } from './db-schema.js';
import { readFolderDataset } from './folders.js';
import { contentSignature, linkOrCopy, syncWithSources } from './sync.js';
import { UsageError, firstLine } from '../errors.js';

const REF_SUFFIX = '_reference_images';

/** Whether a dataset root is the folder layout (it has <logo>_reference_images/ folders). */
export function isFolderLayout(root: string): boolean {
  try {
    return readdirSync(root).some((d) => d.endsWith(REF_SUFFIX) && d.length > REF_SUFFIX.length && statSync(join(root, d)).isDirectory());
  } catch {
    return false;
  }
}

export interface FolderPrepareSummary {
  layout: 'folders';
  dataset: string;
  out: string;
  sources: number;
  alreadyDone: number;
  changed: number;
  restored: number;
  removed: number;
  processed: number;
  referenceImages: number;
  testImages: number;
  negativeImages: number;
  /** not_in_layout: files in the layout's folders that are no source (no rows in the skipped table) */
  skipped: Partial<Record<SkipKind | 'not_in_layout', number>>;
  totals: DataStats;
}

interface FolderSource {
  key: string;
  path: string;
  kind: 'ref' | 'test';
  /** relative to reference_logos/ or test_images/ */
  filename: string;
  logo?: string;
  labels?: string[];
}

/** Why a source is skipped: its kind and its one-line detail (naming the file). */
class SkipError extends Error {
  constructor(
    readonly kind: SkipKind,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Width and height as decodeImage delivers them (EXIF orientation applied), from a full decode: a
 * header read would pass a truncated or corrupt file, which then fails `eval --data` instead of
 * being skipped and counted here, as the LogoDet-3K path does. An image that does not decode
 * throws a SkipError (corrupt_image, or image_too_large over the decoder's pixel limit).
 */
async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const img = await decodeImage(path);
    return { width: img.width, height: img.height };
  } catch (e) {
    // decodeImage's message is "cannot decode image <path>: <why>"; the detail names the file once
    const why = firstLine(e).replace(`cannot decode image ${path}: `, '');
    const tooLarge = pixelLimitDetail(path, why);
    if (tooLarge) throw new SkipError('image_too_large', tooLarge);
    throw new SkipError('corrupt_image', `${path}: ${why}`);
  }
}

export async function prepareFolders(opts: { dataset: string; out: string; quiet?: boolean; concurrency?: number; replaceDataset?: boolean }): Promise<FolderPrepareSummary> {
  // this layout decodes each file only to check it and links it, one at a time in order: there is
  // no decoding and cropping to run in parallel, and a --concurrency it ignored would look applied
  if (opts.concurrency !== undefined) throw new UsageError(`--concurrency: applies to the LogoDet-3K layout (parallel decoding and cropping); ${opts.dataset} is the Burnley folder layout, prepared one file at a time`);
  const dataset = resolve(opts.dataset);
  const out = resolve(opts.out);
  const fd = readFolderDataset(dataset, { emptyLogos: 'skip' });
  const sources: FolderSource[] = [];
  for (const l of fd.logos) for (const p of l.references) sources.push({ key: `ref:${l.name}/${basename(p)}`, path: p, kind: 'ref', filename: `${l.name}/${basename(p)}`, logo: l.name });
  for (const t of fd.testImages) sources.push({ key: `test:${t.file}`, path: t.path, kind: 'test', filename: t.file, labels: t.expected });
  const db = DataDbWriter.openFor(out, 'folders', { dataset, replaceDataset: opts.replaceDataset });
  try {
    db.setMeta('dataset', dataset);
    const done = db.doneSources();
    const signatures = new Map(sources.map((s) => [s.key, `${contentSignature([s.path])}${s.labels ? `|${s.labels.join('+')}` : ''}`]));
    const sync = syncWithSources(db, done, signatures, () => true);
    const pending = sources.filter((s) => !done.has(s.key));
    const summary: FolderPrepareSummary = {
      layout: 'folders', dataset, out, sources: sources.length, alreadyDone: sources.length - pending.length, ...sync,
      processed: 0, referenceImages: 0, testImages: 0, negativeImages: 0, skipped: {}, totals: db.stats(),
    };
    if (fd.notRead.length) summary.skipped.not_in_layout = fd.notRead.length;
    const progress = new Progress({ label: 'prepare', total: pending.length, unit: 'img', quiet: opts.quiet });
    for (const s of pending) {
      const skip = (kind: SkipKind, detail: string): SkippedRow => ({ source: s.key, objectIndex: null, kind, detail });
      const special = notRegularFile(s.path);
      let size: { width: number; height: number } | null = null;
      let skips: SkippedRow[] = [];
      if (special) skips = [skip('special_file', special)];
      else {
        try {
          size = await imageSize(s.path);
        } catch (e) {
          skips = [e instanceof SkipError ? skip(e.kind, e.detail) : skip('corrupt_image', `${s.path}: ${firstLine(e)}`)];
        }
      }
      const sig = signatures.get(s.key)!;
      if (!size) db.recordFolderSource(s.key, null, skips, sig);
      else if (s.kind === 'ref') {
        linkOrCopy(s.path, join(out, REFERENCE_DIR, s.filename));
        db.recordFolderSource(s.key, { kind: 'ref', filename: s.filename, logoName: s.logo!, source: s.path, ...size }, [], sig);
        summary.referenceImages++;
      } else {
        linkOrCopy(s.path, join(out, TEST_IMAGES_DIR, s.filename));
        db.recordFolderSource(s.key, { kind: 'test', filename: s.filename, source: s.path, labels: s.labels!, ...size }, [], sig);
        summary.testImages++;
        if (!s.labels!.length) summary.negativeImages++;
      }
      for (const k of skips) summary.skipped[k.kind] = (summary.skipped[k.kind] ?? 0) + 1;
      summary.processed++;
      progress.tick(1);
    }
    if (pending.length) progress.finish(`${summary.referenceImages} reference images, ${summary.testImages} test images`);
    // (files not read were named in readFolderDataset's warning; they have no rows)
    const tabled = Object.entries(summary.skipped).filter(([k]) => k !== 'not_in_layout');
    if (tabled.length) log('warn', `prepare: skipped ${tabled.map(([k, n]) => `${n} ${k}`).join(', ')} (see the skipped table)`);
    db.setMeta('prepared_sources', String(sources.length));
    summary.totals = db.stats();
    db.finish();
    return summary;
  } finally {
    db.close();
  }
}
