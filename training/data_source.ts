/**
 * The trainer's DataSource over a prepared data folder (src/data/db.ts): reference crops grouped by
 * logo → split (src/data/splits.ts, logo- or image-level) → P×K batches (training/data/sampler.ts)
 * → decode → augment (train only) → the model's image processor → pixel_values.
 * Deterministic in (seed, epoch, batch index): batch content from the sampler's per-batch
 * generator, augmentation from a generator seeded by (seed, epoch, index, slot).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { openDataDb, type ReferenceCrop } from '../src/data/db.js';
import { splitData } from '../src/data/splits.js';
import { augmentImage } from '../src/preprocess/augment.js';
import { decodeImage } from '../src/preprocess/image.js';
import type { ImageProcessor } from '../src/models/vision/index.js';
import { makeRng } from '../src/util/rng.js';
import type { TrainingConfig } from './config.js';
import { PxKSampler, type PxKBatch } from './data/sampler.js';
import type { Batch, DataSource } from './trainer.js';

/** db_path may name the database file (as the reference's configs do) or its data folder. */
export function dataDirOf(dbPath: string): string {
  if (!existsSync(dbPath)) throw new LogolabError(`db_path ${dbPath}: not found (run \`logolab prepare\` first)`);
  return statSync(dbPath).isDirectory() ? dbPath : dirname(dbPath);
}

export function dbDataSource(c: TrainingConfig, processor: ImageProcessor): DataSource & { info: string } {
  const db = openDataDb(dataDirOf(c.db_path));
  let crops: ReferenceCrop[];
  try {
    crops = db.referenceCrops();
  } finally {
    db.close?.();
  }
  const byLogo = new Map<string, ReferenceCrop[]>();
  for (const cr of crops) {
    const a = byLogo.get(cr.logoName);
    if (a) a.push(cr);
    else byLogo.set(cr.logoName, [cr]);
  }
  const splits = splitData(byLogo, { level: c.split_level, train: c.train_split, val: c.val_split, test: c.test_split, seed: c.seed });
  const train = new PxKSampler(splits.train, splits.labelOf, { logosPerBatch: c.logos_per_batch, samplesPerLogo: c.samples_per_logo, batchesPerEpoch: c.batches_per_epoch, seed: c.seed, name: 'train split' });
  // validation: every val crop once (logo order), at most val_batches × P·K of them, in P·K chunks.
  // (Not the P×K sampler: val brands may have a single crop under image-level splits, and
  // re-sampling would repeat images — the reference's inflated-recall bug.)
  const per = c.logos_per_batch * c.samples_per_logo;
  const valItems: { crop: ReferenceCrop; label: number }[] = [];
  for (const [logo, items] of splits.val) for (const it of items) valItems.push({ crop: it, label: splits.labelOf.get(logo)! });
  valItems.splice(c.val_batches * per);
  const numVal = Math.ceil(valItems.length / per);
  const { height, width } = processor.outputSize;
  const strength = c.use_augmentation ? c.augmentation_strength : 'none';

  const load = async (items: ReferenceCrop[], labels: Int32Array, augment: { epoch: number; index: number } | null): Promise<Batch> => {
    const n = items.length;
    const data = new Float32Array(n * 3 * height * width);
    for (let j = 0; j < n; j++) {
      const cr = items[j]!;
      let img = await decodeImage(cr.path, cr.file);
      if (augment && strength !== 'none') img = augmentImage(img, strength, makeRng(`aug:${c.seed}:${augment.epoch}:${augment.index}:${j}`));
      data.set(processor.process(img), j * 3 * height * width);
    }
    return { pixels: tf.tensor4d(data, [n, 3, height, width]), labels, ids: items.map((it) => String(it.id)) };
  };
  const i = splits.info;
  return {
    info: `data: ${i.splitLevel}-level split, train ${i.trainLogos} logos / ${i.trainImages} crops, val ${i.valLogos} / ${i.valImages}, test ${i.testLogos} / ${i.testImages}`,
    trainBatch: (epoch, index) => {
      const b: PxKBatch<ReferenceCrop> = train.batch(epoch, index);
      return load(b.items, b.labels, { epoch, index });
    },
    numValBatches: () => numVal,
    valBatch: (index) => {
      if (index >= numVal) throw new LogolabError(`val batch ${index}: only ${numVal}`);
      const part = valItems.slice(index * per, (index + 1) * per);
      return load(part.map((v) => v.crop), Int32Array.from(part.map((v) => v.label)), null);
    },
  };
}
