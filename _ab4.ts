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
time('split 64 axis0', () => tf.tidy(() => tf.concat(tf.split(q, 64, 0))));
const q2 = q.reshape([64 * 257, 64]);
time('64 row slices of 2D', () => tf.tidy(() => tf.concat(Array.from({ length: 64 }, (_, i) => q2.slice([i * 257, 0], [257, 64])))));
time('concat only', () => tf.tidy(() => tf.concat(Array.from({ length: 64 }, () => q2.slice([0, 0], [257, 64])))));
time('stack of 64 slices w/ matmul', () => tf.tidy(() => { const k2 = kt.reshape([64 * 64, 257]); return tf.stack(Array.from({ length: 64 }, (_, i) => tf.matMul(q2.slice([i * 257, 0], [257, 64]), k2.slice([i * 64, 0], [64, 257])))); }));
