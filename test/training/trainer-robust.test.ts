import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
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
