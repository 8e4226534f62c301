import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/index.js';
import { loadDetrOrPreset } from './src/detect/load.js';
await initBackend('cpu', { quiet: true });
const m = loadDetrOrPreset('detr-r50');
const H = Number(process.argv[2] ?? 400), W = Number(process.argv[3] ?? 533);
const x = tf.randomNormal([1, 3, H, W], 0, 1, 'float32', 1) as tf.Tensor4D;
const run = () => { const o = m.forward(x, null); o.logits.dataSync(); tf.dispose([o.logits, o.predBoxes, o.lastHiddenState]); };
run();
for (let i = 0; i < 3; i++) {
  const t = performance.now(), c = process.cpuUsage(); const r0 = process.resourceUsage().minorPageFault;
  run();
  const cu = process.cpuUsage(c);
  console.log(`wall ${(performance.now() - t).toFixed(0)} ms user ${(cu.user / 1000).toFixed(0)} sys ${(cu.system / 1000).toFixed(0)} faults ${process.resourceUsage().minorPageFault - r0}`);
}
