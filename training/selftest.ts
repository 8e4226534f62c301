/**
 * `logolab doctor --selftest`: what a user runs on a new (GPU) machine before a long fine-tuning
 * job, on the backend that job will use, in about two minutes:
 *   - every encoder family and DETR against the transformers fixtures (src/selftest/parity.ts)
 *   - the contrastive losses and their gradients against the fixtures
 *   - LoRA: peft adapter embeddings, InfoNCE loss and every A/B gradient, plain and recomputed
 *   - the trainer: 3 optimizer steps on one fixed batch — finite, strictly decreasing loss,
 *     tf.memory().numTensors the same after every step
 *   - an estimate of the memory of a ViT-L/14 LoRA step (r 16, q/v) per image and at the config's
 *     batch, from steps measured at the real ViT-L/14 widths on 1 and 2 layers (memory.ts)
 * Tolerances are those of the parity tests (test/fixtures/README.md): fp32's. On tensorflow-gpu the
 * caller turns TF32 off before the backend loads (src/selftest/precision.ts), so these check the
 * fp32 kernels; training itself runs with TF32 on Ampere and newer GPUs.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePidTempDir } from '../src/util/process.js';
import { currentBackend, initBackend } from '../src/backend/index.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { l2Normalize } from '../src/models/heads.js';
import { createHead } from '../src/models/heads.js';
import { activeSites, loadAdapter } from '../src/models/lora/index.js';
import { loadVisionModel } from '../src/models/vision/index.js';
import { clipParity, detrParity, dinov2Parity, maxAbsDiff, siglipParity } from '../src/selftest/parity.js';
import { allWithin, runCheck, within, type CheckResult } from '../src/selftest/report.js';
import { parseConfig, type TrainingConfig } from './config.js';
import { getLoss } from './losses/index.js';
import { buildTrainableModel } from './model.js';
import { lossAndGrads } from './recompute.js';
import { Trainer } from './trainer.js';
import type { DataSource } from './batch.js';
import { recomputeGradFn } from './vision_graph.js';
import { estimateLoraMemory, type MemoryLimits } from './memory_estimate.js';

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

async function lossesParity(fixtures: string) {
  const io = readSafetensors(join(fixtures, 'losses/io.safetensors'));
  const values = (JSON.parse(readFileSync(join(fixtures, 'losses/values.json'), 'utf8')) as { values: Record<string, number> }).values;
  let dv = 0;
  let dg = 0;
  // supcon at T 0.5: at 0.07 the Python original's +1e-8 inside the log shifts its pk value by
  // 1.6e-4 (training/losses/supcon.ts is exact; test/losses checks that shift in float64)
  for (const [key, name, t] of [['infonce.t0.07', 'infonce', 0.07], ['supcon.t0.5', 'supcon', 0.5], ['triplet', 'triplet', undefined]] as const) {
    const loss = getLoss(name, { temperature: t, margin: 0.3 });
    const raw = io.get('pk.raw')!;
    const labels = io.get('pk.labels')!.data as Int32Array;
    const x = tf.tensor2d(raw.data as Float32Array, raw.shape as [number, number]);
    const { value, grad } = tf.valueAndGrad((r: tf.Tensor) => loss(l2Normalize(r as tf.Tensor2D), labels))(x);
    const want = io.get(`pk.${key}.grad_raw`)!.data;
    dv = Math.max(dv, Math.abs((await value.data())[0]! - values[`pk.${key}`]!));
    dg = Math.max(dg, maxAbsDiff(await grad.data(), want) / (maxAbs(want) + 1e-4));
    tf.dispose([x, value, grad]);
  }
  return allWithin([within('|Δloss|', dv, 1e-5), within('grad err/max|g|', dg, 1e-3)]);
}

async function loraParity(fixtures: string) {
  const io = readSafetensors(join(fixtures, 'lora/io.safetensors'));
  const want = JSON.parse(readFileSync(join(fixtures, 'lora/values.json'), 'utf8')) as Record<string, number>;
  const model = await loadVisionModel(join(fixtures, 'clip_tiny/model'), { quiet: true });
  const px = io.get('pixel_values')!;
  const x = tf.tensor4d(px.data as Float32Array, px.shape as [number, number, number, number]);
  const labels = io.get('labels')!.data as Int32Array;
  const parts: { ok: boolean; detail: string }[] = [];
  try {
    loadAdapter(model, join(fixtures, 'lora/adapter'));
    const e = tf.tidy(() => model.forward(x).imageEmbeds);
    parts.push(within('embeds', maxAbsDiff(await e.data(), io.get('image_embeds')!.data), 1e-4));
    e.dispose();
    const { visionGraph } = await import('./vision_graph.js');
    const head = createHead('clip', model);
    for (const recompute of [false, true]) {
      const { loss, grads } = lossAndGrads(visionGraph(model, head, x, labels, getLoss('infonce', { temperature: 0.07 })), { recompute });
      let worst = 0;
      for (const s of activeSites(model)) {
        for (const which of ['A', 'B'] as const) {
          const v = which === 'A' ? s.lora.A : s.lora.B;
          const g = tf.tidy(() => grads[v.name]!.transpose()); // ours [in,r]/[r,out] → peft [r,in]/[out,r]
          const ref = io.get(`grad.base_model.model.vision_model.encoder.layers.${s.layer}.self_attn.${s.target}.lora_${which}.default.weight`)!.data;
          worst = Math.max(worst, maxAbsDiff(await g.data(), ref) / maxAbs(ref));
          g.dispose();
        }
      }
      parts.push(within(`${recompute ? 'recomputed' : 'plain'}: |Δloss|`, Math.abs((await loss.data())[0]! - want['loss_infonce_t0.07']!), 1e-5));
      parts.push(within('grad err/max|g|', worst, 1e-3));
      tf.dispose([loss, ...Object.values(grads)]);
    }
  } finally {
    x.dispose();
    model.dispose();
  }
  return allWithin(parts);
}

/** 3 trainer steps (AdamW, LoRA r 4 on the upper 2 layers of clip_tiny) on the lora fixture batch. */
async function threeSteps(fixtures: string, recompute: boolean): Promise<{ losses: number[]; tensors: number[] }> {
  // a pid-named folder removed on SIGINT/SIGTERM too, and by the next run if this one was killed
  const tmp = makePidTempDir('logolab-selftest-');
  const dir = tmp.dir;
  const io = readSafetensors(join(fixtures, 'lora/io.safetensors'));
  const px = io.get('pixel_values')!;
  const labels = io.get('labels')!.data as Int32Array;
  const batch = () => ({ pixels: tf.tensor4d(px.data as Float32Array, px.shape as [number, number, number, number]), labels: Int32Array.from(labels) });
  // the same batch every step: then a working optimizer step must lower the loss
  const data: DataSource = { trainBatch: async () => batch(), numValBatches: () => 1, valBatch: async () => batch() };
  const cfg = parseConfig({
    base_model: join(fixtures, 'clip_tiny/model'), lora_r: 4, lora_alpha: 8, lora_dropout: 0, freeze_layers: 2, use_gradient_checkpointing: recompute,
    logos_per_batch: 4, samples_per_logo: 2, gradient_accumulation_steps: 1, batches_per_epoch: 3, max_epochs: 1, val_batches: 1,
    warmup_steps: 0, learning_rate: 1e-2, weight_decay: 0, temperature: 0.07, checkpoint_dir: dir, seed: 0,
  }, 'selftest config');
  const tm = await buildTrainableModel(cfg);
  const losses: number[] = [];
  const tensors: number[] = [];
  const tr = new Trainer(cfg, tm, data, { quiet: true, gradFn: recompute ? recomputeGradFn : undefined, onStep: (s) => (losses.push(s.loss), tensors.push(tf.memory().numTensors)) });
  try {
    await tr.train();
  } finally {
    tr.dispose();
    tm.dispose();
    tmp.remove();
  }
  return { losses, tensors };
}

