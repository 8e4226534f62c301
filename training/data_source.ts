/**
 * The trainer's DataSource over a prepared data folder (src/data/db.ts): reference crops grouped by
 * logo → split (src/data/splits.ts, logo- or image-level) → P×K batches (training/data/sampler.ts)
 * → BatchLoader (training/data/loader.ts: decode → augment (train only) → the model's image
 * processor → pixel_values, in `num_workers` worker threads, `prefetch_batches` batches ahead).
 * Deterministic in (seed, epoch, batch index): batch content from the sampler's per-batch
 * generator, augmentation from a generator keyed `aug:seed:epoch:index:slot` — the same pixels
 * whatever num_workers is (0 = everything on this thread), and the same as before the loader
 * existed, so recorded losses (models/logolab-tiny-clip/first_losses.json) reproduce.
 * A corrupt crop is replaced by another crop of its logo (deterministically) and counted.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { openDataDb, referenceCropsByLogo } from '../src/data/db.js';
import type { ReferenceCrop } from '../src/data/db-schema.js';
import { splitData } from '../src/data/splits.js';
import type { ImageProcessor } from '../src/models/vision/index.js';
import { defaultConfig, type TrainingConfig } from './config.js';
import { BatchLoader, type BatchSampler, type LoadedBatch, type LoaderStats } from './data/loader.js';
import { PxKSampler } from './data/sampler.js';
import { validationSubset } from './data/val-subset.js';
import type { PoolEvent } from './data/worker-pool.js';
import type { Batch, DataSource } from './batch.js';

/** db_path may name the database file (as the Python original's configs do) or its data folder. */
export function dataDirOf(dbPath: string): string {
  if (!existsSync(dbPath)) throw new LogolabError(`db_path ${dbPath}: not found (run \`logolab prepare\` first)`);
  return statSync(dbPath).isDirectory() ? dbPath : dirname(dbPath);
}

/** Whether two paths name one folder (resolved; through symlinks where both exist). */
function sameFolder(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false; // one of them does not exist
  }
}

/**
 * dataset_dir and reference_dir against the data in db_path (data dir `dataDir`). Training reads
 * only db_path's crops; these two keys (kept for the reference's configs, which set them) used to
 * be accepted and logged as applied but never read, so a wrong one went unnoticed. Now each, when
 * given (not its default, which means "not given"), must describe that data:
 *   reference_dir — the folder the crops are read from, <data dir>/reference_logos;
 *   dataset_dir   — the dataset the data dir was prepared from, as `prepare` recorded it (the
 *                   folder need not exist any more); a data dir without that record: an existing folder.
 */
export function checkDataPaths(c: Pick<TrainingConfig, 'dataset_dir' | 'reference_dir' | 'db_path'>, dataDir: string, keys: readonly ('dataset_dir' | 'reference_dir')[] = ['dataset_dir', 'reference_dir']): void {
  if (!keys.length) return;
  const defaults = defaultConfig();
  const db = openDataDb(dataDir);
  let recorded: string | undefined;
  let crops: string;
  try {
    recorded = db.meta('dataset');
    crops = db.referenceDir;
  } finally {
    db.close?.();
  }
  if (keys.includes('reference_dir') && c.reference_dir !== defaults.reference_dir && !sameFolder(c.reference_dir, crops))
    throw new LogolabError(`config: reference_dir ${c.reference_dir} is not the folder training reads the crops from: db_path ${c.db_path} has them in ${crops}; set reference_dir to that folder, or leave it out`);
  if (!keys.includes('dataset_dir') || c.dataset_dir === defaults.dataset_dir) return;
  if (recorded !== undefined) {
    if (!sameFolder(c.dataset_dir, recorded))
      throw new LogolabError(`config: dataset_dir ${c.dataset_dir} is not the dataset db_path ${c.db_path} was prepared from (${recorded}, as its database records); training reads db_path only — set dataset_dir to ${recorded}, or prepare ${c.dataset_dir} into a data dir of its own and set db_path to it`);
  } else if (!existsSync(c.dataset_dir) || !statSync(c.dataset_dir).isDirectory())
    throw new LogolabError(`config: dataset_dir ${c.dataset_dir}: no such folder (db_path ${c.db_path} records no source dataset to compare it with)`);
}

export interface DbDataSource extends DataSource {
  info: string;
  /**
   * Over the batches handed out so far (train + validation; not read-ahead, so the counts do not
   * depend on timing): images, distinct unreadable crops, refilled slots; and the pool's worker
   * restarts and re-sent jobs.
   */
  stats(): LoaderStats & { workerRestarts: number; retried: number };
  /** stops the loader workers */
  close(): Promise<void>;
}

export interface DbDataSourceOptions {
  /** worker-pool observer (diagnostics, tests) */
  onPoolEvent?: (e: PoolEvent) => void;
  /** unreadable-file and worker-restart warnings (default: log('warn')) */
  onWarn?: (msg: string) => void;
  /**
   * Which of dataset_dir / reference_dir to check against the data (default both). A resume
   * without --config inherits them from the checkpoint: checkpoints of older versions recorded
   * the defaults as absolute paths, which mean nothing (train.ts passes only the keys given now).
   */
  checkPaths?: readonly ('dataset_dir' | 'reference_dir')[];
}

