import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { PARITY_BACKENDS, useBackend, maxAbsDiff, maxAbs, expectNoLeak, tmpDir } from '../helpers.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { loadVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import { loadAdapter, saveAdapter, mergeLora, unmergeLora, loraParameterCount, activeSites, removeLora } from '../../src/models/lora/index.js';
import { createHead } from '../../src/models/heads.js';
import { getLoss } from '../../training/losses/index.js';
import { lossAndGrads } from '../../training/recompute.js';
import { visionGraph } from '../../training/vision_graph.js';
import { ADAPTER, LORA, io, ioTensor, labels, loadTiny, pixels, values } from './fixture.js';

function embeds(model: VisionModel): Float32Array {
  return tf.tidy(() => {
    const x = pixels();
    return model.forward(x).imageEmbeds.dataSync() as Float32Array;
  });
}

const report: string[] = [];
const note = (s: string) => {
  report.push(s);
  if (process.env.LOGOLAB_VERBOSE) console.log(s);
};

for (const backend of PARITY_BACKENDS) {
  test(`lora: peft adapter embeddings ≤ 1e-4, merged ≤ 1e-5 (io and lora/merged), unmerge restores [${backend}]`, async () => {
    await useBackend(backend);
    const model = await loadTiny();
    const merged = await loadVisionModel(join(LORA, 'merged'), { quiet: true });
    try {
      await expectNoLeak(() => {
        const base = embeds(model);
        const rep = loadAdapter(model, ADAPTER);
        assert.deepEqual(rep.sites, ['layer 2 q_proj', 'layer 2 v_proj', 'layer 3 q_proj', 'layer 3 v_proj']);
        assert.equal(rep.trainable, 4 * 4 * (64 + 64));
        assert.equal(loraParameterCount(model), rep.trainable);
        const withAdapter = embeds(model);
        const want = ioTensor('image_embeds').data;
        const e1 = maxAbsDiff(withAdapter, want);
        note(`[${backend}] adapter image_embeds max abs err ${e1.toExponential(2)} (adapter changes them by ${maxAbsDiff(base, want).toExponential(2)})`);
        assert.ok(e1 <= 1e-4, `adapter embeds err ${e1}`);
        assert.equal(mergeLora(model), 4);
        assert.equal(activeSites(model).length, 0);
        const m = embeds(model);
        const e2 = maxAbsDiff(m, ioTensor('image_embeds_merged').data);
        const e3 = maxAbsDiff(m, embeds(merged));
        note(`[${backend}] merged: vs io image_embeds_merged ${e2.toExponential(2)}, vs lora/merged checkpoint ${e3.toExponential(2)}`);
        assert.ok(e2 <= 1e-5, `merged vs io ${e2}`);
        assert.ok(e3 <= 1e-5, `merged vs lora/merged ${e3}`);
        assert.equal(unmergeLora(model), 4);
        const e4 = maxAbsDiff(embeds(model), withAdapter);
        note(`[${backend}] unmerged vs adapter ${e4.toExponential(2)}`);
        assert.ok(e4 <= 1e-5);
        removeLora(model);
      });
    } finally {
      model.dispose();
      merged.dispose();
    }
  });

  test(`lora: InfoNCE loss = values.json ≤ 1e-5 and gradients of every A/B = fixture (≤ 1e-3·max|g|), plain and recomputed [${backend}]`, async () => {
    await useBackend(backend);
    const model = await loadTiny();
    try {
      loadAdapter(model, ADAPTER);
      const head = createHead('clip', model);
      const x = pixels();
      const loss = getLoss('infonce', { temperature: 0.07 });
      for (const recompute of [false, true]) {
        await expectNoLeak(() => {
          const { loss: l, grads } = lossAndGrads(visionGraph(model, head, x, labels(), loss), { recompute });
          const lv = l.dataSync()[0]!;
          const dl = Math.abs(lv - values['loss_infonce_t0.07']);
          let worst = 0;
          let count = 0;
          for (const s of activeSites(model)) {
            for (const which of ['A', 'B'] as const) {
              const v = which === 'A' ? s.lora.A : s.lora.B;
              const g = tf.tidy(() => grads[v.name]!.transpose().dataSync() as Float32Array); // ours [in,r]/[r,out] → peft [r,in]/[out,r]
              const key = `grad.base_model.model.vision_model.encoder.layers.${s.layer}.self_attn.${s.target}.lora_${which}.default.weight`;
              const want = ioTensor(key).data;
              const err = maxAbsDiff(g, want);
              const rel = err / maxAbs(want);
              worst = Math.max(worst, rel);
              count++;
              assert.ok(rel <= 1e-3, `${key}: max abs err ${err} = ${rel} × max|g| (recompute=${recompute})`);
            }
          }
          assert.equal(count, values.trainable.length);
          note(`[${backend}] recompute=${recompute}: |Δloss| ${dl.toExponential(2)}, worst grad err ${worst.toExponential(2)}·max|g| over ${count} tensors`);
          assert.ok(dl <= 1e-5, `loss ${lv} vs ${values['loss_infonce_t0.07']}`);
          l.dispose();
          for (const t of Object.values(grads)) t.dispose();
        });
      }
      x.dispose();
    } finally {
      model.dispose();
    }
  });
}

