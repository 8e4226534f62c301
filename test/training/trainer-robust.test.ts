import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { tmpDir, useBackend, maxAbsDiff } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { parseConfig, type TrainingConfig } from '../../training/config.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import type { DataSource } from '../../training/batch.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { recomputeGradFn } from '../../training/vision_graph.js';
import { synthSource } from './synth-source.js';

process.env.LOGOLAB_QUIET = '1';

function cfg(over: Record<string, unknown>): TrainingConfig {
  return parseConfig(
    {
      base_model: 'preset:tiny', lora_r: 4, lora_alpha: 8, lora_dropout: 0.1, freeze_layers: 2, logos_per_batch: 2, samples_per_logo: 2,
      gradient_accumulation_steps: 2, batches_per_epoch: 8, val_batches: 1, batch_size: 8, warmup_steps: 0, learning_rate: 1e-2,
      max_epochs: 1, seed: 5, mixed_precision: false, checkpoint_dir: tmpDir(), ...over,
    },
    'test config',
  );
}
const small = () => synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 2, K: 2, seed: 1, valBatches: 1 });

/** Poisons the pixels of the given micro-batches with NaN. */
function poisoned(src: DataSource, bad: Set<number>): DataSource {
  return {
    ...src,
    async trainBatch(e, i) {
      const b = await src.trainBatch(e, i);
      if (!bad.has(i)) return b;
      const px = tf.fill(b.pixels.shape, NaN) as tf.Tensor4D;
      b.pixels.dispose();
      return { ...b, pixels: px };
    },
  };
}

const snapshot = (t: Trainer) => new Map([...t.params].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));

