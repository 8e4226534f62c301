import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { buildVisionModel } from '../src/models/vision/index.js';
await initBackend('cpu', { quiet: true });
const model = buildVisionModel('clip', { image_size: 64, patch_size: 8, hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, projection_dim: 128 } as never);
const B = 64, S = 64;
const px = tf.randomNormal([B, 3, S, S]) as tf.Tensor4D;
const vars: tf.Variable[] = [];
for (const layer of model.layers.slice(model.layers.length >> 1)) for (const l of [layer.q_proj, layer.v_proj]) {
  const d = l.weight.shape[0]!, o = l.weight.shape[1]!;
  l.lora = { A: tf.variable(tf.mul(tf.randomNormal([d, 8]), 0.01)), B: tf.variable(tf.zeros([8, o])), scaling: 2, dropout: 0 } as never;
  vars.push((l.lora as any).A, (l.lora as any).B);
}
const step = () => { const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(px, { training: true }).imageEmbeds)) as tf.Scalar, vars); value.dataSync(); for (const g of Object.values(grads)) g.dataSync(); tf.dispose([value, ...Object.values(grads)]); };
step(); step();
let t = performance.now(); for (let i = 0; i < 3; i++) step(); console.log('step ms', ((performance.now() - t) / 3).toFixed(1));
const prof = await tf.profile(() => { step(); });
const by = new Map<string, { ms: number; n: number }>();
let tot = 0;
for (const k of prof.kernels) { const ms = (k as any).kernelTimeMs as number; tot += ms; const key = k.name; const e = by.get(key) ?? { ms: 0, n: 0 }; e.ms += ms; e.n++; by.set(key, e); }
console.log('kernels', prof.kernels.length, 'sum ms', tot.toFixed(1));
for (const [k, v] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(k.padEnd(24), v.n, v.ms.toFixed(1));
const bm = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) { if (k.name !== 'BatchMatMul' && k.name !== 'Multiply' && k.name !== 'Add' && k.name !== 'Transpose') continue; const key = k.name + ' ' + JSON.stringify(k.inputShapes) + ' ' + (k.extraInfo ?? ''); const e = bm.get(key) ?? { ms: 0, n: 0 }; e.ms += (k as any).kernelTimeMs; e.n++; bm.set(key, e); }
for (const [k, v] of [...bm].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) console.log(v.n, v.ms.toFixed(1), k);