test('lora: save → load round trip gives identical embeddings and peft layout (keys, shapes, config fields)', async () => {
  await useBackend('wasm');
  const a = await loadTiny();
  const b = await loadTiny();
  const dir = tmpDir();
  try {
    loadAdapter(a, ADAPTER);
    const { keys } = saveAdapter(a, dir, { baseModel: 'clip_tiny/model' });
    assert.deepEqual(readdirSync(dir).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
    const ours = SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
    const theirs = SafetensorsFile.open(join(ADAPTER, 'adapter_model.safetensors'));
    try {
      assert.deepEqual(ours.keys().sort(), theirs.keys().sort());
      assert.deepEqual(keys, theirs.keys().sort());
      for (const k of theirs.keys()) {
        assert.deepEqual(ours.info(k).shape, theirs.info(k).shape, k);
        assert.equal(ours.info(k).dtype, 'F32');
        assert.deepEqual(ours.read(k).data, theirs.read(k).data, `${k}: values differ after transpose round trip`);
      }
      assert.deepEqual(ours.metadata, { format: 'pt' });
    } finally {
      ours.close();
      theirs.close();
    }
    const cfgOurs = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    const cfgPeft = JSON.parse(readFileSync(join(ADAPTER, 'adapter_config.json'), 'utf8'));
    for (const k of Object.keys(cfgOurs)) assert.ok(k in cfgPeft, `field '${k}' is not a peft adapter_config field`);
    for (const k of ['r', 'lora_alpha', 'lora_dropout', 'target_modules', 'layers_to_transform', 'layers_pattern', 'peft_type', 'bias', 'fan_in_fan_out', 'use_rslora', 'use_dora', 'modules_to_save', 'rank_pattern', 'alpha_pattern', 'auto_mapping', 'base_model_name_or_path', 'init_lora_weights', 'task_type']) {
      assert.deepEqual(cfgOurs[k], cfgPeft[k], `adapter_config field '${k}'`);
    }
    loadAdapter(b, dir);
    assert.deepEqual(embeds(b), embeds(a));
    assert.equal(b.fingerprint(), a.fingerprint());
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('lora: tf.memory().numTensors unchanged after 20 forward+backward steps (plain and recomputed)', async () => {
  await useBackend('wasm');
  const model = await loadTiny();
  try {
    loadAdapter(model, ADAPTER);
    const head = createHead('clip', model);
    const loss = getLoss('combined');
    const x = pixels();
    const before = tf.memory().numTensors;
    for (let step = 0; step < 20; step++) {
      const { loss: l, grads } = lossAndGrads(visionGraph(model, head, x, labels(), loss), { recompute: step % 2 === 1 });
      l.dispose();
      for (const t of Object.values(grads)) t.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('lora: loadVisionModel(dir, {adapter}) applies a peft adapter (the `embed --adapter` path); its fingerprint without the adapter is the base\'s', async () => {
  await useBackend('wasm');
  const m = await loadVisionModel(join(LORA, '..', 'clip_tiny/model'), { adapter: ADAPTER, quiet: true });
  try {
    assert.equal(loraParameterCount(m), 4 * 4 * (64 + 64));
    assert.ok(maxAbsDiff(embeds(m), ioTensor('image_embeds').data) <= 1e-4);
    // without its adapter the model's fingerprint is its base's (compare checks a base against an
    // embeddings file this way, on the candidate it loaded); with it, another one
    const base = await loadVisionModel(join(LORA, '..', 'clip_tiny/model'), { quiet: true });
    try {
      assert.equal(m.fingerprint({ lora: false }), base.fingerprint());
      assert.notEqual(m.fingerprint(), base.fingerprint());
    } finally {
      base.dispose();
    }
  } finally {
    m.dispose();
  }
  void io;
});
