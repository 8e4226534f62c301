import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/index.js';
import { multiHeadAttention } from './src/models/vision/blocks.js';
await initBackend('wasm', { quiet: true });
function time(label: string, fn: () => tf.Tensor) {
  tf.dispose(fn());
  const c0 = process.cpuUsage();
  const n = 3;
  for (let i = 0; i < n; i++) { const r = fn(); r.dataSync(); r.dispose(); }
  const c = process.cpuUsage(c0);
  console.log(`${label}: cpu ${((c.user + c.system) / 1000 / n).toFixed(0)} ms`);
}
const x = tf.randomUniform([1028, 1024]) as tf.Tensor2D;
const w = tf.randomUniform([1024, 1024]) as tf.Tensor2D;
const w4 = tf.randomUniform([1024, 4096]) as tf.Tensor2D;
const h = tf.randomUniform([1028, 4096]) as tf.Tensor2D;
const w4t = tf.randomUniform([4096, 1024]) as tf.Tensor2D;
time('q_proj 1028x1024x1024', () => tf.matMul(x, w));
time('fc1 1028x1024x4096', () => tf.matMul(x, w4));
time('fc2 1028x4096x1024', () => tf.matMul(h, w4t));
const q = tf.randomUniform([4, 257, 1024]) as tf.Tensor3D;
time(`attention core (${process.env.MODE})`, () => multiHeadAttention(q, q, q, 16));
time('quick_gelu [1028,4096]', () => tf.mul(h, tf.sigmoid(tf.mul(h, 1.702))));