export const SELFTEST_GROUPS = ['parity', 'losses', 'lora', 'train', 'memory'] as const;

export interface SelftestOptions {
  fixtures: string;
  config: TrainingConfig;
  limits: MemoryLimits;
  /** groups to run (default all): see SELFTEST_GROUPS */
  groups?: readonly string[];
  /** measure the memory estimate on this backend instead of the current one */
  measureOn?: string;
  /** called before each check (progress on stderr) */
  onCheck?: (name: string) => void;
}

export async function runSelftest(o: SelftestOptions): Promise<CheckResult[]> {
  const rows: CheckResult[] = [];
  const groups = new Set(o.groups ?? SELFTEST_GROUPS);
  let group = '';
  const check = async (name: string, fn: Parameters<typeof runCheck>[1]) => {
    if (!groups.has(group)) return;
    o.onCheck?.(name);
    rows.push(await runCheck(name, fn));
  };
  const f = o.fixtures;
  group = 'parity';
  await check('CLIP (clip_tiny) vs transformers', () => clipParity(f));
  await check('DINOv2 (dinov2_tiny, 32+40 px) vs transformers', () => dinov2Parity(f));
  await check('SigLIP (siglip_tiny) vs transformers', () => siglipParity(f));
  await check('DETR (detr_tiny) vs transformers', () => detrParity(f));
  group = 'losses';
  await check('losses (InfoNCE, SupCon, triplet) + gradients', () => lossesParity(f));
  group = 'lora';
  await check('LoRA adapter, loss and A/B gradients vs peft', () => loraParity(f));
  group = 'train';
  const recompute = o.config.use_gradient_checkpointing;
  let steps: { losses: number[]; tensors: number[] } | null = null;
  await check(`3 training steps (recompute ${recompute ? 'on' : 'off'}): finite, decreasing loss`, async () => {
    steps = await threeSteps(f, recompute);
    const l = steps.losses;
    const ok = l.length === 3 && l.every(Number.isFinite) && l[1]! < l[0]! && l[2]! < l[1]!;
    return { ok, detail: `loss ${l.map((v) => v.toFixed(5)).join(' → ')}` };
  });
  await check('numTensors steady across the 3 steps', () => {
    const t = steps?.tensors ?? [];
    return { ok: t.length === 3 && t.every((n) => n === t[0]), detail: `numTensors ${t.join(', ') || '(no steps ran)'}` };
  });
  group = 'memory';
  await check('ViT-L/14 LoRA step memory estimate', async () => {
    if (!o.measureOn) return estimateLoraMemory(o.config, o.limits);
    // a full-width ViT-L/14 step takes minutes on a software adapter: measure on another backend
    const prev = currentBackend()!.name;
    await initBackend(o.measureOn, { quiet: true });
    try {
      const r = await estimateLoraMemory(o.config, o.limits);
      return { ok: r.ok, detail: `measured on ${o.measureOn} (fused cpu kernels keep fewer intermediates: the GPU path may need more): ${r.detail}` };
    } finally {
      await initBackend(prev, { quiet: true });
    }
  });
  return rows;
}
