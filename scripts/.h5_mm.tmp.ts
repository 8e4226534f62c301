import * as tf from '@tensorflow/tfjs';
import { initBackend } from '/work/main/src/backend/index.js';
await initBackend('wasm', { quiet: true });
const a = tf.randomNormal([514, 1024]) as tf.Tensor2D, w = tf.randomNormal([1024, 4096]) as tf.Tensor2D, dy = tf.randomNormal([514, 4096]) as tf.Tensor2D;
function time(name: string, f: () => tf.Tensor, flops: number) {
  f().dispose();
  const t0 = performance.now(); const n = 3;
  for (let i = 0; i < n; i++) { const r = f(); r.dataSync(); r.dispose(); }
  const s = (performance.now() - t0) / n / 1000;
  console.log(name, (s * 1000).toFixed(1), 'ms', (flops / s / 1e9).toFixed(1), 'GFLOP/s');
}
const F = 2 * 514 * 1024 * 4096;
time('plain a·w', () => tf.matMul(a, w), F);
time('dx = dy·wT (transposeB)', () => tf.matMul(dy, w, false, true), F);
time('dx via explicit transpose', () => tf.tidy(() => tf.matMul(dy, tf.transpose(w))), F);
time('dw = aT·dy (transposeA)', () => tf.matMul(a, dy, true, false), F);
time('dw via explicit transpose', () => tf.tidy(() => tf.matMul(tf.transpose(a), dy)), F);
