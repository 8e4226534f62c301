import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, useBackend } from '../helpers.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { synthSource } from './synth-source.js';
import { cfg } from './tiny-config.js';
import { trainRun } from './run-trainer.js';

process.env.LOGOLAB_QUIET = '1';


const data = () => synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 1 });

describe('trainer end to end (tiny CLIP, synthetic brands, wasm)', () => {
  before(() => useBackend('wasm'));

  it('separation rises by ≥ 0.1; history, log, best/last/periodic checkpoints written', async () => {
    const dir = tmpDir();
    // freeze_layers 1: embeddings frozen (tfjs-wasm has no Conv2DBackpropFilter kernel for the
    // patch conv); layers 1–3, post_layernorm and visual_projection are trained as variables
    const c = cfg({ checkpoint_dir: dir, max_epochs: 3, freeze_layers: 1 });
    const tm = await buildTrainableModel(c);
    const tr = new Trainer(c, tm, data(), { quiet: true });
    const before = (await tr.validate())!;
    const res = await tr.train();
    tr.dispose();
    tm.dispose();
    const after = res.history.at(-1)!.val!;
    assert.equal(res.status, 'completed');
    assert.equal(res.steps, 12);
    assert.ok(after.separation! - before.separation >= 0.1, `separation ${before.separation.toFixed(4)} → ${after.separation!.toFixed(4)}`);
    const hist = JSON.parse(readFileSync(join(dir, 'training_history.json'), 'utf8'));
    assert.equal(hist.length, 3);
    for (const f of ['train.log', 'best.ckpt', 'last.ckpt', 'epoch_2.ckpt']) assert.ok(existsSync(join(dir, f)), f);
    const last = loadCheckpoint(join(dir, 'last.ckpt'));
    assert.equal(last.state.epoch, 3);
    assert.equal(last.state.global_step, 12);
    assert.equal(last.state.history.length, 3);
    assert.ok(last.params.has('visual_projection.weight') && last.params.has('encoder.layers.1.mlp.fc1.weight') && !last.params.has('encoder.layers.0.mlp.fc1.weight'));
    console.log(`# separation ${before.separation.toFixed(4)} → ${hist.map((h: { val: { separation: number } }) => h.val.separation.toFixed(4)).join(' → ')}`);
  });

  it('resume from a mid-epoch checkpoint reproduces the next 5 losses (≤1e-6), LoRA with dropout', async () => {
    const over = { base_model: 'preset:tiny', lora_r: 4, lora_alpha: 8, lora_dropout: 0.2, freeze_layers: 1, learning_rate: 5e-3, max_epochs: 3 };
    const runA = async () => {
      const dir = tmpDir();
      const c = cfg({ ...over, checkpoint_dir: dir });
      const tm = await buildTrainableModel(c);
      const losses: number[] = [];
      const tr = new Trainer(c, tm, data(), { quiet: true, onStep: (s) => losses.push(s.loss) });
      await tr.train();
      tr.dispose();
      tm.dispose();
      return losses;
    };
    const full = await runA();
    const dir = tmpDir();
    const c = cfg({ ...over, checkpoint_dir: dir });
    const tm1 = await buildTrainableModel(c);
    const first: number[] = [];
    const tr1 = new Trainer(c, tm1, data(), { quiet: true, stopAfterSteps: 6, onStep: (s) => first.push(s.loss) });
    const r1 = await tr1.train();
    tr1.dispose();
    tm1.dispose();
    assert.equal(r1.status, 'interrupted');
    const ck = loadCheckpoint(r1.last_checkpoint);
    assert.equal(ck.state.global_step, 6);
    assert.equal(ck.state.batch_in_epoch, 4); // mid-epoch 2
    const tm2 = await buildTrainableModel(c);
    // the same checkpoint under another accumulation that does not divide its 4 micro-batches, or
    // a schedule that ends before its step 6: refused, not run with fractional steps or at lr 0
    for (const [over2, why] of [[{ gradient_accumulation_steps: 3 }, /after 4 micro-batches, which gradient_accumulation_steps 3 \(the checkpoint's: 2\) does not divide/], [{ gradient_accumulation_steps: 4, max_epochs: 2 }, /optimizer step 6 with 1 steps left under this config, but its learning-rate schedule ends at step 4 \(2 steps per epoch: batches_per_epoch 8 \/ gradient_accumulation_steps 4 \(the checkpoint's: 2\), × max_epochs 2\): the last 1 steps would train at its floor \(learning rate 0\)/]] as const) {
      const bad = new Trainer({ ...c, ...over2 }, tm2, data(), { quiet: true });
      try {
        assert.throws(() => bad.resume(ck, r1.last_checkpoint), (e: Error) => e.name === 'LogolabError' && why.test(e.message));
      } finally {
        bad.dispose();
      }
    }
    const next: number[] = [];
    const tr2 = new Trainer(c, tm2, data(), { quiet: true, onStep: (s) => next.push(s.loss) });
    tr2.resume(ck, r1.last_checkpoint);
    const r2 = await tr2.train();
    tr2.dispose();
    tm2.dispose();
    assert.equal(r2.steps, 12);
    assert.deepEqual(first, full.slice(0, 6));
    const diffs = next.slice(0, 5).map((l, i) => Math.abs(l - full[6 + i]!));
    assert.equal(next.length, 6);
    assert.ok(Math.max(...diffs) <= 1e-6, `next-5 loss diffs ${diffs.join(', ')}`);
    assert.deepEqual(r2.history.map((h) => h.epoch), [1, 2, 3]);
    console.log(`# resume: max |Δloss| over the next 5 steps = ${Math.max(...diffs)}`);
  });


  it('a stop during validation acts before its next micro-batch; the resume validates that epoch as an uninterrupted run does', async () => {
    const run = (c: ReturnType<typeof cfg>, src: ReturnType<typeof data>, resume?: string) => trainRun(c, src, { handleSignals: true, ...(resume ? { resume } : {}) });
    const c = (dir: string) => cfg({ checkpoint_dir: dir, max_epochs: 1, freeze_layers: 1 });
    const full = await run(c(tmpDir()), data());
    const dir = tmpDir();
    const src = data();
    assert.equal(src.numValBatches(), 2);
    const valBatch = src.valBatch.bind(src);
    let asked = 0;
    src.valBatch = async (i) => {
      asked++;
      if (asked === 1) process.emit('SIGINT'); // as Ctrl-C during the first validation micro-batch
      return valBatch(i);
    };
    const stopped = await run(c(dir), src);
    assert.equal(stopped.status, 'interrupted');
    assert.equal(asked, 1, 'the second validation micro-batch was not embedded');
    const ck = loadCheckpoint(stopped.last_checkpoint);
    assert.deepEqual([ck.state.epoch, ck.state.batch_in_epoch, ck.state.global_step, ck.state.history.length], [0, 8, 4, 0]);
    const resumed = await run(c(dir), data(), stopped.last_checkpoint);
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.steps, 4);
    assert.deepEqual(resumed.history.map((h) => h.val), full.history.map((h) => h.val));
    assert.equal(resumed.history[0]!.train_loss, full.history[0]!.train_loss);
  });
});

