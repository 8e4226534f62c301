/**
 * The trainer's data source on the parallel loader: pixels are bit-identical to the serial
 * decode → augment(`aug:seed:epoch:index:slot`) → processor path for any num_workers; training
 * losses are identical with 0, 1 and 4 workers, across a resume with another worker count, and
 * when a worker is killed mid-epoch; a corrupt crop is replaced deterministically and counted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tmpDir, useBackend } from '../helpers.js';
import { openDataDb } from '../../src/data/db.js';
import type { ReferenceCrop } from '../../src/data/db-schema.js';
import { augmentImage } from '../../src/preprocess/augment.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig } from '../../src/preprocess/processors.js';
import { makeRng } from '../../src/util/rng.js';
import { dbDataSource, type DbDataSource } from '../../training/data_source.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { makeDataDir } from './prepared-data.js';
import { cfg } from './tiny-config.js';

process.env.LOGOLAB_QUIET = '1';

const processor = imageProcessorFromConfig(defaultPreprocessorConfig('clip', 32));

describe('data source on the parallel loader', () => {
  let data = '';
  let crops = new Map<string, ReferenceCrop>();
  before(async () => {
    await useBackend('cpu');
    data = await makeDataDir(6, 6);
    const db = openDataDb(data);
    crops = new Map(db.referenceCrops().map((c) => [String(c.id), c]));
    db.close();
  });
  after(() => rmSync(data, { recursive: true, force: true }));

  const config = (over: Record<string, unknown>) =>
    cfg({
      db_path: data, split_level: 'image', train_split: 0.5, val_split: 0.5, test_split: 0, logos_per_batch: 3, samples_per_logo: 2, gradient_accumulation_steps: 1,
      batches_per_epoch: 3, val_batches: 1, max_epochs: 2, warmup_steps: 1, freeze_layers: 1, augmentation_strength: 'medium', checkpoint_dir: tmpDir(), ...over,
    });

  it('validation over the cap: spread (default) gives 3 logos a pair each; first keeps the first crops in logo-name order; info says which', async () => {
    const logosOf = async (over: Record<string, unknown>) => {
      const ds = dbDataSource({ ...config(over), num_workers: 0 }, processor);
      try {
        assert.equal(ds.numValBatches(), 1);
        const b = await ds.valBatch(0);
        b.pixels.dispose();
        return { logos: b.ids!.map((id) => crops.get(id)!.logoName), info: ds.info };
      } finally {
        await ds.close();
      }
    };
    const spread = await logosOf({});
    const counts = new Map<string, number>();
    for (const l of spread.logos) counts.set(l, (counts.get(l) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [2, 2, 2], spread.logos.join(','));
    assert.match(spread.info, /\(validated on 6 crops of 3 logos: val_batches × P·K, val_subset spread\)/);
    const first = await logosOf({ val_subset: 'first' });
    assert.deepEqual(first.logos, [...first.logos].sort());
    assert.ok(new Set(first.logos).size <= 2, `first: ${first.logos.join(',')}`); // 6 crops of 6-crop brands, half in val: 1–2 logos
    assert.match(first.info, /val_subset first\)/);
  });

  it('pixels = the serial path (decode → augment aug:seed:epoch:index:slot → processor), bit for bit, with 0 and 2 workers', async () => {
    const c = config({});
    const want = async (ids: string[], aug: { epoch: number; index: number } | null) => {
      const out: Float32Array[] = [];
      for (const [j, id] of ids.entries()) {
        let img = await decodeImage(crops.get(id)!.path);
        if (aug) img = augmentImage(img, 'medium', makeRng(`aug:${c.seed}:${aug.epoch}:${aug.index}:${j}`));
        out.push(processor.process(img));
      }
      return out;
    };
    for (const workers of [0, 2]) {
      const ds = dbDataSource({ ...c, num_workers: workers }, processor);
      try {
        for (const [epoch, index] of [[0, 0], [0, 2], [1, 0]] as const) {
          const b = await ds.trainBatch(epoch, index);
          const px = b.pixels.dataSync() as Float32Array;
          b.pixels.dispose();
          const ref = await want(b.ids!, { epoch, index });
          ref.forEach((r, j) => assert.deepEqual(px.subarray(j * r.length, (j + 1) * r.length), r, `workers ${workers} batch ${epoch}:${index} slot ${j}`));
        }
        const v = await ds.valBatch(0);
        const px = v.pixels.dataSync() as Float32Array;
        v.pixels.dispose();
        const ref = await want(v.ids!, null);
        ref.forEach((r, j) => assert.deepEqual(px.subarray(j * r.length, (j + 1) * r.length), r, `workers ${workers} val slot ${j}`));
      } finally {
        await ds.close();
      }
    }
  });

  /** Trains the tiny model; `stopAfter` steps then keeps the checkpoint dir, `resume` continues from one. */
  const train = async (workers: number, o: { kill?: number; stopAfter?: number; resume?: string } = {}) => {
    const c = config({ num_workers: workers, ...(o.resume ? { checkpoint_dir: o.resume } : {}) });
    const tm = await buildTrainableModel(c);
    let dispatched = 0;
    const ds: DbDataSource = dbDataSource(c, tm.model.processor, {
      onWarn: () => {},
      // kill the worker a job was just sent to (the job is then lost with it and must be re-sent)
      onPoolEvent: (e) => void (e.kind === 'dispatch' && ++dispatched === o.kill && e.worker.terminate()),
    });
    const losses: number[] = [];
    const tr = new Trainer(c, tm, ds, { quiet: true, onStep: (s) => losses.push(s.loss), stopAfterSteps: o.stopAfter });
    try {
      if (o.resume) tr.resume(loadCheckpoint(join(o.resume, 'last.ckpt')), o.resume);
      const res = await tr.train();
      return { losses, val: res.history.map((h) => h.val), stats: ds.stats(), wait: res.history.map((h) => h.data_wait_fraction), dir: c.checkpoint_dir };
    } finally {
      await ds.close();
      tr.dispose();
      tm.dispose();
      if (!o.stopAfter) rmSync(c.checkpoint_dir, { recursive: true, force: true });
    }
  };

  it('same losses and validation with 0, 1 and 4 workers, resumed with another count, and with a worker killed mid-epoch', async () => {
    const before = tf.memory().numTensors;
    const ref = await train(0);
    assert.equal(ref.losses.length, 6);
    assert.ok(ref.wait.every((w) => typeof w === 'number' && w >= 0 && w <= 1), `data_wait_fraction ${ref.wait}`);
    const one = await train(1);
    assert.deepEqual(one.losses, ref.losses, '1 worker');
    assert.deepEqual(one.val, ref.val, '1 worker');
    // 4 workers for steps 1–4 (into epoch 2), then resumed with 2 workers, one of which is killed
    // right after a job is posted to it (dispatch 8 of the resumed run: epoch 2's batch 1 or 2)
    const four = await train(4, { stopAfter: 4 });
    const killed = await train(2, { resume: four.dir, kill: 8 });
    assert.deepEqual([...four.losses, ...killed.losses], ref.losses, '4 workers, resumed with 2, one killed');
    assert.deepEqual(killed.val, ref.val, '4 workers, resumed with 2, one killed');
    assert.ok(killed.stats.workerRestarts >= 1, 'a worker was replaced');
    assert.ok(killed.stats.retried >= 1, 'its jobs were sent again');
    assert.equal(tf.memory().numTensors, before);
  });

  it('a corrupt crop is replaced by another crop of its logo, the same with 0 and 2 workers, and counted', async () => {
    const c = config({ split_level: 'logo', train_split: 1, val_split: 0, test_split: 0 });
    // three of brand2's six crops are corrupt, so every batch with brand2 meets one
    const bad = [...crops.values()].filter((cr) => cr.logoName === 'brand2').slice(0, 3);
    const saved = bad.map((cr) => readFileSync(cr.path));
    for (const cr of bad) writeFileSync(cr.path, 'not a png');
    try {
      const load = async (workers: number) => {
        const ds = dbDataSource({ ...c, num_workers: workers, batches_per_epoch: 8 }, processor, { onWarn: () => {} });
        try {
          const out: { ids: string[]; px: Float32Array }[] = [];
          for (let i = 0; i < 8; i++) {
            const b = await ds.trainBatch(0, i);
            out.push({ ids: b.ids!, px: b.pixels.dataSync() as Float32Array });
            b.pixels.dispose();
          }
          return { out, stats: ds.stats() };
        } finally {
          await ds.close();
        }
      };
      const a = await load(0);
      const b = await load(2);
      assert.deepEqual(b.out, a.out);
      assert.ok(a.stats.corruptFiles >= 1 && a.stats.refilled >= a.stats.corruptFiles, JSON.stringify(a.stats));
      assert.equal(b.stats.corruptFiles, a.stats.corruptFiles);
      assert.equal(b.stats.refilled, a.stats.refilled);
      const badIds = new Set(bad.map((cr) => String(cr.id)));
      for (const o of a.out) {
        assert.ok(!o.ids.some((id) => badIds.has(id)));
        // K = 2 consecutive slots per logo: a refilled slot holds a crop of its own logo
        for (let s = 0; s < o.ids.length; s += 2) assert.equal(crops.get(o.ids[s]!)!.logoName, crops.get(o.ids[s + 1]!)!.logoName);
      }
    } finally {
      bad.forEach((cr, i) => writeFileSync(cr.path, saved[i]!));
    }
  });
});
