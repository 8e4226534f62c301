import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/index.js';
import { buildVisionModel } from './src/models/vision/index.js';
await initBackend('wasm', { quiet: true });
const m = buildVisionModel('clip', { hidden_size: 1024, num_hidden_layers: 1, num_attention_heads: 16, intermediate_size: 4096, patch_size: 14, image_size: 224, projection_dim: 768 }, 'random', 0);
const x = tf.randomUniform([4, 257, 1024]) as tf.Tensor3D;
const run = () => { const y = m.layers[0]!.forward(x); y.dataSync(); y.dispose(); };
run();
for (let k = 0; k < 2; k++) {
  const c0 = process.cpuUsage(); const t = performance.now();
  run();
  const c = process.cpuUsage(c0);
  console.log(`${process.env.MODE}: layer wall ${(performance.now() - t).toFixed(0)} ms cpu ${((c.user + c.system) / 1000).toFixed(0)} ms`);
}
