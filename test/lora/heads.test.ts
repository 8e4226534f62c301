import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend, maxAbsDiff, expectNoLeak, tmpDir } from '../helpers.js';
import { buildVisionModel } from '../../src/models/vision/index.js';
import { createHead, loadHead, saveHead, l2Normalize } from '../../src/models/heads.js';
import { readSafetensors, SafetensorsFile, writeSafetensors } from '../../src/io/safetensors.js';
import { LogolabError } from '../../src/errors.js';

test('heads: clip = normalize(visual_projection(pooler)); projection = normalize(LayerNorm(Linear(pooler))) by loops; save/load round trip', async () => {
  await useBackend('cpu');
  const m = buildVisionModel('clip', 'tiny', 'random', 1);
  const x = tf.randomNormal([3, 3, 32, 32], 0, 1, 'float32', 2) as tf.Tensor4D;
  const dir = tmpDir();
  try {
    await expectNoLeak(() => {
      const clip = createHead('clip', m);
      assert.equal(clip.outDim, 24);
      assert.equal(clip.variables.length, 0);
      const out = m.forward(x);
      const got = tf.tidy(() => clip.apply(m, out.poolerOutput).dataSync());
      const want = tf.tidy(() => l2Normalize(out.imageEmbeds).dataSync());
      assert.ok(maxAbsDiff(got, want) <= 1e-7);

      const proj = createHead('projection', m, 7);
      assert.equal(proj.outDim, 64);
      assert.equal(proj.variables.length, 4);
      // perturb LayerNorm params so the check covers them
      tf.tidy(() => proj.variables[2]!.assign(tf.randomUniform([64], 0.5, 1.5, 'float32', 3)));
      tf.tidy(() => proj.variables[3]!.assign(tf.randomUniform([64], -0.1, 0.1, 'float32', 4)));
      const e = tf.tidy(() => proj.apply(m, out.poolerOutput).dataSync());
      // loop reference
      const p = out.poolerOutput.arraySync();
      const W = proj.variables[0]!.arraySync() as number[][]; // [in, out]
      const b = proj.variables[1]!.dataSync();
      const g = proj.variables[2]!.dataSync();
      const beta = proj.variables[3]!.dataSync();
      const ref: number[] = [];
      for (const row of p) {
        const y = Array.from({ length: 64 }, (_, o) => row.reduce((s, v, i) => s + v * W[i]![o]!, b[o]!));
        const mu = y.reduce((s, v) => s + v, 0) / 64;
        const vr = y.reduce((s, v) => s + (v - mu) ** 2, 0) / 64;
        const z = y.map((v, o) => ((v - mu) / Math.sqrt(vr + 1e-5)) * g[o]! + beta[o]!);
        const nrm = Math.sqrt(z.reduce((s, v) => s + v * v, 0));
        ref.push(...z.map((v) => v / nrm));
      }
      assert.ok(maxAbsDiff(e, ref) <= 1e-5, `projection head vs loops ${maxAbsDiff(e, ref)}`);
      saveHead(proj, dir);
      const f = SafetensorsFile.open(join(dir, 'projection_head.safetensors'));
      assert.deepEqual(f.keys().sort(), ['0.bias', '0.weight', '1.bias', '1.weight']);
      assert.deepEqual(f.info('0.weight').shape, [64, 64]);
      f.close();
      const back = loadHead(dir, m);
      assert.deepEqual(tf.tidy(() => back.apply(m, out.poolerOutput).dataSync()), e);
      back.dispose();
      proj.dispose();
      for (const t of [out.lastHiddenState, out.poolerOutput, out.imageEmbeds]) t.dispose();
    });
    const cfgPath = join(dir, 'head_config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, in_dim: 32 }));
    assert.throws(() => loadHead(dir, m), (err: Error) => err instanceof LogolabError && /field 'in_dim'/.test(err.message));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, bias: true }));
    assert.throws(() => loadHead(dir, m), /field 'bias': unknown key/);
    // an eps that JSON reads as Infinity, a NaN weight, a clip head of another width: errors, not zeros or NaN embeddings
    writeFileSync(cfgPath, JSON.stringify(cfg).replace(/("layer_norm_eps":)[^,}]+/, '$11e999'));
    assert.throws(() => loadHead(dir, m), /field 'layer_norm_eps': must be a positive finite number/);
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const wPath = join(dir, 'projection_head.safetensors');
    const w = readSafetensors(wPath);
    const w0 = w.get('0.weight')!;
    const poisoned = Float32Array.from(w0.data as Float32Array);
    poisoned[5] = NaN;
    writeSafetensors(wPath, Object.fromEntries([...w].map(([k, t]) => [k, { shape: t.shape, data: k === '0.weight' ? poisoned : (t.data as Float32Array) }])));
    assert.throws(() => loadHead(dir, m), /tensor '0\.weight' holds NaN at index 5; refusing to load a broken head/);
    writeFileSync(cfgPath, JSON.stringify({ kind: 'clip', out_dim: 'abc' }));
    assert.throws(() => loadHead(dir, m), /field 'out_dim': "abc" does not match this model's embedding size/);
    assert.throws(() => createHead('mlp', m), /unknown kind 'mlp'/);
  } finally {
    x.dispose();
    m.dispose();
  }
});