describe('trainer robustness (wasm)', () => {
  before(() => useBackend('wasm'));

  it('a non-finite loss skips the step (weights untouched), is counted, and stops the run after max_nonfinite_steps', async () => {
    const c = cfg({ max_nonfinite_steps: 2 });
    const tm = await buildTrainableModel(c);
    const snaps: Map<string, Float32Array>[] = [];
    const infos: { skipped: boolean; loss: number }[] = [];
    // micro-batches 2,3 = step 2 and 6,7 = step 4 are poisoned
    const tr: Trainer = new Trainer(c, tm, poisoned(small(), new Set([2, 6])), {
      quiet: true,
      onStep: (s) => {
        infos.push(s);
        snaps.push(snapshot(tr));
      },
    });
    await assert.rejects(tr.train(), (e: unknown) => e instanceof LogolabError && /training stopped: 2 optimizer steps had a non-finite loss or gradient \(max_nonfinite_steps 2\)/.test(e.message));
    assert.deepEqual(infos.map((i) => i.skipped), [false, true, false, true]);
    for (const [k, v] of snaps[0]!) assert.equal(maxAbsDiff(v, snaps[1]!.get(k)!), 0, `${k} changed by a skipped step`);
    const last = loadCheckpoint(`${c.checkpoint_dir}/last.ckpt`);
    assert.equal(last.state.nonfinite_steps, 2);
    assert.equal(last.state.reason, 'nonfinite');
    tr.dispose();
    tm.dispose();
  });

  it('non-finite validation metrics are an error naming the epoch and metric: nothing of that epoch saved, no best', async () => {
    const c = cfg({ max_epochs: 2, batches_per_epoch: 2 });
    const tm = await buildTrainableModel(c);
    const src = small();
    let poison = false;
    // epoch 1 validates normally; from epoch 2 on the validation pixels are NaN (a diverged model's embeddings)
    const data: DataSource = {
      ...src,
      async valBatch(i) {
        const b = await src.valBatch(i);
        if (!poison) return b;
        const px = tf.fill(b.pixels.shape, NaN) as tf.Tensor4D;
        b.pixels.dispose();
        return { ...b, pixels: px };
      },
    };
    const tr = new Trainer(c, tm, data, { quiet: true, onStep: (s) => (poison = s.epoch === 1) });
    await assert.rejects(tr.train(), (e: unknown) => e instanceof LogolabError && /^epoch 2: non-finite validation metrics? .*separation NaN.*nothing of this epoch was saved or exported$/.test(e.message));
    const last = loadCheckpoint(`${c.checkpoint_dir}/last.ckpt`);
    assert.equal(last.state.epoch, 1);
    assert.equal(last.state.best_epoch, 1);
    assert.equal(loadCheckpoint(`${c.checkpoint_dir}/best.ckpt`).state.epoch, 1);
    // a run that is NaN from its first validation on (best_score still null) never gets a best.ckpt
    const c2 = cfg({ max_epochs: 1, batches_per_epoch: 2 });
    poison = true;
    const tr2 = new Trainer(c2, tm, data, { quiet: true });
    await assert.rejects(tr2.train(), /^LogolabError: epoch 1: non-finite validation metric/);
    assert.ok(!existsSync(`${c2.checkpoint_dir}/best.ckpt`) && !existsSync(`${c2.checkpoint_dir}/last.ckpt`));
    tr.dispose();
    tr2.dispose();
    tm.dispose();
  });

  it('no validation images: every epoch trained, no best checkpoint or early stopping (the final model is last.ckpt), one warning', async () => {
    const c = cfg({ max_epochs: 3, batches_per_epoch: 2, patience: 1 });
    const tm = await buildTrainableModel(c);
    const noVal = synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 2, K: 2, seed: 1, valBatches: 0 });
    const tr = new Trainer(c, tm, noVal, { quiet: true });
    const r = await tr.train();
    tr.dispose();
    tm.dispose();
    assert.equal(r.status, 'completed');
    assert.equal(r.epochs, 3);
    assert.deepEqual([r.best_epoch, r.best_score, r.best_checkpoint], [null, null, null]);
    assert.ok(r.history.every((h) => h.val === undefined));
    assert.ok(!existsSync(`${c.checkpoint_dir}/best.ckpt`));
    assert.equal(loadCheckpoint(r.last_checkpoint).state.epoch, 3);
    const warnings = readFileSync(`${c.checkpoint_dir}/train.log`, 'utf8').match(/0 validation images/g) ?? [];
    assert.equal(warnings.length, 1);
  });

  it('validation images but no two of one label: the drifting separation picks no best and stops nothing', async () => {
    const c = cfg({ max_epochs: 4, batches_per_epoch: 2, patience: 1 });
    const tm = await buildTrainableModel(c);
    const noPairs = synthSource({ classes: 8, itemsPerClass: 2, size: 32, P: 2, K: 2, seed: 1 });
    const tr = new Trainer(c, tm, noPairs, { quiet: true });
    const r = await tr.train();
    tr.dispose();
    tm.dispose();
    assert.equal(r.status, 'completed');
    assert.equal(r.epochs, 4);
    assert.deepEqual([r.best_epoch, r.best_checkpoint], [null, null]);
    assert.ok(r.history.every((h) => h.val !== undefined && (h.val.num_items ?? 0) > 0), 'the metrics are still recorded');
    const warnings = readFileSync(`${c.checkpoint_dir}/train.log`, 'utf8').match(/validation images share a label: no best checkpoint and no early stopping/g) ?? [];
    assert.equal(warnings.length, 1);
  });

  it('SIGINT: finishes the step, saves last.ckpt, returns interrupted', async () => {
    const c = cfg({});
    const tm = await buildTrainableModel(c);
    const tr = new Trainer(c, tm, small(), { quiet: true, handleSignals: true, onStep: (s) => s.step === 2 && process.emit('SIGINT') });
    const r = await tr.train();
    assert.equal(r.status, 'interrupted');
    assert.equal(tr.signal, 'SIGINT');
    const ck = loadCheckpoint(r.last_checkpoint);
    assert.equal(ck.state.global_step, 2);
    assert.equal(ck.state.reason, 'interrupt');
    assert.equal(process.listenerCount('SIGINT'), 0);
    tr.dispose();
    tm.dispose();
  });

  it('SIGINT during the last epoch’s validation: interrupted (not completed), last.ckpt saved as an interrupt', async () => {
    const c = cfg({ max_epochs: 1, batches_per_epoch: 2 });
    const tm = await buildTrainableModel(c);
    const src = small();
    const data: DataSource = {
      ...src,
      async valBatch(i) {
        process.emit('SIGINT');
        return src.valBatch(i);
      },
    };
    const tr = new Trainer(c, tm, data, { quiet: true, handleSignals: true });
    const r = await tr.train();
    assert.equal(r.status, 'interrupted');
    assert.equal(tr.signal, 'SIGINT');
    const ck = loadCheckpoint(r.last_checkpoint);
    assert.deepEqual([ck.state.reason, ck.state.epoch, ck.state.batch_in_epoch, ck.state.global_step], ['interrupt', 1, 0, 1]);
    assert.equal(r.history.length, 1);
    assert.equal(process.listenerCount('SIGINT'), 0);
    tr.dispose();
    tm.dispose();
  });

  it('full training from random init with freeze_layers 0 on wasm updates the patch embedding (our Conv2DBackpropFilter kernel)', async () => {
    const c = cfg({ lora_r: 0, freeze_layers: 0, batches_per_epoch: 2 });
    const tm = await buildTrainableModel(c);
    assert.equal(tm.params.size, tm.model.namedTensors().length);
    const before = Float32Array.from(tm.params.get('embeddings.patch_embedding.weight')!.dataSync());
    const tr = new Trainer(c, tm, small(), { quiet: true });
    await tr.train();
    assert.ok(maxAbsDiff(before, tm.params.get('embeddings.patch_embedding.weight')!.dataSync()) > 0);
    tr.dispose();
    tm.dispose();
  });

  it('use_gradient_checkpointing (per-block recomputation) gives the same losses as the plain tape', async () => {
    const run = async (recompute: boolean) => {
      const c = cfg({ batches_per_epoch: 6 });
      const tm = await buildTrainableModel(c);
      const losses: number[] = [];
      const tr = new Trainer(c, tm, small(), { quiet: true, gradFn: recompute ? recomputeGradFn : undefined, onStep: (s) => losses.push(s.loss) });
      await tr.train();
      tr.dispose();
      tm.dispose();
      return losses;
    };
    const a = await run(false);
    const b = await run(true);
    assert.ok(maxAbsDiff(a, b) <= 1e-5, `${a} vs ${b}`);
  });
});

describe('full training from random init, freeze_layers 0 (cpu: the patch conv has a gradient there)', () => {
  before(() => useBackend('cpu'));
  it('every tensor is a variable and the patch embedding is updated', async () => {
    const c = cfg({ lora_r: 0, freeze_layers: 0, batches_per_epoch: 2 });
    const tm = await buildTrainableModel(c);
    const n = [...tm.model.namedTensors()].length;
    assert.equal(tm.params.size, n);
    const before = tm.params.get('embeddings.patch_embedding.weight')!.dataSync().slice();
    const tr = new Trainer(c, tm, small(), { quiet: true });
    await tr.train();
    assert.ok(maxAbsDiff(before, tm.params.get('embeddings.patch_embedding.weight')!.dataSync()) > 0);
    tr.dispose();
    tm.dispose();
  });
});
