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
  const valLogos = [...splits.val.values()].filter((v) => v.length > 0).length;
  const valP = Math.min(c.logos_per_batch, valLogos);
  const val = valP > 0 ? new PxKSampler(splits.val, splits.labelOf, { logosPerBatch: valP, samplesPerLogo: c.samples_per_logo, batchesPerEpoch: c.val_batches, seed: c.seed + 1, name: 'val split' }) : null;
  const { height, width } = processor.outputSize;
  const strength = c.use_augmentation ? c.augmentation_strength : 'none';

  const load = async (b: PxKBatch<ReferenceCrop>, augment: boolean): Promise<Batch> => {
    const n = b.items.length;
    const data = new Float32Array(n * 3 * height * width);
    for (let j = 0; j < n; j++) {
      const cr = b.items[j]!;
      let img = await decodeImage(cr.path, cr.file);
      if (augment && strength !== 'none') img = augmentImage(img, strength, makeRng(`aug:${c.seed}:${b.epoch}:${b.index}:${j}`));
      data.set(processor.process(img), j * 3 * height * width);
    }
    return { pixels: tf.tensor4d(data, [n, 3, height, width]), labels: b.labels, ids: b.items.map((it) => String(it.id)) };
  };
  const i = splits.info;
  return {
    info: `data: ${i.splitLevel}-level split, train ${i.trainLogos} logos / ${i.trainImages} crops, val ${i.valLogos} / ${i.valImages}, test ${i.testLogos} / ${i.testImages}`,
    trainBatch: (epoch, index) => load(train.batch(epoch, index), true),
    numValBatches: () => (val ? c.val_batches : 0),
    valBatch: (index) => {
      if (!val) throw new LogolabError('val split is empty');
      return load(val.batch(0, index), false);
    },
  };
}
