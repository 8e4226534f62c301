import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/index.js';
await initBackend('wasm', { quiet: true });
function time(label: string, fn: () => tf.Tensor) {
  tf.dispose(fn());
  const c0 = process.cpuUsage();
  const n = 3;
  for (let i = 0; i < n; i++) { const r = fn(); r.dataSync(); r.dispose(); }
  const c = process.cpuUsage(c0);
  console.log(`${label}: cpu ${((c.user + c.system) / 1000 / n).toFixed(0)} ms`);
}
const q = tf.randomUniform([64, 257, 64]) as tf.Tensor3D;
const kt = tf.randomUniform([64, 64, 257]) as tf.Tensor3D;
time('batched full', () => tf.tidy(() => tf.matMul(tf.softmax(tf.matMul(q, kt)), q)));
time('per-slice full', () => tf.tidy(() => tf.concat(Array.from({ length: 64 }, (_, i) => tf.matMul(tf.softmax(tf.matMul(tf.gather(q, i, 0) as tf.Tensor2D, tf.gather(kt, i, 0) as tf.Tensor2D)), tf.gather(q, i, 0) as tf.Tensor2D))).reshape([64, 257, 64])));
const idx = Array.from({ length: 64 }, (_, i) => tf.scalar(i, 'int32'));
time('per-slice full, index tensors reused', () => tf.tidy(() => tf.concat(Array.from({ length: 64 }, (_, i) => tf.matMul(tf.softmax(tf.matMul(tf.gather(q, idx[i]!, 0) as tf.Tensor2D, tf.gather(kt, idx[i]!, 0) as tf.Tensor2D)), tf.gather(q, idx[i]!, 0) as tf.Tensor2D))).reshape([64, 257, 64])));
