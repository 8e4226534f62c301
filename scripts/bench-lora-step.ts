/**
 * Benchmark: ONE LoRA training step (forward + backward, InfoNCE on image_embeds) of a random-weight
 * CLIP vision tower, with or without per-block recomputation. Prints one JSON line to stdout:
 * trainable parameters, step time, tf peak bytes (tf.profile peakBytes: all live tensors, weights
 * included) and the process's peak RSS. Run each mode in its own process so peak RSS is its own:
 *   node --import tsx scripts/bench-lora-step.ts --preset vit-l14 --batch 4 --recompute
 * Options: --preset tiny|vit-b16|vit-l14 (default tiny) --batch N (4; ≥ 3) --recompute --backend wasm|cpu
 *          --r 16 --alpha 32 --freeze-layers N (default: half the layers) --targets q_proj,v_proj
 *          --profile (per-kernel table of the step on stderr: time, calls, native or stock JS)
 * (also as `logolab bench train ...`)
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { backendLabel } from '../src/backend/label.js';
import { buildVisionModel } from '../src/models/vision/index.js';
import { applyLora, loraSummary } from '../src/models/lora/index.js';
import { createHead } from '../src/models/heads.js';
import { log } from '../src/util/log.js';
import { formatKernelProfile, profileKernels } from '../src/backend/kernel-profile.js';
import { getLoss } from '../training/losses/index.js';
import { lossAndGrads } from '../training/recompute.js';
import { visionGraph } from '../training/vision_graph.js';

const { values: a } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' },
    batch: { type: 'string', default: '4' },
    recompute: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    r: { type: 'string', default: '16' },
    alpha: { type: 'string', default: '32' },
    'freeze-layers': { type: 'string' },
    targets: { type: 'string', default: 'q_proj,v_proj' },
    profile: { type: 'boolean', default: false },
  },
});

const mb = (b: number) => Math.round(b / 2 ** 20);
const backendReport = await initBackend(a.backend, { quiet: true, workload: 'train' });
let t0 = performance.now();
const model = buildVisionModel('clip', a.preset as never, 'random', 0);
const buildS = (performance.now() - t0) / 1000;
const L = model.config.num_hidden_layers;
const applied = applyLora(model, {
  r: Number(a.r), lora_alpha: Number(a.alpha), lora_dropout: 0.1,
  freeze_layers: a['freeze-layers'] !== undefined ? Number(a['freeze-layers']) : Math.floor(L / 2),
  target_modules: a.targets!.split(',') as never,
});
const summary = loraSummary(model);
log('info', summary.text);
const b = Number(a.batch);
// images 2k and 2k+1 share a label: a batch of 2 is one positive pair with no negative, whose
// InfoNCE loss and gradients are exactly 0 (a step that trains nothing)
if (!Number.isInteger(b) || b < 3) throw new Error(`--batch: ${a.batch}: InfoNCE needs a positive pair and a negative, a batch of at least 3`);
const s = model.config.image_size;
const pixels = tf.randomNormal([b, 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = Int32Array.from({ length: b }, (_, i) => Math.floor(i / 2));
const head = createHead('clip', model);
const before = { tfBytes: tf.memory().numBytes, rss: process.memoryUsage().rss };
let seed = 1;
const ctx = { training: true, nextSeed: () => seed++ };
t0 = performance.now();
let loss = NaN;
const { profile: prof } = await profileKernels(() => {
  const r = lossAndGrads(visionGraph(model, head, pixels, labels, getLoss('infonce')), { recompute: a.recompute!, ctx });
  loss = r.loss.dataSync()[0]!;
  r.loss.dispose();
  for (const g of Object.values(r.grads)) g.dispose();
});
const stepS = (performance.now() - t0) / 1000;
// the label, not the bare name: cpu with and without the native kernels differ 10–30× in speed
console.log(JSON.stringify({
  preset: a.preset, backend: backendLabel(backendReport), batch: b, recompute: a.recompute, layers_adapted: applied.layers.length, of_layers: L,
  r: Number(a.r), targets: a.targets, trainable: summary.trainable, frozen: summary.frozen,
  build_s: +buildS.toFixed(1), step_s: +stepS.toFixed(2), loss: +loss.toFixed(4),
  tf_bytes_before_mb: mb(before.tfBytes), tf_peak_mb: mb(prof.peakBytes), tf_peak_above_weights_mb: mb(prof.peakBytes - before.tfBytes),
  rss_before_mb: mb(before.rss), max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), kernels: prof.calls,
}));
if (a.profile) process.stderr.write(formatKernelProfile(prof, { title: `LoRA step ${a.preset} batch ${b}` }) + '\n');
model.dispose();
