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
const x = tf.randomUniform([4, 257, 1024]) as tf.Tensor3D;
time('split heads transpose 0213', () => x.reshape([4, 257, 16, 64]).transpose([0, 2, 1, 3]));
time('k transpose 0231', () => x.reshape([4, 257, 16, 64]).transpose([0, 2, 3, 1]));
const q = tf.randomUniform([64, 257, 64]) as tf.Tensor3D;
const kt = tf.randomUniform([64, 64, 257]) as tf.Tensor3D;
const s = tf.randomUniform([64, 257, 257]) as tf.Tensor3D;
time('scores bmm [64,257,64]x[64,64,257]', () => tf.matMul(q, kt));
time('scores bmm transposeB', () => tf.matMul(q, q, false, true));
time('softmax', () => tf.softmax(s));
time('pv bmm [64,257,257]x[64,257,64]', () => tf.matMul(s, q));
time('scale mul', () => tf.mul(q, 0.125));
const qs = tf.unstack(q) as tf.Tensor2D[]; const ks = tf.unstack(kt) as tf.Tensor2D[];
time('64 2D matmuls (pre-unstacked)', () => tf.tidy(() => tf.stack(qs.map((a, i) => tf.matMul(a, ks[i]!)))));
time('unstack q', () => tf.tidy(() => tf.stack(tf.unstack(q))));
