/**
 * Benchmark of the native cpu kernels (src/backend/native.ts) against the stock cpu backend, wasm,
 * and PyTorch (scripts/bench_torch_peer.py) in the same run. Every cell runs in its own child
 * process (clean heap, own peak RSS, backend chosen before tfjs warms up).
 *
 *   npx tsx scripts/bench-native.ts [--section matmul,e2e] [--models tiny,vit-l14] [--backends cpu,native,wasm,torch,torchvision]
 *        (native-noreuse: native without output-buffer reuse)
 *        [--modes infer,train] [--slow] [--tiny-batch 64] [--l14-batch 1] [--layers N] [--reps 3] [--rounds 1] [--budget 60] [--threads 2]
 *        [--format md|json] [--json out.json]
 * (also as `logolab bench backends ...`)
 *
 * matmul: GFLOP/s on ViT-L shapes (B·257 tokens): the linear forward x·W, its two backward products
 *   (dY·Wᵀ, Xᵀ·dY), and the attention batch [B·16, 257, 64] (Q·Kᵀ, P·V). The stock cpu kernel runs
 *   at ~1 GFLOP/s, so it is measured on 64 rows (its GFLOP/s does not depend on M).
 * e2e: images/s of a CLIP-style ViT from buildVisionModel (random weights): inference (forward to
 *   image_embeds) and LoRA training (r=8 on q_proj, v_proj of the upper half, loss Σ embeds²,
 *   gradients of the adapters through training/backprop.ts, the trainer's path) — the same model
 *   and step as the PyTorch peer. `torchvision` is the inference peer on PyTorch's fastest CPU path
 *   (torchvision's VisionTransformer, same shapes). Median of reps. Per cell also: peak RSS, and
 *   for logolab the peak of tf.memory().numBytes and of the live buffer bytes during one step,
 *   above the weights, per image (what bounds the batch on a GPU). --layers N keeps the widths with
 *   N layers (profiling on smaller shapes). --rounds N repeats each row's cells N times interleaved
 *   (peer, logolab, peer, …) and reports the median images/s: a shared machine's load then hits
 *   both sides alike.
 *   The sgemm limit is measured in the same run (the larger of native sgemm and torch.mm on the MLP
 *   shape [257·B, 1024]·[1024, 4096]); "% of sgemm" = the cell's GFLOP/s (analytic FLOPs per image,
 *   see flopsPerImage) ÷ that limit.
 * Results: a markdown table on stdout (ratio = logolab images/s ÷ PyTorch images/s: for inference
 * the torchvision peer when it ran), JSON with --json.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { writeFileAtomic } from '../src/io/atomic.js';
import { tsxImport } from '../src/util/package-root.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

// native-noreuse: the native kernels without output-buffer reuse (LOGOLAB_RECYCLE_MB=0), to show what reuse buys
type BackendName = 'cpu' | 'native' | 'native-noreuse' | 'wasm' | 'torch' | 'torchvision';
const isNative = (b: BackendName) => b === 'native' || b === 'native-noreuse';
const PEERS: BackendName[] = ['torch', 'torchvision'];
interface Cell { kind: 'matmul' | 'e2e' | 'sgemm'; backend: BackendName; model?: string; mode?: 'infer' | 'train'; batch?: number; layers?: number; reps: number; budget: number; threads: number; probe?: boolean }
interface Result { [k: string]: unknown }

// tiny: 64 px, patch 8, 4 layers × 128, MLP 512 (the issue's tiny ViT)
const MODELS: Record<string, Record<string, number>> = {
  tiny: { image_size: 64, patch_size: 8, hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, projection_dim: 128 },
  'vit-b16': { image_size: 224, patch_size: 16, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, projection_dim: 512 },
  'vit-l14': { image_size: 224, patch_size: 14, hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096, projection_dim: 768 },
};

// ------------------------------------------------------------------------------------------------
// child: one cell
async function runCell(cell: Cell): Promise<Result> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/backend/index.js');
  await initBackend(isNative(cell.backend) ? 'cpu' : cell.backend, { quiet: true });
  const native = await import('../src/backend/native.js');
  if (isNative(cell.backend) && native.nativeKernelsStatus().active.length === 0) throw new Error(`native kernels not active: ${native.nativeKernelsStatus().why}`);
  native.setNativeThreads(cell.threads);
  // median and fastest rep after a warm-up, at least `minReps` reps while the budget lasts
  const timeIt = (f: () => void, minReps = cell.reps): { s: number; best: number; cpu: number; reps: number } => {
    f(); // warm-up
    const ts: number[] = [], cs: number[] = [];
    const t0 = performance.now();
    while (ts.length < minReps && (ts.length === 0 || (performance.now() - t0) / 1000 < cell.budget)) {
      const t = performance.now(), c = process.cpuUsage();
      f();
      ts.push((performance.now() - t) / 1000);
      const u = process.cpuUsage(c);
      cs.push((u.user + u.system) / 1e6);
    }
    ts.sort((a, b) => a - b);
    return { s: ts[ts.length >> 1]!, best: ts[0]!, cpu: cs.sort((a, b) => a - b)[cs.length >> 1]!, reps: ts.length };
  };
  const rss = () => process.resourceUsage().maxRSS / 1024;

  if (cell.kind === 'sgemm') {
    const [m, k, n] = sgemmShape(cell.batch!);
    const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
    // a limit is the best the machine does: the fastest rep, not the median
    const { best } = timeIt(() => tf.tidy(() => void tf.matMul(a, b).dataSync()), Math.max(cell.reps, 10));
    tf.dispose([a, b]);
    return { gflops: (2 * m * n * k) / best / 1e9, shape: [m, k, n] };
  }

  if (cell.kind === 'matmul') {
    const rows = cell.backend === 'cpu' ? 64 : 257 * (cell.batch ?? 1);
    const bh = cell.backend === 'cpu' ? 2 : 16 * (cell.batch ?? 1);
    // [name, a shape, b shape, transposeA, transposeB, materialise the transpose first (option (b): XNNPACK on wasm)]
    const shapes: [string, number[], number[], boolean, boolean, boolean][] = [
      ['linear x·W', [rows, 1024], [1024, 4096], false, false, false],
      ['grad dY·Wᵀ', [rows, 4096], [1024, 4096], false, true, false],
      ['grad dY·Wᵀ, transpose materialised', [rows, 4096], [1024, 4096], false, true, true],
      ['grad Xᵀ·dY', [rows, 1024], [rows, 4096], true, false, false],
      ['grad Xᵀ·dY, transpose materialised', [rows, 1024], [rows, 4096], true, false, true],
      ['attn Q·Kᵀ', [bh, 257, 64], [bh, 257, 64], false, true, false],
      ['attn Q·Kᵀ, transpose materialised', [bh, 257, 64], [bh, 257, 64], false, true, true],
      ['attn P·V', [bh, 257, 257], [bh, 257, 64], false, false, false],
    ];
    const out: Result = { rows, bh };
    const swap = (t: import('@tensorflow/tfjs').Tensor) => tf.transpose(t, t.rank === 3 ? [0, 2, 1] : [1, 0]);
    for (const [name, as, bs, ta, tb, mat] of shapes) {
      const a = tf.randomNormal(as), b = tf.randomNormal(bs);
      const M = ta ? as[as.length - 1]! : as[as.length - 2]!, K = ta ? as[as.length - 2]! : as[as.length - 1]!, N = tb ? bs[bs.length - 2]! : bs[bs.length - 1]!;
      const batch = as.length === 3 ? as[0]! : 1;
      const { s } = timeIt(() => tf.tidy(() => void (mat ? tf.matMul(ta ? swap(a) : a, tb ? swap(b) : b) : tf.matMul(a, b, ta, tb)).dataSync()));
      out[name] = (2 * M * N * K * batch) / s / 1e9;
      tf.dispose([a, b]);
    }
    return out;
  }

  const { buildVisionModel } = await import('../src/models/vision/index.js');
  const { variableGrads } = await import('../training/backprop.js');
  const probe = await import('./memory-probe.js');
  probe.trackLiveBytes();
  const model = buildVisionModel('clip', modelConfig(cell) as never);
  const S = model.config.image_size, B = cell.batch!;
  const px = tf.randomNormal([B, 3, S, S]) as import('@tensorflow/tfjs').Tensor4D;
  let step: () => void;
  if (cell.mode === 'infer') {
    step = () => tf.tidy(() => void model.forward(px).imageEmbeds.dataSync());
  } else {
    // LoRA r=8 (alpha 16) on q_proj and v_proj of the upper half, as the PyTorch peer
    const vars: import('@tensorflow/tfjs').Variable[] = [];
    for (const layer of model.layers.slice(model.layers.length >> 1)) {
      for (const l of [layer.q_proj, layer.v_proj]) {
        const d = l.weight.shape[0], o = l.weight.shape[1];
        l.lora = { A: tf.variable(tf.mul(tf.randomNormal([d, 8]), 0.01)), B: tf.variable(tf.zeros([8, o])), scaling: 2, dropout: 0 };
        vars.push(l.lora.A, l.lora.B);
      }
    }
    step = () => {
      const { value, grads } = variableGrads(() => tf.sum(tf.square(model.forward(px, { training: true }).imageEmbeds)) as import('@tensorflow/tfjs').Scalar, vars);
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
  }
  const { s, cpu, reps } = timeIt(step);
  if (cell.probe === false) return { images_per_s: B / s, seconds_per_batch: s, cpu_seconds_per_batch: cpu, reps, peak_rss_mb: rss(), tensors_after: tf.memory().numTensors };
  // one more step, untimed, with the memory probe (weights = what is live before it)
  const before = { tf: tf.memory().numBytes, live: probe.currentLiveBytes() };
  const peaks = probe.measurePeaks(step);
  const mb = (x: number) => x / 2 ** 20;
  return {
    images_per_s: B / s, seconds_per_batch: s, cpu_seconds_per_batch: cpu, reps, peak_rss_mb: rss(), tensors_after: tf.memory().numTensors,
    weights_mb: mb(before.live), tf_peak_mb: mb(peaks.tfBytes), live_peak_mb: mb(peaks.liveBytes),
    tf_peak_mb_per_image: mb(peaks.tfBytes - before.tf) / B, live_peak_mb_per_image: mb(peaks.liveBytes - before.live) / B,
  };
}

/** [M, K, N] of the sgemm-limit measurement: the MLP's x·W₁ at batch B on ViT-L (257 tokens). */
function sgemmShape(batch: number): [number, number, number] {
  return [257 * batch, 1024, 4096];
}

