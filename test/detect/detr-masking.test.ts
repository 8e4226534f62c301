/**
 * The padding path, which the fixture does not reach (its padded columns vanish at stride 32):
 * pixel_mask → feature mask (torch nearest), sine position embedding values, and masked attention
 * (padded feature positions cannot influence the outputs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, useBackend, maxAbsDiff } from '../helpers.js';
import { detrConfigFromJson } from '../../src/detect/config.js';
import { detrFromSource } from '../../src/detect/load.js';
import { syntheticSource } from '../../src/detect/weights.js';
import { transformerForward } from '../../src/detect/model.js';
import { featureMask, sinePositionEmbedding } from '../../src/detect/position.js';

test('feature mask: torch nearest (src = ⌊dst·in/out⌋) of the pixel mask', () => {
  // 1 image 4×8, valid columns 0..4 → feature 2×3: columns map to 0, 2, 5 (8/3 = 2.667)
  const H = 4, W = 8;
  const pm = new Int32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < 5; x++) pm[y * W + x] = 1;
  assert.deepEqual(Array.from(featureMask(pm, 1, H, W, 2, 3)), [1, 1, 0, 1, 1, 0]);
  assert.deepEqual(Array.from(featureMask(null, 2, H, W, 2, 3)), new Array(12).fill(1));
});

test('sine position embedding: cumsum over valid pixels, normalised by the last valid, [pos_y | pos_x] sin/cos', () => {
  const h = 2, w = 3, d = 8; // half = 4: dim_t = [1, 1, 100, 100]
  const mask = Uint8Array.from([1, 1, 0, 1, 1, 0]);
  const pe = sinePositionEmbedding(mask, 1, h, w, d);
  const at = (i: number, j: number) => Array.from(pe.subarray((i * w + j) * d, (i * w + j + 1) * d));
  const two = 2 * Math.PI;
  // position (1, 1): y = 2/2·2π, x = 2/2·2π (x cumsum over the row is 1,2,2 → normalised by 2)
  const y = (2 / (2 + 1e-6)) * two, x = (2 / (2 + 1e-6)) * two;
  const want = [Math.sin(y), Math.cos(y), Math.sin(y / 100), Math.cos(y / 100), Math.sin(x), Math.cos(x), Math.sin(x / 100), Math.cos(x / 100)];
  assert.ok(maxAbsDiff(at(1, 1), want) < 1e-5);
  // padded column 2: x cumsum stays 2 → same x as column 1
  assert.ok(maxAbsDiff(at(0, 2).slice(4), at(0, 1).slice(4)) < 1e-7);
  // row 0: y = 1/2·2π = π
  assert.ok(Math.abs(at(0, 0)[0]! - Math.sin(Math.PI / (1 + 5e-7))) < 1e-5);
});

test('masked attention: features at padded positions do not change any output; valid ones do', async () => {
  await useBackend('wasm');
  const cfg = detrConfigFromJson(JSON.parse(readFileSync(join(FIXTURES, 'detr_tiny/model/config.json'), 'utf8')), 'tiny config');
  const model = detrFromSource(cfg, syntheticSource(cfg, { seed: 3 }));
  const B = 2, h = 3, w = 4, C = 64;
  const mask = new Uint8Array(B * h * w).fill(1);
  for (let i = 0; i < h; i++) mask[(1 * h + i) * w + 3] = 0; // image 2: last feature column is padding
  const base = tf.randomNormal([B, h, w, C], 0, 1, 'float32', 1) as tf.Tensor4D;
  const noise = tf.randomNormal([B, h, w, C], 0, 5, 'float32', 2);
  const onlyPad = tf.tensor4d(Float32Array.from(mask, (m) => 1 - m), [B, h, w, 1]);
  const padPerturbed = tf.add(base, tf.mul(noise, onlyPad)) as tf.Tensor4D;
  const validPerturbed = tf.add(base, tf.mul(noise, tf.sub(1, onlyPad))) as tf.Tensor4D;
  try {
    const a = transformerForward(cfg, model.weights, base, mask);
    const b = transformerForward(cfg, model.weights, padPerturbed, mask);
    const c = transformerForward(cfg, model.weights, validPerturbed, mask);
    const ePad = maxAbsDiff(await a.lastHiddenState.data(), await b.lastHiddenState.data());
    const eValid = maxAbsDiff(await a.lastHiddenState.data(), await c.lastHiddenState.data());
    console.log(`# change from padded features ${ePad.toExponential(2)}, from valid ones ${eValid.toExponential(2)}`);
    assert.ok(ePad <= 1e-6, `padded positions leak into the outputs (${ePad})`);
    assert.ok(eValid > 1e-3, `valid positions do not matter (${eValid})`);
    for (const o of [a, b, c]) [o.logits, o.predBoxes, o.lastHiddenState].forEach((t) => t.dispose());
  } finally {
    [base, noise, onlyPad, padPerturbed, validPerturbed].forEach((t) => t.dispose());
    model.dispose();
  }
});
