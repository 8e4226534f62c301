import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, PARITY_BACKENDS, expectNoLeak, maxAbsDiff, useBackend } from '../helpers.js';
import { readSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { loadVisionModel, type LoadReport } from '../../src/models/vision/index.js';

const TOL = 1e-4;
const t4 = (h: HostTensor) => tf.tensor4d(h.data as Float32Array, h.shape as [number, number, number, number]);

function check(name: string, got: tf.Tensor, want: HostTensor): number {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  const e = maxAbsDiff(got.dataSync(), want.data);
  assert.ok(e <= TOL, `${name}: max abs err ${e} > ${TOL}`);
  return e;
}

for (const backend of PARITY_BACKENDS) {
  test(`dinov2_tiny matches transformers at 32 px (interpolated positions) and 40 px on ${backend}`, async () => {
    await useBackend(backend);
    const io = readSafetensors(join(FIXTURES, 'dinov2_tiny/io.safetensors'));
    let report: LoadReport | undefined;
    const m = await loadVisionModel(join(FIXTURES, 'dinov2_tiny/model'), { quiet: true, report: (r) => (report = r) });
    try {
      assert.deepEqual(report!.unused, ['embeddings.mask_token']);
      const errs: string[] = [];
      for (const size of [32, 40]) {
        const x = t4(io.get(`pixel_values_${size}`)!);
        const out = m.forward(x);
        errs.push(`${size}px last_hidden_state ${check('last_hidden_state', out.lastHiddenState, io.get(`last_hidden_state_${size}`)!).toExponential(2)}`);
        errs.push(`${size}px pooler_output ${check('pooler_output', out.poolerOutput, io.get(`pooler_output_${size}`)!).toExponential(2)}`);
        // no projection: image_embeds is the pooled CLS
        check('image_embeds', out.imageEmbeds, io.get(`pooler_output_${size}`)!);
        tf.dispose([out.lastHiddenState, out.poolerOutput, out.imageEmbeds]);
        await expectNoLeak(() => tf.dispose(Object.values(m.forward(x)) as tf.Tensor[]));
        x.dispose();
      }
      console.log(`dinov2_tiny ${backend} max abs err: ${errs.join(', ')}`);
    } finally {
      m.dispose();
    }
  });

  test(`siglip_tiny matches transformers on ${backend}`, async () => {
    await useBackend(backend);
    const io = readSafetensors(join(FIXTURES, 'siglip_tiny/io.safetensors'));
    let report: LoadReport | undefined;
    const m = await loadVisionModel(join(FIXTURES, 'siglip_tiny/model'), { quiet: true, report: (r) => (report = r) });
    try {
      assert.deepEqual(report!.unused, []);
      const x = t4(io.get('pixel_values')!);
      const out = m.forward(x);
      const e1 = check('last_hidden_state', out.lastHiddenState, io.get('last_hidden_state')!);
      const e2 = check('pooler_output', out.poolerOutput, io.get('pooler_output')!);
      check('image_embeds', out.imageEmbeds, io.get('pooler_output')!);
      console.log(`siglip_tiny ${backend} max abs err: last_hidden_state ${e1.toExponential(2)}, pooler_output ${e2.toExponential(2)}`);
      tf.dispose([out.lastHiddenState, out.poolerOutput, out.imageEmbeds]);
      await expectNoLeak(() => tf.dispose(Object.values(m.forward(x)) as tf.Tensor[]));
      x.dispose();
    } finally {
      m.dispose();
    }
  });
}