function modelConfig(cell: { model?: string; layers?: number }): Record<string, number> {
  const c = { ...MODELS[cell.model!]! };
  if (cell.layers) c.num_hidden_layers = cell.layers;
  return c;
}

/**
 * FLOPs per image (2 per multiply-add) of the step, from the shapes: patch conv, per layer the 4
 * attention projections, the MLP and the two attention products (T²·D each); training adds the
 * backward pass of the adapted upper half (input gradients of the 6 Linears, 4 attention products)
 * and the rank-8 adapters on q and v (forward 1×, backward 2×).
 */
export function flopsPerImage(c: Record<string, number>, mode: 'infer' | 'train'): number {
  const D = c.hidden_size!, I = c.intermediate_size!, L = c.num_hidden_layers!, p = c.patch_size!;
  const patches = (c.image_size! / p) ** 2, T = patches + 1;
  const linears = T * (4 * D * D + 2 * D * I), attn = 2 * T * T * D;
  let macs = patches * p * p * 3 * D + L * (linears + attn) + D * c.projection_dim!;
  if (mode === 'train') {
    const adapted = L - (L >> 1), lora = 2 * T * 8 * (D + D);
    macs += adapted * (linears + 2 * attn + 3 * lora);
  }
  return 2 * macs;
}

// ------------------------------------------------------------------------------------------------
// parent
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function python(): string | null {
  for (const p of [process.env.LOGOLAB_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[]) {
    if (spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return p;
  }
  return null;
}

function spawnCell(cell: Cell): Result {
  const env = { ...process.env, LOGOLAB_NATIVE: cell.backend === 'cpu' ? '0' : '1', ...(cell.backend === 'native-noreuse' ? { LOGOLAB_RECYCLE_MB: '0' } : {}), OPENBLAS_NUM_THREADS: String(cell.threads), OMP_NUM_THREADS: String(cell.threads) };
  let r;
  if (PEERS.includes(cell.backend)) {
    const py = python();
    if (!py) return { error: 'python3-torch not importable (apt-get install python3-torch python3-torchvision)' };
    const mode = cell.kind === 'sgemm' ? 'sgemm' : cell.mode!;
    r = spawnSync(py, [join(ROOT, 'scripts/bench_torch_peer.py'), '--model', cell.model ?? 'vit-l14', '--batch', String(cell.batch), '--mode', mode, '--reps', String(cell.reps),
      '--budget', String(cell.budget), '--threads', String(cell.threads), '--impl', cell.backend === 'torchvision' ? 'torchvision' : 'clip',
      ...(cell.layers ? ['--layers', String(cell.layers)] : [])], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  } else {
    r = spawnSync(process.execPath, ['--import', tsxImport(), SELF, '--cell', JSON.stringify(cell)], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  }
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: ((r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l))[0] ?? `exit ${r.status}`).slice(0, 200) };
  return JSON.parse(line) as Result;
}

async function main(): Promise<void> {
  const cellArg = process.argv.indexOf('--cell');
  if (cellArg >= 0) {
    const res = await runCell(JSON.parse(process.argv[cellArg + 1]!) as Cell);
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const sections = arg('section', 'matmul,e2e').split(',');
  const backends = arg('backends', 'cpu,native,wasm,torch,torchvision').split(',') as BackendName[];
  const models = arg('models', 'tiny,vit-l14').split(',');
  const modes = arg('modes', 'infer,train').split(',') as ('infer' | 'train')[];
  const reps = Number(arg('reps', '3')), budget = Number(arg('budget', '60'));
  const threads = Number(arg('threads', process.env.LOGOLAB_THREADS ?? process.env.OPENBLAS_NUM_THREADS ?? '2'));
  const batchOf = (m: string) => Number(m === 'tiny' ? arg('tiny-batch', '64') : arg('l14-batch', '1'));
  const log = (s: string) => process.stderr.write(`[bench-native] ${s}\n`);
  const md: string[] = [];
  const all: Result = { date: new Date().toISOString(), loadavg_start: loadavg(), threads, cells: [] as Result[] };
  md.push(`threads ${threads}; load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')} (machine shared: treat as indicative)`);

  if (sections.includes('matmul')) {
    const ours = backends.filter((b) => !PEERS.includes(b));
    md.push('', '| matmul GFLOP/s (B=' + arg('l14-batch', '1') + ') | ' + ours.join(' | ') + ' |', '|---|' + ours.map(() => '---:|').join(''));
    const res: Record<string, Result> = {};
    for (const b of ours) {
      log(`matmul on ${b}`);
      res[b] = spawnCell({ kind: 'matmul', backend: b, batch: batchOf('vit-l14'), reps, budget, threads });
      (all.cells as Result[]).push({ kind: 'matmul', backend: b, ...res[b] });
    }
    for (const name of ['linear x·W', 'grad dY·Wᵀ', 'grad dY·Wᵀ, transpose materialised', 'grad Xᵀ·dY', 'grad Xᵀ·dY, transpose materialised', 'attn Q·Kᵀ',
      'attn Q·Kᵀ, transpose materialised', 'attn P·V']) {
      md.push(`| ${name} | ` + Object.values(res).map((r) => (r.error ? 'error' : (r[name] as number).toFixed(1))).join(' | ') + ' |');
    }
    for (const [b, r] of Object.entries(res)) if (r.error) md.push(`- ${b}: ${r.error}`);
  }

  if (sections.includes('e2e')) {
    const layers = Number(arg('layers', '0')) || undefined;
    // the sgemm limit of this run: native sgemm and torch.mm on the MLP shape, best rep, measured
    // at the start and at the end of the run (a shared machine's load at one moment would lower it)
    let limit = 0;
    const l14Batch = batchOf('vit-l14');
    const measureLimit = (when: string) => {
      for (const b of (['native', 'torch'] as BackendName[]).filter((x) => backends.includes(x))) {
        log(`sgemm limit on ${b} (${when})`);
        const r = spawnCell({ kind: 'sgemm', backend: b, batch: l14Batch, reps, budget, threads });
        (all.cells as Result[]).push({ kind: 'sgemm', when, backend: b, ...r });
        if (typeof r.gflops === 'number') limit = Math.max(limit, r.gflops);
      }
    };
    measureLimit('start');
    // rows are rendered once the limit is final (after the closing measurement)
    const pending: (() => string)[] = [];
    const limitLineAt = md.length;
    md.push('', '| model | batch | mode | backend | images/s | ratio vs PyTorch | % of sgemm limit | peak RSS MB | RSS ratio | tf.memory peak MB/image | live buffers peak MB/image |',
      '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|');
    const f1 = (x: unknown, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '');
    for (const model of models) {
      const batch = batchOf(model);
      for (const mode of modes) {
        const row: Record<string, Result> = {};
        const flops = flopsPerImage(modelConfig({ model, layers }), mode);
        // peers first so the ratio columns can be filled; torchvision is an inference peer only
        const order = [...PEERS, ...backends.filter((x) => !PEERS.includes(x))].filter((b) => backends.includes(b) && !(b === 'torchvision' && mode !== 'infer'));
        // --rounds N: the cells of the row run N times interleaved (peer, ours, peer, ours, …) so a
        // change of machine load hits both sides; images/s = median over rounds, peak RSS = max
        const rounds = Number(arg('rounds', '1'));
        const runs: Record<string, Result[]> = {};
        for (let k = 0; k < rounds; k++) {
          for (const b of order) {
            if ((b === 'cpu' && model !== 'tiny') || (b === 'wasm' && model !== 'tiny' && mode === 'train')) {
              if (!process.argv.includes('--slow')) continue;
            }
            log(`${model} ${mode} batch ${batch} on ${b}${rounds > 1 ? ` (round ${k + 1}/${rounds})` : ''}`);
            (runs[b] ??= []).push(spawnCell({ kind: 'e2e', backend: b, model, mode, batch, layers, reps, budget, threads, probe: k === 0 }));
          }
        }
        for (const b of order) {
          if (!runs[b]) {
            row[b] = { error: b === 'cpu' ? 'skipped (stock cpu ≈1 GFLOP/s: minutes per image; --slow runs it)' : 'skipped (wasm transposed matmuls ≈1–3 GFLOP/s: minutes per step; --slow runs it)' };
            continue;
          }
          const ok = runs[b]!.filter((r) => typeof r.images_per_s === 'number');
          if (!ok.length) {
            row[b] = runs[b]![0]!;
            continue;
          }
          const byIps = [...ok].sort((x, y) => (x.images_per_s as number) - (y.images_per_s as number));
          // memory-probe fields come from round 1 (the only one that runs the probe step)
          row[b] = { ...ok[0]!, ...byIps[(byIps.length - 1) >> 1]!, peak_rss_mb: Math.max(...ok.map((r) => r.peak_rss_mb as number)), rounds: ok.map((r) => r.images_per_s) };
        }
        for (const b of order) {
          const r = row[b]!;
          const ips = r.images_per_s as number | undefined;
          // the peer: for inference the fastest PyTorch path (torchvision) when it ran
          const peer = mode === 'infer' && row.torchvision?.images_per_s ? row.torchvision : row.torch;
          const ref = peer?.images_per_s as number | undefined, refRss = peer?.peak_rss_mb as number | undefined;
          const isPeer = PEERS.includes(b);
          if (ips && ref && !isPeer) r.ratio_vs_peer = ips / ref;
          if (r.peak_rss_mb && refRss && !isPeer) r.rss_ratio_vs_peer = (r.peak_rss_mb as number) / refRss;
          const cell: Result = { kind: 'e2e', model, mode, batch, layers: layers ?? null, backend: b, gflop_per_image: flops / 1e9, ...r };
          (all.cells as Result[]).push(cell);
          const name = b === 'native' ? 'cpu+native' : b === 'native-noreuse' ? 'cpu+native, no buffer reuse' : b === 'torch' ? 'PyTorch (same module)' : b === 'torchvision' ? 'torchvision ViT' : b;
          const render = () => {
            if (ips) cell.fraction_of_sgemm_limit = limit ? (ips * flops) / 1e9 / limit : null;
            const frac = cell.fraction_of_sgemm_limit as number | null | undefined;
            return `| ${model}${layers ? ` (${layers} layers)` : ''} | ${batch} | ${mode} | ${name} | ${r.error ? String(r.error) : ips!.toFixed(3)} | ${f1(r.ratio_vs_peer)} | ${frac ? `${(100 * frac).toFixed(0)} %` : ''} | ${f1(r.peak_rss_mb, 0)} | ${f1(r.rss_ratio_vs_peer)} | ${f1(r.tf_peak_mb_per_image, 0)} | ${f1(r.live_peak_mb_per_image, 0)} |`;
          };
          pending.push(render);
          log(render());
        }
      }
    }
    measureLimit('end');
    all.sgemm_limit_gflops = limit;
    md.push(...pending.map((render) => render()));
    if (limit) md.splice(limitLineAt, 0, '', `sgemm limit of this run: ${limit.toFixed(0)} GFLOP/s ([${sgemmShape(l14Batch).join(', ')}] M·K·N, ${threads} threads, best rep at the start and at the end)`);
  }
  all.loadavg_end = loadavg();
  md.push('', `load average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (arg('format', 'md') === 'json') process.stdout.write(JSON.stringify(all) + '\n');
  else process.stdout.write(md.join('\n') + '\n');
  const jsonOut = arg('json', '');
  if (jsonOut) writeFileAtomic(jsonOut, JSON.stringify(all, null, 2) + '\n');
}

await main();