describe('stop_after_epochs (wasm)', () => {
  before(() => useBackend('wasm'));

  it("ends a completed run after that epoch with the max_epochs schedule: its steps equal the full run's first steps", async () => {
    const run = async (over: Record<string, unknown>) => {
      const dir = tmpDir();
      const c = cfg({ checkpoint_dir: dir, max_epochs: 3, freeze_layers: 1, ...over });
      const tm = await buildTrainableModel(c);
      const steps: { loss: number; lr: number }[] = [];
      const tr = new Trainer(c, tm, data(), { quiet: true, onStep: (s) => steps.push({ loss: s.loss, lr: s.lr }) });
      try {
        return { res: await tr.train(), steps, dir };
      } finally {
        tr.dispose();
        tm.dispose();
      }
    };
    const cut = await run({ stop_after_epochs: 1 });
    assert.equal(cut.res.status, 'completed');
    assert.equal(cut.res.epochs, 1);
    assert.equal(cut.res.steps, 4);
    assert.equal(cut.res.history.length, 1);
    assert.ok(cut.res.best_checkpoint && existsSync(cut.res.best_checkpoint));
    assert.match(readFileSync(join(cut.dir, 'train.log'), 'utf8'), /stopped after epoch 1 of the 3-epoch schedule/);
    const full = await run({});
    assert.equal(full.res.steps, 12);
    // same learning rates (the 3-epoch cosine, not a 1-epoch one) and the same losses
    assert.deepEqual(cut.steps, full.steps.slice(0, 4));
    const oneEpoch = await run({ max_epochs: 1 });
    assert.notDeepEqual(oneEpoch.steps.map((s) => s.lr), cut.steps.map((s) => s.lr));
    for (const d of [cut.dir, full.dir, oneEpoch.dir]) rmSync(d, { recursive: true, force: true });
  });
});
