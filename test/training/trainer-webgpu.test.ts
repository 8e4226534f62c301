/**
 * The trainer on the GPU code path: 3 LoRA steps on webgpu (over Mesa where there is no GPU) give
 * the same losses as on cpu, finite, with tf.memory().numTensors steady. Recomputation on (the
 * default for GPU fine-tuning), AdamW, warmup, gradient clipping: the whole optimizer step.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PARITY_BACKENDS, tmpDir, useBackend } from '../helpers.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { recomputeGradFn } from '../../training/vision_graph.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';

process.env.LOGOLAB_QUIET = '1';

async function threeSteps(backend: string): Promise<{ losses: number[]; tensors: number[] }> {
  await useBackend(backend);
  const c = cfg({
    checkpoint_dir: tmpDir(), lora_r: 4, lora_alpha: 8, lora_dropout: 0, freeze_layers: 1, use_gradient_checkpointing: true,
    gradient_accumulation_steps: 1, batches_per_epoch: 3, max_epochs: 1, warmup_steps: 1, learning_rate: 5e-3, eval_every_n_epochs: 100,
  });
  const tm = await buildTrainableModel(c);
  const losses: number[] = [];
  const tensors: number[] = [];
  const data = synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 3, valBatches: 1 });
  const tr = new Trainer(c, tm, data, { quiet: true, stopAfterSteps: 3, gradFn: recomputeGradFn, onStep: (s) => (losses.push(s.loss), tensors.push(tf.memory().numTensors)) });
  try {
    await tr.train();
  } finally {
    tr.dispose();
    tm.dispose();
  }
  return { losses, tensors };
}

const gpuBackends = PARITY_BACKENDS.filter((b) => b === 'webgpu');

describe('trainer on the GPU code path (3 LoRA steps, recomputation)', () => {
  for (const backend of gpuBackends) {
    it(`${backend}: losses = cpu losses (≤ 1e-4), finite, numTensors steady`, async () => {
      const ref = await threeSteps('cpu');
      const got = await threeSteps(backend);
      const dmax = Math.max(...got.losses.map((l, i) => Math.abs(l - ref.losses[i]!)));
      console.log(`# 3 LoRA steps: cpu ${ref.losses.map((l) => l.toFixed(6)).join(' ')} | ${backend} ${got.losses.map((l) => l.toFixed(6)).join(' ')} | max |Δ| ${dmax.toExponential(2)}`);
      assert.equal(got.losses.length, 3);
      assert.ok(got.losses.every(Number.isFinite), `non-finite loss on ${backend}: ${got.losses}`);
      got.losses.forEach((l, i) => assert.ok(Math.abs(l - ref.losses[i]!) <= 1e-4, `step ${i + 1}: ${backend} ${l} vs cpu ${ref.losses[i]}`));
      assert.ok(got.tensors.every((n) => n === got.tensors[0]), `numTensors on ${backend}: ${got.tensors.join(' → ')}`);
    });
  }
});
