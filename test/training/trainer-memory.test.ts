import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { tmpDir, useBackend } from '../helpers.js';
import { parseConfig, type TrainingConfig } from '../../training/config.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { synthSource } from './synth-source.js';

process.env.LOGOLAB_QUIET = '1';

function cfg(over: Record<string, unknown>): TrainingConfig {
  return parseConfig(
    {
      base_model: 'preset:tiny', lora_r: 0, freeze_layers: 0, logos_per_batch: 4, samples_per_logo: 4, gradient_accumulation_steps: 2,
      batches_per_epoch: 8, val_batches: 10, batch_size: 16, warmup_steps: 2, learning_rate: 1e-3, weight_decay: 0.01, max_epochs: 3,
      temperature: 0.1, seed: 7, patience: 5, save_every_n_epochs: 2, mixed_precision: false, ...over,
    },
    'test config',
  );
}


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
