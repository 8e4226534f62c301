/**
 * ViT building blocks shared by CLIP, DINOv2 and SigLIP: activations, multi-head self-attention
 * and the pre-LN encoder layer
 *   x = x + ls1 · out_proj(attn(layer_norm1(x)))
 *   x = x + ls2 · fc2(act(fc1(layer_norm2(x))))
 * (ls = DINOv2 LayerScale, absent for CLIP/SigLIP).
 *
 * Every layer is callable on its own (`forward(x, ctx)`), so the trainer can recompute one block at
 * a time. Linear layers use HF's CLIP names (q_proj, k_proj, v_proj, out_proj, fc1, fc2) whatever
 * the family; `hfModules` maps them back to the checkpoint's own module paths (DINOv2's
 * `attention.attention.query`, ...) for peft-style adapter keys.
 */
import * as tf from '@tensorflow/tfjs';
import { applyLinear, disposeLinear, INFERENCE, layerNorm, type ForwardContext, type LayerNormParams, type Linear } from '../layers.js';
import type { HiddenAct } from './config.js';
import { fusedAttention, fusedQuickGelu } from '../ops.js';

/** An MLP activation: a config hidden_act, or 'swiglu' (DINOv2 giant: silu(x1)·x2 of fc1's two halves). */
export type MlpAct = HiddenAct | 'swiglu';

export function activation(x: tf.Tensor, act: MlpAct): tf.Tensor {
  return tf.tidy(() => {
    switch (act) {
      case 'swiglu': {
        // [.., 2h] → [.., h]: torch's chunk(2, dim=-1), silu(x1) = x1·sigmoid(x1)
        const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
        return tf.mul(tf.mul(x1, tf.sigmoid(x1)), x2);
      }
      case 'quick_gelu':
        // one fused pass on cpu + native kernels (same float32 rounding steps), else the composite
        return fusedQuickGelu(x) ?? tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
      case 'gelu':
        // exact gelu, as torch's default
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
      case 'gelu_pytorch_tanh':
      case 'gelu_new': {
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
      }
    }
  });
}

/** [B, T, D] → [B·H, T, dh] */
function splitHeads(x: tf.Tensor, b: number, t: number, h: number, dh: number): tf.Tensor3D {
  return x.reshape([b, t, h, dh]).transpose([0, 2, 1, 3]).reshape([b * h, t, dh]);
}

/**
 * Scaled dot-product attention of queries q [B, Tq, D] over keys/values k, v [B, Tk, D], with H
 * heads. Heads are merged into the batch dim and K is transposed explicitly so both matmuls are
 * plain batched matmuls (the fast path on wasm). Returns [B, Tq, D] before the output projection.
 */
export function multiHeadAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number): tf.Tensor3D {
  return tf.tidy(() => {
    // cpu + native kernels: one fused kernel on the [B, T, D] layout (+ its gradient)
    const fused = fusedAttention(q, k, v, numHeads);
    if (fused) return fused;
    const [b, tq, d] = q.shape;
    const tk = k.shape[1];
    const dh = d / numHeads;
    const qh = tf.mul(splitHeads(q, b, tq, numHeads, dh), 1 / Math.sqrt(dh)) as tf.Tensor3D; // [BH, Tq, dh]
    const kt = k.reshape([b, tk, numHeads, dh]).transpose([0, 2, 3, 1]).reshape([b * numHeads, dh, tk]) as tf.Tensor3D; // [BH, dh, Tk]
    const vh = splitHeads(v, b, tk, numHeads, dh); // [BH, Tk, dh]
    const out = perSliceAttention() ? slicedAttention(qh, kt, vh) : tf.matMul(tf.softmax(tf.matMul(qh, kt)), vh); // [BH, Tq, dh]
    return out.reshape([b, numHeads, tq, dh]).transpose([0, 2, 1, 3]).reshape([b, tq, d]);
  });
}

/**
 * The wasm backend runs 2-D matmuls through XNNPACK but batched (3-D) ones through a slow generic
 * kernel, and its Slice/Unpack kernels copy the WHOLE input per slice. So for inference on wasm the
 * per-head products are B·H separate 2-D matmuls on rows taken with (native) gather: measured
 * ~2.5× faster than the batched path for ViT-L heads ([64, 257, 64]). gather's gradient needs
 * UnsortedSegmentSum, which wasm lacks, so while a gradient tape records (training) the batched
 * path is used.
 */
export type AttentionImpl = 'auto' | 'batched' | 'sliced';
let attentionImpl: AttentionImpl = 'auto';
/** Forces one attention implementation (tests, benchmarks); 'auto' = sliced on wasm inference. */
export function setAttentionImpl(impl: AttentionImpl): void {
  attentionImpl = impl;
}

function perSliceAttention(): boolean {
  if (attentionImpl !== 'auto') return attentionImpl === 'sliced';
  if (tf.getBackend() !== 'wasm') return false;
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 1) === 0;
}

