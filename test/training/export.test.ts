import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { ROOT, tmpDir, useBackend, maxAbsDiff } from '../helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { l2Normalize } from '../../src/models/heads.js';
import { loadAdapter } from '../../src/models/lora/io.js';
import { parseConfig } from '../../training/config.js';
import { buildTrainableModel, embed, loadBaseModel } from '../../training/model.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { Trainer } from '../../training/trainer.js';
import { exportCheckpoint } from '../../training/export.js';
import { synthSource } from './synth-source.js';

process.env.LOGOLAB_QUIET = '1';

describe('export (hf → logolab embed, peft → reload)', () => {
  before(() => useBackend('wasm'));

  it('hf export equals in-trainer embeddings ≤1e-5 via `logolab embed`; peft adapter reloads ≤1e-5', async () => {
    const dir = tmpDir();
    const c = parseConfig({ base_model: 'preset:tiny', lora_r: 4, lora_alpha: 8, lora_dropout: 0.1, freeze_layers: 2, logos_per_batch: 4, samples_per_logo: 4, gradient_accumulation_steps: 1, batches_per_epoch: 4, max_epochs: 1, learning_rate: 5e-3, warmup_steps: 0, checkpoint_dir: dir, seed: 3 }, 'test');
    const tm = await buildTrainableModel(c);
    const tr = new Trainer(c, tm, synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 2 }), { quiet: true });
    const res = await tr.train();
    tr.dispose();
    const pixels = tf.randomNormal([5, 3, 32, 32], 0, 1, 'float32', 9) as tf.Tensor4D;
    const want = embed(tm.model, pixels, { training: false });
    const wantData = want.dataSync();
    // LoRA actually moved the model (B is no longer zero)
    const base = await loadBaseModel(c);
    const baseEmb = embed(base, pixels, { training: false });
    assert.ok(maxAbsDiff(baseEmb.dataSync(), wantData) > 1e-3, 'trained adapter changes the embeddings');
    baseEmb.dispose();

    // hf: merged weights, loaded by the CLI
    const hf = join(dir, 'hf');
    const r = await exportCheckpoint(res.last_checkpoint, hf, { format: 'hf' });
    assert.equal(r.merged, true);
    for (const f of ['model.safetensors', 'config.json', 'preprocessor_config.json', 'export_metadata.json']) assert.ok(existsSync(join(hf, f)), f);
    const cfgJson = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    assert.deepEqual(cfgJson.architectures, ['CLIPVisionModelWithProjection']);
    const keys = [...readSafetensors(join(hf, 'model.safetensors')).keys()];
    assert.ok(keys.includes('visual_projection.weight') && keys.includes('vision_model.encoder.layers.3.self_attn.q_proj.weight'));
    const pxFile = join(dir, 'px.safetensors');
    writeSafetensors(pxFile, { pixel_values: { shape: [5, 3, 32, 32], data: pixels.dataSync() as Float32Array } });
    const out = join(dir, 'emb.safetensors');
    const p = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'embed', '--backend', 'wasm', '--model', hf, '--pixels', pxFile, '--out', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOGOLAB_QUIET: '1' } });
    assert.equal(p.status, 0, p.stderr);
    const ie = readSafetensors(out).get('image_embeds')!;
    const got = tf.tidy(() => l2Normalize(tf.tensor2d(ie.data as Float32Array, ie.shape as [number, number])).dataSync());
    const dHf = maxAbsDiff(got, wantData);
    assert.ok(dHf <= 1e-5, `hf export vs trainer: ${dHf}`);
    const meta = JSON.parse(readFileSync(join(hf, 'export_metadata.json'), 'utf8'));
    assert.equal(meta.lora_merged, true);
    assert.equal(meta.training_epochs, 1);

    // peft: adapter only; reload onto the same base
    const peft = join(dir, 'peft');
    await exportCheckpoint(res.last_checkpoint, peft, { format: 'peft' });
    assert.ok(existsSync(join(peft, 'adapter_config.json')) && existsSync(join(peft, 'adapter_model.safetensors')) && existsSync(join(peft, 'export_metadata.json')));
    // trained on a preset: no name a peft loader could fetch, so none is claimed
    const peftCfg = JSON.parse(readFileSync(join(peft, 'adapter_config.json'), 'utf8'));
    assert.equal(peftCfg.base_model_name_or_path, null);
    assert.equal(peftCfg.revision, null);
    loadAdapter(base, peft);
    const re = embed(base, pixels, { training: false });
    const dPeft = maxAbsDiff(re.dataSync(), wantData);
    assert.ok(dPeft <= 1e-5, `peft reload vs trainer: ${dPeft}`);
    // logolab (default): base weights as an HF folder + adapter/ (unmerged)
    const ll = join(dir, 'logolab');
    const r3 = await exportCheckpoint(res.last_checkpoint, ll, {});
    assert.equal(r3.merged, false);
    // loading the export applies its adapter/ (it is the fine-tuned model)
    const llModel = await loadVisionModel(ll, { quiet: true });
    const llEmb = embed(llModel, pixels, { training: false });
    const dLl = maxAbsDiff(llEmb.dataSync(), wantData);
    assert.ok(dLl <= 1e-5, `logolab export vs trainer: ${dLl}`);
    llEmb.dispose();
    llModel.dispose();
    // a note a user keeps inside the export's adapter/ is not the export's: re-exporting is refused, the note kept
    writeFileSync(join(ll, 'adapter', 'README.md'), 'mine');
    await assert.rejects(exportCheckpoint(res.last_checkpoint, ll, {}), /--out \S+logolab: an earlier output of `logolab export` that also holds files it did not write \(adapter\/README\.md\); refusing/);
    assert.equal(readFileSync(join(ll, 'adapter', 'README.md'), 'utf8'), 'mine');
    console.log(`# export: logolab (base + adapter/) max |Δ| ${dLl.toExponential(2)}`);
    console.log(`# export: hf→embed max |Δ| ${dHf.toExponential(2)}, peft reload max |Δ| ${dPeft.toExponential(2)}`);
    re.dispose();
    base.dispose();
    want.dispose();
    pixels.dispose();
    tm.dispose();
    await assert.rejects(exportCheckpoint(res.last_checkpoint, join(dir, 'x'), { format: 'peft', mergeLora: true }), /--merge-lora cannot/);
  });
  it('full training of a preset with image_processor overrides exports them; best_metric val_loss picks by validation loss', async () => {
    const dir = tmpDir();
    const c = parseConfig({ base_model: 'preset:tiny', vision_config: { image_size: 32, patch_size: 8 }, image_processor: { do_center_crop: false, size: { height: 32, width: 32 } },
      lora_r: 0, freeze_layers: 0, logos_per_batch: 4, samples_per_logo: 4, batches_per_epoch: 2, max_epochs: 2, learning_rate: 1e-3, warmup_steps: 0,
      best_metric: 'val_loss', checkpoint_dir: dir, seed: 5 }, 'test');
    const tm = await buildTrainableModel(c);
    assert.deepEqual(tm.model.processor.outputSize, { height: 32, width: 32 });
    const tr = new Trainer(c, tm, synthSource({ classes: 6, itemsPerClass: 8, size: 32, P: 4, K: 4, seed: 2, valBatches: 1 }), { quiet: true });
    const res = await tr.train();
    tr.dispose();
    tm.dispose();
    const losses = res.history.map((h) => h.val!.loss!);
    assert.equal(res.best_metric, 'val_loss');
    assert.equal(res.best_score, Math.min(...losses));
    assert.equal(res.best_epoch, losses.indexOf(Math.min(...losses)) + 1);
    // --merge-lora on a checkpoint with no adapter would be silently ignored: refused, nothing written
    for (const format of ['logolab', 'hf'] as const) {
      await assert.rejects(
        exportCheckpoint(res.best_checkpoint!, join(dir, 'merged'), { format, mergeLora: true }),
        (e: Error) => !e.message.includes('\n') && e.message.startsWith(`${res.best_checkpoint}: --merge-lora needs a LoRA checkpoint, this one is full training (lora_r 0)`),
      );
      assert.ok(!existsSync(join(dir, 'merged')));
    }
    const hf = join(dir, 'hf');
    await exportCheckpoint(res.best_checkpoint!, hf, { format: 'hf' });
    const pp = JSON.parse(readFileSync(join(hf, 'preprocessor_config.json'), 'utf8'));
    assert.equal(pp.do_center_crop, false);
    assert.deepEqual(pp.size, { height: 32, width: 32 });
    const back = await loadVisionModel(hf, { quiet: true });
    assert.deepEqual(back.processor.outputSize, { height: 32, width: 32 });
    back.dispose();
    // a model folder brings its own preprocessor_config.json: overriding it is an error; so is an unknown field
    await assert.rejects(buildTrainableModel(parseConfig({ base_model: hf, image_processor: { do_center_crop: true } }, 'test')), /image_processor: only applies to base_model preset/);
    // an unknown field is caught when the config is read, before any model is built
    assert.throws(() => parseConfig({ base_model: 'preset:tiny', image_processor: { do_centre_crop: false } }, 'test'), /unknown key 'image_processor\.do_centre_crop'/);
  });
});
