import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { tmpDir, useBackend } from '../helpers.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';

process.env.LOGOLAB_QUIET = '1';



describe('trainer memory (wasm)', () => {
  before(() => useBackend('wasm'));

  it('tf.memory().numTensors is constant across 50 steps (standard) and 20 steps (cached)', async () => {
    for (const mode of ['standard', 'cached'] as const) {
      const dir = tmpDir();
      const c = cfg({ checkpoint_dir: dir, lora_r: 4, lora_alpha: 8, lora_dropout: 0.1, freeze_layers: 2, batches_per_epoch: mode === 'standard' ? 50 : 20, gradient_accumulation_steps: 1, max_epochs: 1, contrastive_batch: mode, batch_size: 3, eval_every_n_epochs: 1, warmup_steps: 0 });
      const tm = await buildTrainableModel(c);
      const counts: number[] = [];
      const small = synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 2, K: 2, seed: 1, valBatches: 1 });
      const tr = new Trainer(c, tm, small, { quiet: true, onStep: () => counts.push(tf.memory().numTensors) });
      await tr.train();
      tr.dispose();
      tm.dispose();
      assert.equal(counts.length, mode === 'standard' ? 50 : 20);
      assert.ok(counts.every((n) => n === counts[0]), `${mode}: numTensors ${counts[0]} … ${Math.max(...counts)}`);
    }
  });
});
