/**
 * Memory of one ViT-L/14 LoRA training step, estimated from steps measured at the real widths
 * (hidden 1024, 16 heads, MLP 4096, 257 tokens) on models of 2 and 3 layers:
 *   act(L, B) = c + B·(s0 + L·s1)   tensor bytes above the weights (tf.profile peakBytes)
 *   measured at (L, B) = (2, 2), (3, 2), (2, 4) → s1, s0, c;  weights built with 2 and 3 layers
 *   (batch 1 is not yet linear without recomputation: 6.4 GiB/image fitted from batches 1–2 against
 *   4.7 from 2–4; with recomputation both give 160 MiB).
 * Linear in L for both paths: without recomputation every layer's activations stay on the tape;
 * with it each layer adds its boundary activation and one block is live at a time (a 1-layer graph
 * is not yet representative: measured on cpu, +54 MiB from 1 to 2 layers at batch 2, +2 MiB from 2
 * to 3). Narrower stand-ins do not work: the peak moves to the attention probabilities when the
 * width shrinks (extrapolating from widths 1024/16 and 1024/8 gave 33 MiB/image where the full
 * width measures 160). Every layer is measured with LoRA, so layers frozen below the adapters count
 * as adapted ones: an upper bound. Bytes are tfjs tensor bytes; a device allocator adds its own.
 */
import * as tf from '@tensorflow/tfjs';
import { createHead } from '../src/models/heads.js';
import { applyLora } from '../src/models/lora/index.js';
import { buildVisionModel } from '../src/models/vision/index.js';
import { presetConfig } from '../src/models/vision/presets.js';
import { microBatchSize, type TrainingConfig } from './config.js';
import { getLoss } from './losses/index.js';
import { lossAndGrads } from './recompute.js';
import { visionGraph } from './vision_graph.js';

export interface MemoryLimits {
  /** WebGPU: each tensor must fit one storage binding */
  maxBindingBytes: number | null;
  /** the binding limit is a software adapter's (Mesa): reported, not a failure */
  softwareAdapter: boolean;
  /** device memory when known (nvidia-smi), for tensorflow-gpu */
  deviceBytes: number | null;
}

export interface LoraMemoryEstimate {
  layers: number;
  batch: number;
  recompute: boolean;
  weightsBytes: number;
  perImageBytes: number;
  totalBytes: number;
  largestTensorBytes: number;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Peak tensor bytes above the weights of one ViT-L/14-width LoRA step with `layers` layers. */
async function measure(layers: number, batch: number, recompute: boolean, r: number, targets: string[]): Promise<number> {
  const cfg = { ...presetConfig('clip', 'vit-l14'), num_hidden_layers: layers };
  const model = buildVisionModel('clip', cfg, 'random', 0);
  const x = tf.randomNormal([batch, 3, cfg.image_size, cfg.image_size], 0, 1, 'float32', 1) as tf.Tensor4D;
  try {
    applyLora(model, { r, lora_alpha: 2 * r, lora_dropout: 0, target_modules: targets as never, freeze_layers: 0 });
    const head = createHead('clip', model);
    const labels = Int32Array.from({ length: batch }, (_, i) => i >> 1);
    const before = tf.memory().numBytes;
    const prof = await tf.profile(async () => {
      const out = lossAndGrads(visionGraph(model, head, x, labels, getLoss('infonce')), { recompute });
      await out.loss.data();
      tf.dispose([out.loss, ...Object.values(out.grads)]);
    });
    return prof.peakBytes - before;
  } finally {
    x.dispose();
    model.dispose();
  }
}

function weightBytes(layers: number): number {
  const base = tf.memory().numBytes;
  const m = buildVisionModel('clip', { ...presetConfig('clip', 'vit-l14'), num_hidden_layers: layers }, 'random', 0);
  const b = tf.memory().numBytes - base;
  m.dispose();
  return b;
}

/** Per-image bytes (s0 + L·s1) and the batch-independent part c, for L layers. */
async function fit(L: number, recompute: boolean, r: number, targets: string[]): Promise<{ perImage: number; constant: number }> {
  const a22 = await measure(2, 2, recompute, r, targets);
  const a32 = await measure(3, 2, recompute, r, targets);
  const a24 = await measure(2, 4, recompute, r, targets);
  const s1 = (a32 - a22) / 2;
  const s0 = (a24 - a22) / 2 - 2 * s1;
  return { perImage: s0 + L * s1, constant: a22 - 2 * (s0 + 2 * s1) };
}

/** The images one forward/backward pass holds: the micro-batch, or batch_size chunks with GradCache. */
export function imagesPerPass(c: TrainingConfig): number {
  return c.contrastive_batch === 'cached' ? c.batch_size : microBatchSize(c);
}

export async function estimateVitL14Lora(c: TrainingConfig): Promise<LoraMemoryEstimate> {
  const L = presetConfig('clip', 'vit-l14');
  const r = c.lora_r > 0 ? c.lora_r : 16;
  const targets = c.lora_target_modules;
  const recompute = c.use_gradient_checkpointing;
  const layers = L.num_hidden_layers;
  const { perImage, constant: c0 } = await fit(layers, recompute, r, targets);
  const constant = Math.max(0, c0);
  const w2 = weightBytes(2);
  const weights = w2 + (layers - 2) * (weightBytes(3) - w2);
  const batch = imagesPerPass(c);
  const tokens = (L.image_size / L.patch_size) ** 2 + 1;
  // attention probabilities [B, heads, T, T] and the MLP hidden [B, T, 4·H] are the largest tensors
  const largest = batch * 4 * Math.max(L.num_attention_heads * tokens * tokens, tokens * L.intermediate_size);
  return { layers, batch, recompute, weightsBytes: weights, perImageBytes: perImage, totalBytes: weights + constant + batch * perImage, largestTensorBytes: largest };
}

export function judgeEstimate(e: LoraMemoryEstimate, lim: MemoryLimits): { ok: boolean; detail: string } {
  const g = (b: number) => `${(b / GiB).toFixed(2)} GiB`;
  const m = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
  const parts = [`${m(e.perImageBytes)}/image (recompute ${e.recompute ? 'on' : 'off'}); batch ${e.batch}: ${g(e.totalBytes)} incl. weights ${g(e.weightsBytes)}; largest tensor ${m(e.largestTensorBytes)}`];
  let ok = Number.isFinite(e.totalBytes) && e.perImageBytes > 0;
  if (lim.deviceBytes !== null) {
    const fits = e.totalBytes <= 0.9 * lim.deviceBytes;
    parts.push(`${fits ? 'fits' : 'does NOT fit'} 90 % of the GPU's ${g(lim.deviceBytes)}`);
    ok &&= fits;
  }
  if (lim.maxBindingBytes !== null) {
    const fits = e.largestTensorBytes <= lim.maxBindingBytes;
    const cap = Math.floor((lim.maxBindingBytes / e.largestTensorBytes) * e.batch);
    parts.push(`WebGPU binding limit ${m(lim.maxBindingBytes)}: ${fits ? 'fits' : `batch > ${cap} does NOT fit${lim.softwareAdapter ? ' (software adapter: not counted as a failure)' : ''}`}`);
    if (!lim.softwareAdapter) ok &&= fits;
  }
  if (!ok && parts.length > 1) parts.push('lower logos_per_batch × samples_per_logo, or contrastive_batch: cached with a smaller batch_size');
  return { ok, detail: parts.join('; ') };
}

export async function estimateLoraMemory(c: TrainingConfig, lim: MemoryLimits): Promise<{ ok: boolean; detail: string }> {
  return judgeEstimate(await estimateVitL14Lora(c), lim);
}