/** Validation batches: a fixed list cut in chunks, the same every epoch. */
class FixedBatches implements BatchSampler<ReferenceCrop> {
  private readonly byLogo = new Map<string, ReferenceCrop[]>();
  constructor(
    private readonly items: { crop: ReferenceCrop; label: number }[],
    private readonly per: number,
  ) {
    for (const { crop } of items) {
      const a = this.byLogo.get(crop.logoName);
      if (a) a.push(crop);
      else this.byLogo.set(crop.logoName, [crop]);
    }
  }
  get length(): number {
    return Math.ceil(this.items.length / this.per);
  }
  batch(_epoch: number, index: number) {
    const part = this.items.slice(index * this.per, (index + 1) * this.per);
    return { items: part.map((v) => v.crop), labels: Int32Array.from(part.map((v) => v.label)), logos: part.map((v) => v.crop.logoName) };
  }
  itemsOfLogo(logo: string): readonly ReferenceCrop[] {
    return this.byLogo.get(logo) ?? [];
  }
}

export function dbDataSource(c: TrainingConfig, processor: ImageProcessor, opts: DbDataSourceOptions = {}): DbDataSource {
  const dataDir = dataDirOf(c.db_path);
  checkDataPaths(c, dataDir, opts.checkPaths);
  const byLogo = referenceCropsByLogo(dataDir);
  // image level: a photo's crops stay on one side (its boxes of one brand are near-duplicates)
  const splits = splitData(byLogo, { level: c.split_level, train: c.train_split, val: c.val_split, test: c.test_split, seed: c.seed }, (cr) => cr.sourceImageId);
  const train = new PxKSampler(splits.train, splits.labelOf, { logosPerBatch: c.logos_per_batch, samplesPerLogo: c.samples_per_logo, batchesPerEpoch: c.batches_per_epoch, seed: c.seed, name: 'train split' });
  // validation: every val crop once (logo order), at most val_batches × P·K of them (a seeded
  // subset spread over the logos: val-subset.ts), in P·K chunks. (Not the P×K sampler: val brands
  // may have a single crop under image-level splits, and re-sampling would repeat images — the
  // Python original's inflated-recall bug.)
  const per = c.logos_per_batch * c.samples_per_logo;
  const cap = c.val_batches * per;
  const chosen = c.val_subset === 'first' ? [...splits.val].flatMap(([logo, items]) => items.map((item) => ({ logo, item }))).slice(0, cap) : validationSubset(splits.val, cap, c.seed);
  const valItems = chosen.map(({ logo, item }) => ({ crop: item, label: splits.labelOf.get(logo)! }));
  const valLogos = new Set(chosen.map((v) => v.logo)).size;
  const val = new FixedBatches(valItems, per);
  const numVal = val.length;

  // one pool for both loaders, so num_workers is the number of threads
  const pool = c.num_workers > 0 ? BatchLoader.makePool(c.num_workers, processor, { onPoolEvent: opts.onPoolEvent, onWarn: opts.onWarn }) : null;
  const common = { pathOf: (cr: ReferenceCrop) => cr.path, processor, seed: c.seed, prefetch: c.prefetch_batches, ...(pool ? { pool } : {}), ...(opts.onWarn ? { onWarn: opts.onWarn } : {}) };
  const trainLoader = new BatchLoader(train, {
    ...common,
    augment: c.use_augmentation ? c.augmentation_strength : 'none',
    // the key data_source.ts used before the loader (refills, which it did not have, get their own)
    augmentKey: (e, b, s, a) => (a === 0 ? `aug:${c.seed}:${e}:${b}:${s}` : `aug:${c.seed}:${e}:${b}:${s}:refill${a}`),
  });
  const valLoader = new BatchLoader(val, { ...common, augment: 'none', wrapEpochs: false });
  const delivered = { images: 0, refilled: 0, unreadable: new Set<string>() };
  const toBatch = (b: LoadedBatch<ReferenceCrop>): Batch => {
    delivered.images += b.labels.length;
    delivered.refilled += b.refilled;
    for (const u of b.unreadable) delivered.unreadable.add(u);
    return { pixels: tf.tensor4d(b.pixels, b.shape), labels: b.labels, ids: b.items.map((it) => String(it.id)) };
  };

  const i = splits.info;
  return {
    info: `data: ${i.splitLevel}-level split, train ${i.trainLogos} logos / ${i.trainImages} crops, val ${i.valLogos} / ${i.valImages}${valItems.length < i.valImages ? ` (validated on ${valItems.length} crops of ${valLogos} logos: val_batches × P·K, val_subset ${c.val_subset})` : ''}, test ${i.testLogos} / ${i.testImages}; loader ${c.num_workers} worker${c.num_workers === 1 ? '' : 's'}, prefetch ${c.prefetch_batches}`,
    trainBatch: async (epoch, index) => toBatch(await trainLoader.getBatch(epoch, index)),
    numValBatches: () => numVal,
    valBatch: async (index) => {
      if (index >= numVal) throw new LogolabError(`val batch ${index}: only ${numVal}`);
      return toBatch(await valLoader.getBatch(0, index));
    },
    stats: () => ({
      images: delivered.images, corruptFiles: delivered.unreadable.size, refilled: delivered.refilled, workerRestarts: pool?.stats.restarts ?? 0, retried: pool?.stats.retried ?? 0,
    }),
    close: async () => {
      await Promise.all([trainLoader.close(), valLoader.close()]);
      await pool?.close();
    },
  };
}
