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
 * Per source (faults, clipping, conversions, object names): see prepare-source.ts.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { isFolderLayout, prepareFolders, type FolderPrepareSummary } from './prepare-folders.js';
import { forgetTakenLogos, syncWithSources } from './sync.js';
import { Progress } from '../util/progress.js';
import { log } from '../util/log.js';
import { processAlive } from '../util/process.js';
import { DataDbWriter } from './db-writer.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR, type DataStats, type SkipKind } from './db-schema.js';
import { duplicatesWarning, objectBrandResolver, planSources, sameBytesWarning, scanDataset, scopeOf, type Source } from './logodet-layout.js';
import { ingestSource, type Outcome } from './prepare-source.js';

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
    // every XML parsed and every file hashed before ingest: ~30 s for LogoDet-3K's 158k sources
    const checking = new Progress({ label: 'check', total: sources.length, unit: 'src', quiet: opts.quiet });
    const plans = planSources(sources, brands, () => checking.tick(1));
    checking.finish(`${sources.length} sources hashed`);
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

    const ingest = { dataset, out, plans, folderOf, brandOf, flippedSources, copies, sameBytes };
    const processOne = (s: Source): Promise<Outcome> => ingestSource(s, ingest);

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
    // a limited run leaves the brands past the limit as they were: those of an earlier, unfinished
    // full run stay part-ingested, so the data dir stays unfinished (its readers refuse it)
    const stillUnfinished = used.length < brands.length && db.unfinishedBefore;
    if (stillUnfinished) log('warn', `prepare: ${out} stays unfinished: an earlier prepare of the whole dataset did not finish, and --limit-brands ${opts.limitBrands} left the brands past the limit as it left them; run prepare without --limit-brands to finish it`);
    db.finish(!stillUnfinished);
    return summary;
  } finally {
    db.close();
  }
}
