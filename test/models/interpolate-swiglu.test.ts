/**
 * Inputs other than the training size: CLIP and SigLIP interpolate their position embeddings as
 * transformers' interpolate_pos_encoding=True does (bicubic, align_corners=False, on the patch
 * grid), and DINOv2's SwiGLU MLP (giant). Compared with the plain-PyTorch reference
 * (scripts/torch_ref/vision_reference.py, itself checked against the transformers fixtures at
 * their own sizes) whose outputs are in test/fixtures/generated/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, PARITY_BACKENDS, expectNoLeak, maxAbsDiff, tmpDir, useBackend } from '../helpers.js';
import { readSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { loadVisionModel, type LoadReport } from '../../src/models/vision/index.js';
import { convertModel } from '../../src/models/format.js';
import { readFileSync } from 'node:fs';

const TOL = 1e-4;
const GEN = join(FIXTURES, 'generated');
const t4 = (h: HostTensor) => tf.tensor4d(h.data as Float32Array, h.shape as [number, number, number, number]);
const SIZES = ['48x48', '24x24', '40x56', '36x36'];

function err(name: string, got: tf.Tensor, want: HostTensor): number {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  const e = maxAbsDiff(got.dataSync(), want.data);
  assert.ok(e <= TOL, `${name}: max abs err ${e} > ${TOL}`);
  return e;
}

for (const backend of PARITY_BACKENDS) {
  for (const [family, keys] of [['clip', ['last_hidden_state', 'pooler_output', 'image_embeds']], ['siglip', ['last_hidden_state', 'pooler_output']]] as const) {
    test(`${family}_tiny at 48², 24², 40×56 and 36² px = the torch reference of interpolate_pos_encoding on ${backend}`, async () => {
      await useBackend(backend);
      const io = readSafetensors(join(GEN, 'interp', `${family}_io.safetensors`));
      const m = await loadVisionModel(join(FIXTURES, `${family}_tiny/model`), { quiet: true });
      try {
        let worst = 0;
        for (const s of SIZES) {
          const x = t4(io.get(`pixel_values_${s}`)!);
          const out = m.forward(x);
          const got: Record<string, tf.Tensor> = { last_hidden_state: out.lastHiddenState, pooler_output: out.poolerOutput, image_embeds: out.imageEmbeds };
          for (const k of keys) worst = Math.max(worst, err(`${s} ${k}`, got[k]!, io.get(`${k}_${s}`)!));
          tf.dispose(Object.values(out) as tf.Tensor[]);
          // the resized tables are cached per size: a second pass allocates nothing that outlives it
          await expectNoLeak(() => tf.dispose(Object.values(m.forward(x)) as tf.Tensor[]));
          x.dispose();
        }
        console.log(`${family}_tiny ${backend}, interpolated sizes ${SIZES.join(', ')}: max abs err ${worst.toExponential(2)}`);
      } finally {
        m.dispose();
      }
    });
  }

  test(`dinov2 SwiGLU MLP (use_swiglu_ffn) = the torch reference at 32 and 48 px on ${backend}`, async () => {
    await useBackend(backend);
    const io = readSafetensors(join(GEN, 'dinov2_swiglu/io.safetensors'));
    let report: LoadReport | undefined;
    const m = await loadVisionModel(join(GEN, 'dinov2_swiglu/model'), { quiet: true, report: (r) => (report = r) });
    try {
      assert.deepEqual(report!.unused, ['embeddings.mask_token']);
      assert.equal(m.config.intermediate_size, 176); // (int(256·2/3) + 7) // 8 · 8
      assert.equal(m.layers[0]!.act, 'swiglu');
      assert.equal(m.layers[1]!.hfModules['encoder.layer.1.mlp.weights_in'], 'fc1'); // peft names for adapters
      const errs: string[] = [];
      for (const s of [32, 48]) {
        const x = t4(io.get(`pixel_values_${s}`)!);
        const out = m.forward(x);
        errs.push(`${s}px last_hidden_state ${err('last_hidden_state', out.lastHiddenState, io.get(`last_hidden_state_${s}`)!).toExponential(2)}`);
        errs.push(`pooler_output ${err('pooler_output', out.poolerOutput, io.get(`pooler_output_${s}`)!).toExponential(2)}`);
        tf.dispose(Object.values(out) as tf.Tensor[]);
        x.dispose();
      }
      console.log(`dinov2_swiglu ${backend} max abs err: ${errs.join(', ')}`);
    } finally {
      m.dispose();
    }
  });
}

test('convert keeps the SwiGLU config: the converted folder is an HF Dinov2Model config with the same hidden size and outputs', async () => {
  await useBackend('cpu');
  const out = join(tmpDir(), 'swiglu');
  await convertModel(join(GEN, 'dinov2_swiglu/model'), out);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.use_swiglu_ffn, true);
  // HF recomputes the hidden size from mlp_ratio: (int(int(64·r)·2/3) + 7) // 8 · 8 must give 176 again
  assert.equal(Math.floor((Math.trunc((Math.trunc(64 * cfg.mlp_ratio) * 2) / 3) + 7) / 8) * 8, 176);
  const io = readSafetensors(join(GEN, 'dinov2_swiglu/io.safetensors'));
  const [a, b] = [await loadVisionModel(join(GEN, 'dinov2_swiglu/model'), { quiet: true }), await loadVisionModel(out, { quiet: true })];
  try {
    assert.equal(b.fingerprint(), a.fingerprint());
    const x = t4(io.get('pixel_values_48')!);
    const [ya, yb] = [a.forward(x), b.forward(x)];
    assert.equal(maxAbsDiff(ya.poolerOutput.dataSync(), yb.poolerOutput.dataSync()), 0);
    tf.dispose([x, ...(Object.values(ya) as tf.Tensor[]), ...(Object.values(yb) as tf.Tensor[])]);
  } finally {
    a.dispose();
    b.dispose();
  }
});
