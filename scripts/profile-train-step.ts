/**
 * Where one LoRA training step (or inference pass) of a CLIP-style ViT spends its memory and time,
 * kernel by kernel — the measurement behind the numbers of scripts/bench-native.ts.
 *
 *   node --import tsx scripts/profile-train-step.ts --model vit-l14 --batch 8 [--layers 4] [--mode train|infer]
 *        [--path lean|tfjs|plain|recompute] [--reps 2] [--top 25] [--json out.json]
 *
 * --malloc glibc keeps glibc's allocator defaults (LOGOLAB_MALLOC_TUNE=0; see src/backend/native/overrides.ts).
 * --layers N keeps the ViT-L widths with fewer layers (LoRA on the upper half, as the benchmark):
 * per-layer costs are the same, so shares and per-layer memory extrapolate linearly.
 * --path: lean = training/backprop.ts variableGrads over the whole forward (the step of
 *         scripts/bench-native.ts and of the trainer); tfjs = tf.variableGrads (tfjs's own tape
 *         lifetimes); plain / recompute = training/recompute.ts lossAndGrads, same model and loss.
 * After every kernel it samples the process RSS (/proc/self/statm), ArrayBuffer bytes
 * (process.memoryUsage().arrayBuffers: live + unreachable-not-yet-collected) and tf.memory().numBytes
 * (live tensors), and reports the peaks of each, where they occur, and per-kernel time shares by
 * (kernel, output shape).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { buildVisionModel } from '../src/models/vision/index.js';
import { lossAndGrads } from '../training/recompute.js';
import { variableGrads } from '../training/backprop.js';
import { currentLiveBytes, trackLiveBytes } from './memory-probe.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'vit-l14' },
    batch: { type: 'string', default: '8' },
    layers: { type: 'string' },
    mode: { type: 'string', default: 'train' },
    path: { type: 'string', default: 'lean' },
    reps: { type: 'string', default: '2' },
    top: { type: 'string', default: '25' },
    json: { type: 'string' },
    backend: { type: 'string', default: 'cpu' },
    malloc: { type: 'string', default: 'heap' },
  },
});

const MODELS: Record<string, Record<string, number>> = {
  tiny: { image_size: 64, patch_size: 8, hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, projection_dim: 128 },
  'vit-b16': { image_size: 224, patch_size: 16, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, projection_dim: 512 },
  'vit-l14': { image_size: 224, patch_size: 14, hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096, projection_dim: 768 },
};

// an unknown --path used to run the plain path under its name
const PATHS = ['lean', 'tfjs', 'plain', 'recompute'];
if (!PATHS.includes(a.path!)) {
  process.stderr.write(`profile-train-step: --path ${a.path}: expected one of ${PATHS.join(', ')}\n`);
  process.exit(2);
}
if (a.malloc === 'glibc') process.env.LOGOLAB_MALLOC_TUNE = '0';
await initBackend(a.backend!, { quiet: true });
const { ADDON_PATH } = await import('../src/backend/native.js');
const addon = (await import('node:module')).createRequire(import.meta.url)(ADDON_PATH) as { mallocInfo(): Record<string, number> };
// bytes of live backend buffers (tf.memory().numBytes counts shared buffers once per tensor)
trackLiveBytes();
const uniqueBytes = currentLiveBytes;

const conf = { ...MODELS[a.model!]! };
if (a.layers) conf.num_hidden_layers = Number(a.layers);
const model = buildVisionModel('clip', conf as never);
const B = Number(a.batch), S = model.config.image_size;
const px = tf.randomNormal([B, 3, S, S]) as tf.Tensor4D;
const vars: tf.Variable[] = [];
for (const layer of model.layers.slice(model.layers.length >> 1)) {
  for (const l of [layer.q_proj, layer.v_proj]) {
    const d = l.weight.shape[0], o = l.weight.shape[1];
    l.lora = { A: tf.variable(tf.mul(tf.randomNormal([d, 8]), 0.01)), B: tf.variable(tf.zeros([8, o])), scaling: 2, dropout: 0 };
    vars.push(l.lora.A, l.lora.B);
  }
}
const objective = (e: tf.Tensor2D) => tf.sum(tf.square(e)) as tf.Scalar;

function step(): void {
  if (a.mode === 'infer') {
    tf.tidy(() => void model.forward(px).imageEmbeds.dataSync());
    return;
  }
  if (a.path === 'tfjs' || a.path === 'lean') {
    const { value, grads } = (a.path === 'lean' ? variableGrads : tf.variableGrads)(() => objective(model.forward(px, { training: true }).imageEmbeds), vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    return;
  }
  const graph = {
    stem: () => model.embeddings(px),
    blocks: model.layers.map((l) => ({ forward: (x: tf.Tensor3D, c: import('../src/models/layers.js').ForwardContext) => l.forward(x, c), variables: l.q_proj.lora ? [l.q_proj.lora.A, l.q_proj.lora.B, l.v_proj.lora!.A, l.v_proj.lora!.B] : [] })),
    tail: (h: tf.Tensor3D) => tf.tidy(() => {
      const { lastHiddenState, poolerOutput } = model.pool(h);
      lastHiddenState.dispose();
      return objective(model.project(poolerOutput));
    }),
    tailVariables: [],
  };
  const r = lossAndGrads(graph, { recompute: a.path === 'recompute', ctx: { training: true } });
  r.loss.dataSync();
  tf.dispose([r.loss, ...Object.values(r.grads)]);
}

// ------------------------------------------------------------------------------------------------
const PAGE = 4096;
const rssBytes = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * PAGE;
const minorFaults = () => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[7]);
interface Sample { i: number; kernel: string; rss: number; ab: number; tf: number; uniq: number }
let samples: Sample[] = [];
// per registered kernel (customGrad scopes are containers: their kernels are counted themselves)
interface KStat { wall: number; cpu: number; n: number }
const byKey = new Map<string, KStat>(), byName = new Map<string, KStat>();
const eng = tf.engine() as unknown as { runKernelFunc: (p: { kernelName?: string; inputs?: Record<string, tf.TensorInfo | null> }) => unknown };
const orig = eng.runKernelFunc.bind(eng);
let sampling = false;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
eng.runKernelFunc = (p) => {
  if (!sampling) return orig(p);
  const w0 = performance.now(), c0 = cpuMs();
  const r = orig(p);
  const w = performance.now() - w0, c = cpuMs() - c0;
  if (p.kernelName) {
    const outs = (Array.isArray(r) ? r : [r]) as tf.TensorInfo[];
    const key = `${p.kernelName} ${JSON.stringify(Object.values(p.inputs ?? {}).map((t) => t?.shape ?? null))}→${JSON.stringify(outs.map((t) => t.shape))}`;
    for (const [m, k] of [[byKey, key], [byName, p.kernelName]] as const) {
      const e = m.get(k) ?? { wall: 0, cpu: 0, n: 0 };
      e.wall += w;
      e.cpu += c;
      e.n++;
      m.set(k, e);
    }
  }
  samples.push({ i: samples.length, kernel: p.kernelName ?? '(custom)', rss: rssBytes(), ab: process.memoryUsage().arrayBuffers, tf: tf.memory().numBytes, uniq: uniqueBytes() });
  return r;
};

const mb = (x: number) => Math.round(x / 2 ** 20);
const t0 = performance.now();
step(); // warm-up (also JIT)
const warmS = (performance.now() - t0) / 1000;
const base = { rss: rssBytes(), ab: process.memoryUsage().arrayBuffers, tf: tf.memory().numBytes, uniq: uniqueBytes() };
const times: number[] = [];
const reps = Number(a.reps);
let cpu = { user: 0, system: 0 }, faults = 0;
for (let r = 0; r < reps; r++) {
  // the last rep is the instrumented one (kernel times, memory samples)
  samples = [];
  sampling = r === reps - 1;
  const c0 = process.cpuUsage(), f0 = minorFaults();
  const t = performance.now();
  step();
  times.push((performance.now() - t) / 1000);
  cpu = process.cpuUsage(c0);
  faults = minorFaults() - f0;
  sampling = false;
}
const peakOf = (k: 'rss' | 'ab' | 'tf' | 'uniq') => samples.reduce((m, s) => (s[k] > m[k] ? s : m), samples[0]!);
const pr = peakOf('rss'), pa = peakOf('ab'), pt = peakOf('tf'), pu = peakOf('uniq');
const total = [...byName.values()].reduce((x, e) => ({ wall: x.wall + e.wall, cpu: x.cpu + e.cpu }), { wall: 0, cpu: 0 });
const pct = (x: number, of: number) => `${(100 * x / of).toFixed(1)}%`;
const out = {
  model: a.model, layers: model.config.num_hidden_layers, batch: B, mode: a.mode, path: a.path, threads: process.env.LOGOLAB_THREADS ?? '',
  warmup_s: +warmS.toFixed(2), step_s: times.map((x) => +x.toFixed(2)), images_per_s: +(B / Math.min(...times)).toFixed(3),
  last_step_cpu_s: { user: +(cpu.user / 1e6).toFixed(2), system: +(cpu.system / 1e6).toFixed(2) }, last_step_minor_faults: faults,
  base_mb: { rss: mb(base.rss), array_buffers: mb(base.ab), tf: mb(base.tf), tf_unique: mb(base.uniq) },
  peak_mb: { rss: mb(pr.rss), array_buffers: mb(pa.ab), tf: mb(pt.tf), tf_unique: mb(pu.uniq), max_rss: mb(process.resourceUsage().maxRSS * 1024) },
  peak_at: { rss: `${pr.i}/${samples.length} ${pr.kernel}`, array_buffers: `${pa.i}/${samples.length} ${pa.kernel}`, tf: `${pt.i}/${samples.length} ${pt.kernel}`, tf_unique: `${pu.i}/${samples.length} ${pu.kernel}` },
  at_rss_peak_mb: { rss: mb(pr.rss), array_buffers: mb(pr.ab), tf: mb(pr.tf), tf_unique: mb(pr.uniq) },
  heap_mb: mb(process.memoryUsage().heapTotal),
  malloc_mb: Object.fromEntries(Object.entries(addon.mallocInfo()).map(([k, v]) => [k, mb(v)])),
  kernels: samples.length, kernel_wall_ms: Math.round(total.wall), kernel_cpu_ms: Math.round(total.cpu),
  // share of kernel wall time | share of kernel CPU time (all threads)
  by_name: [...byName].sort((x, y) => y[1].cpu - x[1].cpu).map(([n, e]) => `${n} wall ${pct(e.wall, total.wall)} cpu ${pct(e.cpu, total.cpu)} ×${e.n}`),
  top: [...byKey].sort((x, y) => y[1].cpu - x[1].cpu).slice(0, Number(a.top)).map(([k, e]) => `cpu ${pct(e.cpu, total.cpu)} ${Math.round(e.cpu)}ms wall ${Math.round(e.wall)}ms ×${e.n} ${k}`),
  timeline: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 40)) === 0).map((s) => `${s.i} ${s.kernel} rss ${mb(s.rss)} ab ${mb(s.ab)} tf ${mb(s.tf)} uniq ${mb(s.uniq)}`),
};
console.log(JSON.stringify(out, null, 1));
if (a.json) writeFileSync(a.json, JSON.stringify(out, null, 2));
model.dispose();
