/** DETR forward parity against HF DetrForObjectDetection (fixtures/detr_tiny), on wasm, cpu + native kernels and stock cpu. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, PARITY_BACKENDS, useBackend, maxAbsDiff, expectNoLeak } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadDetrModel } from '../../src/detect/load.js';
import { installNativeKernels, nativeKernelsInstalled, nativeKernelsStatus, uninstallNativeKernels } from '../../src/backend/native.js';

const DIR = join(FIXTURES, 'detr_tiny');
const TOL = 1e-4;

// cpu runs twice: with the native kernels (FusedConv2D, MaxPool, fused attention, ...) and with the stock ones
const CASES = [...PARITY_BACKENDS.map((b) => ({ backend: b as string, native: b === 'cpu' })), { backend: 'cpu', native: false }];
for (const { backend, native } of CASES) {
  const label = backend === 'cpu' ? (native ? 'cpu + native kernels' : 'cpu, stock kernels') : backend;
  const skip = native && !nativeKernelsStatus().built ? `native addon unavailable: ${nativeKernelsStatus().why}` : false;
  test(`detr_tiny forward matches HF (logits, pred_boxes, last_hidden_state ≤ ${TOL}) on ${label}`, { skip }, async () => {
    await useBackend(backend);
    if (backend === 'cpu') {
      if (native) installNativeKernels();
      else uninstallNativeKernels();
      assert.equal(nativeKernelsInstalled(), native);
    }
    const io = readSafetensors(join(DIR, 'io.safetensors'));
    const model = loadDetrModel(join(DIR, 'model'));
    try {
      assert.deepEqual(model.leftovers, []);
      const pv = io.get('pixel_values')!;
      const mask = io.get('pixel_mask')!;
      await expectNoLeak(async () => {
        const x = tf.tensor4d(pv.data as Float32Array, pv.shape as [number, number, number, number]);
        const out = model.forward(x, mask.data);
        try {
          const errs: Record<string, number> = {};
          for (const [name, t] of [['logits', out.logits], ['pred_boxes', out.predBoxes], ['last_hidden_state', out.lastHiddenState]] as const) {
            const ref = io.get(name)!;
            assert.deepEqual(t.shape, ref.shape, name);
            errs[name] = maxAbsDiff(await t.data(), ref.data);
          }
          console.log(`# ${label} max abs err: ${JSON.stringify(errs)}`);
          for (const [k, e] of Object.entries(errs)) assert.ok(e <= TOL, `${k}: max abs err ${e} > ${TOL}`);
        } finally {
          x.dispose();
          out.logits.dispose();
          out.predBoxes.dispose();
          out.lastHiddenState.dispose();
        }
      });
    } finally {
      model.dispose();
      if (backend === 'cpu' && !native && nativeKernelsStatus().available) installNativeKernels();
    }
  });
}
