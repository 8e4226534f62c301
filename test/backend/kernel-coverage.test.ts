/**
 * Kernel coverage: with the native kernels active on the cpu backend, no kernel that takes ≥ 2 % of
 * the kernel time of a DETR forward or of a ViT LoRA training step may run in a stock JavaScript
 * kernel (they run at ~1 GFLOP/s and turn seconds into minutes: FusedConv2D made DETR-R50 take
 * 158 s per image). A new model or op that lands on a slow path fails here, with the kernel named.
 * Shares, not times, are asserted (no timed assertions); each kernel's time is its least over 3
 * profiled runs, so a GC pause or another process cannot make a cheap kernel look hot.
 * Skipped only when the addon is not built.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, useBackend } from '../helpers.js';
import { installNativeKernels, nativeKernelsStatus, stockKernel } from '../../src/backend/native.js';
import { formatKernelProfile, minOverRuns, profileKernels, stockHotspots, type KernelProfile } from '../../src/backend/kernel-profile.js';
import { loadDetrModel } from '../../src/detect/load.js';
import { buildVisionModel } from '../../src/models/vision/index.js';
import { applyLora } from '../../src/models/lora/index.js';
import { createHead } from '../../src/models/heads.js';
import { getLoss } from '../../training/losses/index.js';
import { lossAndGrads } from '../../training/recompute.js';
import { visionGraph } from '../../training/vision_graph.js';

const status = nativeKernelsStatus();
const skip = status.built ? false : `native addon unavailable: ${status.why}`;
const MIN_SHARE = 0.02;
const RUNS = 3;

/** run once to warm up (unless one run is enough), then `runs` profiled runs → per kernel the least time */
async function steadyProfile(run: () => void, runs = RUNS): Promise<KernelProfile> {
  if (runs > 1) run();
  const ps: KernelProfile[] = [];
  for (let i = 0; i < runs; i++) ps.push((await profileKernels(run)).profile);
  return minOverRuns(ps);
}

function assertNoStockHotspot(what: string, p: KernelProfile): void {
  assert.ok(p.native, `${what}: native kernels active`);
  assert.ok(p.rows.length > 5 && p.kernelMs > 0, `${what}: profile has kernels`);
  const hot = stockHotspots(p, MIN_SHARE);
  assert.deepEqual(hot.map((r) => `${r.kernel} ${(100 * r.stockMs / p.kernelMs).toFixed(1)} %`), [],
    `${what}: kernels taking ≥ ${100 * MIN_SHARE} % of the time run in stock JS:\n${formatKernelProfile(p, { title: what })}`);
}

/** One DETR forward (fixture model, 3×256×320 input: every kernel of DETR-R50 at a tenth of a second). */
async function detrForwardProfile(runs = RUNS): Promise<KernelProfile> {
  const model = loadDetrModel(join(FIXTURES, 'detr_tiny', 'model'));
  const x = tf.randomNormal([1, 3, 256, 320], 0, 1, 'float32', 1) as tf.Tensor4D;
  try {
    const run = () => {
      const o = model.forward(x, null);
      o.logits.dataSync();
      tf.dispose([o.logits, o.predBoxes, o.lastHiddenState]);
    };
    return await steadyProfile(run, runs);
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** One LoRA step of the tiny CLIP ViT (r 8 on q, v of the upper half, dropout 0.1, InfoNCE, recomputation) as the trainer runs it. */
async function loraStepProfile(): Promise<KernelProfile> {
  const model = buildVisionModel('clip', 'tiny', 'random', 0);
  applyLora(model, { r: 8, lora_alpha: 16, lora_dropout: 0.1, freeze_layers: 2, target_modules: ['q_proj', 'v_proj'] } as never);
  const s = model.config.image_size, b = 16;
  const pixels = tf.randomNormal([b, 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = Int32Array.from({ length: b }, (_, i) => Math.floor(i / 2));
  const head = createHead('clip', model);
  let seed = 1;
  const ctx = { training: true, nextSeed: () => seed++ };
  try {
    const step = () => {
      const r = lossAndGrads(visionGraph(model, head, pixels, labels, getLoss('infonce')), { recompute: true, ctx });
      r.loss.dataSync();
      tf.dispose([r.loss, ...Object.values(r.grads)]);
    };
    return await steadyProfile(step);
  } finally {
    pixels.dispose();
    head.dispose?.();
    model.dispose();
  }
}

describe('kernel coverage with native kernels active', { skip }, () => {
  before(async () => {
    await useBackend('cpu');
    installNativeKernels();
  });

  test(`a DETR forward runs no kernel taking ≥ ${100 * MIN_SHARE} % of the time in stock JS; its transformer uses the fused attention and LayerNorm`, async () => {
    const p = await detrForwardProfile();
    assertNoStockHotspot('DETR forward', p);
    const calls = (k: string) => p.rows.find((r) => r.kernel === k)?.calls ?? 0;
    // detr_tiny: 2 encoder layers (1 attention, 2 LayerNorms each), 2 decoder layers (2 attentions, 3 LayerNorms each), final LayerNorm
    assert.equal(calls('LogolabAttention'), 2 + 2 * 2);
    assert.equal(calls('LogolabLayerNorm'), 2 * 2 + 2 * 3 + 1);
    for (const k of ['FusedConv2D', 'MaxPool', 'LogolabConv2DResidual']) assert.ok(calls(k) > 0 && p.rows.find((r) => r.kernel === k)!.impl === 'native', k);
  });

  test(`a ViT LoRA training step runs no kernel taking ≥ ${100 * MIN_SHARE} % of the time in stock JS`, async () => {
    assertNoStockHotspot('ViT LoRA step', await loraStepProfile());
  });

  test('the check sees a stock kernel: FusedConv2D and MaxPool put back to stock JS are reported', async () => {
    const names = ['FusedConv2D', 'MaxPool'];
    const natives = names.map((name) => tf.getKernel(name, 'cpu')!);
    for (const name of names) {
      tf.unregisterKernel(name, 'cpu');
      tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: stockKernel(name) });
    }
    let p: KernelProfile;
    try {
      p = await detrForwardProfile(1);
    } finally {
      for (const [i, name] of names.entries()) {
        tf.unregisterKernel(name, 'cpu');
        tf.registerKernel(natives[i]!);
      }
    }
    const hot = stockHotspots(p, MIN_SHARE).map((r) => r.kernel);
    assert.ok(hot.includes('FusedConv2D'), `FusedConv2D reported: ${hot.join(', ')}`);
    const row = p.rows.find((r) => r.kernel === 'FusedConv2D')!;
    assert.equal(row.impl, 'stock JS');
    assert.ok(p.rows.find((r) => r.kernel === '_FusedMatMul')?.impl === 'native');
  });
});
