/**
 * The trainer measures how long each step waits for its batches: data_wait_fraction per epoch in
 * training_history.json and the epoch line, with an "input-bound: raise num_workers" hint above 10 %;
 * the run's first batch (loader start-up) is reported apart as loader_startup_s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, useBackend } from '../helpers.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import type { DataSource } from '../../training/batch.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';

process.env.LOGOLAB_QUIET = '1';

test('trainer: data_wait_fraction per epoch in history and train.log; input-bound hint when batches are slow', async () => {
  await useBackend('cpu');
  const dir = tmpDir();
  const c = cfg({ checkpoint_dir: dir, max_epochs: 2, batches_per_epoch: 4, freeze_layers: 1, eval_every_n_epochs: 5, num_workers: 3 });
  const src = synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 1 });
  // epoch 1 fast; epoch 2 every batch takes 400 ms to arrive (far above a tiny-model step)
  const slow: DataSource = {
    ...src,
    trainBatch: async (epoch, index) => {
      if (epoch === 1) await new Promise((r) => setTimeout(r, 400));
      return src.trainBatch(epoch, index);
    },
  };
  const tm = await buildTrainableModel(c);
  const tr = new Trainer(c, tm, slow, { quiet: true });
  try {
    await tr.train();
  } finally {
    tr.dispose();
    tm.dispose();
  }
  const hist = JSON.parse(readFileSync(join(dir, 'training_history.json'), 'utf8')) as { data_wait_fraction: number; loader_startup_s?: number }[];
  assert.equal(hist.length, 2);
  // the run's first batch is the loader's start-up: reported on its own, not as data wait
  assert.ok(hist[0]!.loader_startup_s! >= 0 && hist[1]!.loader_startup_s === undefined);
  assert.ok(hist[0]!.data_wait_fraction >= 0 && hist[0]!.data_wait_fraction < 1);
  assert.ok(hist[1]!.data_wait_fraction > 0.1 && hist[1]!.data_wait_fraction <= 1, `slow epoch: ${hist[1]!.data_wait_fraction}`);
  const log = readFileSync(join(dir, 'train.log'), 'utf8');
  assert.match(log, /epoch 2\/2: .*data wait \d+\.\d%/);
  assert.match(log, /epoch 2: input-bound \(\d+% of the time waiting for data\): raise num_workers \(now 3\)/);
  rmSync(dir, { recursive: true, force: true });
});