/** qh [BH, Tq, dh], kt [BH, dh, Tk], vh [BH, Tk, dh] → [BH, Tq, dh], one 2-D chain per head */
function slicedAttention(qh: tf.Tensor3D, kt: tf.Tensor3D, vh: tf.Tensor3D): tf.Tensor3D {
  const [bh, tq, dh] = qh.shape;
  const outs: tf.Tensor2D[] = [];
  for (let i = 0; i < bh; i++) {
    const row = (t: tf.Tensor3D) => tf.gather(t, i, 0) as unknown as tf.Tensor2D; // scalar index: [T, ·]
    const s = tf.matMul(row(qh), row(kt)); // [Tq, Tk]
    outs.push(tf.matMul(tf.softmax(s), row(vh))); // [Tq, dh]
  }
  return tf.concat(outs, 0).reshape([bh, tq, dh]);
}

export interface EncoderLayerParams {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  fc1: Linear;
  fc2: Linear;
  layer_norm1: LayerNormParams;
  layer_norm2: LayerNormParams;
  /** DINOv2 LayerScale lambdas [D] (null otherwise) */
  layer_scale1: tf.Tensor1D | null;
  layer_scale2: tf.Tensor1D | null;
}

export class EncoderLayer implements EncoderLayerParams {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  fc1: Linear;
  fc2: Linear;
  layer_norm1: LayerNormParams;
  layer_norm2: LayerNormParams;
  layer_scale1: tf.Tensor1D | null;
  layer_scale2: tf.Tensor1D | null;
  readonly index: number;
  readonly numHeads: number;
  readonly act: MlpAct;
  /**
   * HF module path (as in the checkpoint and in peft adapter keys, e.g.
   * 'vision_model.encoder.layers.3.self_attn.q_proj' or 'encoder.layer.3.attention.attention.query')
   * → our Linear field name.
   */
  readonly hfModules: Record<string, 'q_proj' | 'k_proj' | 'v_proj' | 'out_proj' | 'fc1' | 'fc2'>;

  constructor(p: EncoderLayerParams, opts: { index: number; numHeads: number; act: MlpAct; hfModules: EncoderLayer['hfModules'] }) {
    this.q_proj = p.q_proj;
    this.k_proj = p.k_proj;
    this.v_proj = p.v_proj;
    this.out_proj = p.out_proj;
    this.fc1 = p.fc1;
    this.fc2 = p.fc2;
    this.layer_norm1 = p.layer_norm1;
    this.layer_norm2 = p.layer_norm2;
    this.layer_scale1 = p.layer_scale1;
    this.layer_scale2 = p.layer_scale2;
    this.index = opts.index;
    this.numHeads = opts.numHeads;
    this.act = opts.act;
    this.hfModules = opts.hfModules;
  }

  /** Self-attention block output before the residual: out_proj(attn(x)), x already normalised. */
  attention(xn: tf.Tensor3D, ctx: ForwardContext = INFERENCE): tf.Tensor3D {
    return tf.tidy(() => {
      const q = applyLinear(xn, this.q_proj, ctx) as tf.Tensor3D;
      const k = applyLinear(xn, this.k_proj, ctx) as tf.Tensor3D;
      const v = applyLinear(xn, this.v_proj, ctx) as tf.Tensor3D;
      return applyLinear(multiHeadAttention(q, k, v, this.numHeads), this.out_proj, ctx) as tf.Tensor3D;
    });
  }

  mlp(xn: tf.Tensor3D, ctx: ForwardContext = INFERENCE): tf.Tensor3D {
    return tf.tidy(() => applyLinear(activation(applyLinear(xn, this.fc1, ctx), this.act), this.fc2, ctx) as tf.Tensor3D);
  }

  /** x: [B, T, D] → [B, T, D] */
  forward(x: tf.Tensor3D, ctx: ForwardContext = INFERENCE): tf.Tensor3D {
    return tf.tidy(() => {
      let a: tf.Tensor = this.attention(layerNorm(x, this.layer_norm1) as tf.Tensor3D, ctx);
      if (this.layer_scale1) a = tf.mul(a, this.layer_scale1);
      const h = tf.add(x, a) as tf.Tensor3D;
      let m: tf.Tensor = this.mlp(layerNorm(h, this.layer_norm2) as tf.Tensor3D, ctx);
      if (this.layer_scale2) m = tf.mul(m, this.layer_scale2);
      return tf.add(h, m) as tf.Tensor3D;
    });
  }

  /** Frozen tensors of this layer under canonical names relative to the layer (model layout). */
  named(): [string, tf.Tensor][] {
    const out: [string, tf.Tensor][] = [];
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] as const) {
      out.push([`${n}.weight`, this[n].weight]);
      if (this[n].bias) out.push([`${n}.bias`, this[n].bias!]);
    }
    out.push(['layer_norm1.weight', this.layer_norm1.weight], ['layer_norm1.bias', this.layer_norm1.bias]);
    out.push(['layer_norm2.weight', this.layer_norm2.weight], ['layer_norm2.bias', this.layer_norm2.bias]);
    if (this.layer_scale1) out.push(['layer_scale1', this.layer_scale1]);
    if (this.layer_scale2) out.push(['layer_scale2', this.layer_scale2]);
    return out;
  }

  dispose(): void {
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] as const) disposeLinear(this[n]);
    for (const ln of [this.layer_norm1, this.layer_norm2]) {
      ln.weight.dispose();
      ln.bias.dispose();
    }
    this.layer_scale1?.dispose();
    this.layer_scale2?.dispose();
  }
}
