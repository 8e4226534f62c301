/**
 * DetrForObjectDetection forward pass (HF transformers modeling_detr semantics), inference only.
 *
 *   pixel_values [B,3,H,W] ─ ResNet (frozen BN folded, NHWC) ─ feature [B,h,w,C]
 *     └ input_projection (1×1) → [B, S=h·w, d]      pixel_mask → nearest → [B,h,w] → sine pos [B,S,d]
 *   encoder ×N (post-norm): q = k = x + pos, v = x; padded keys masked
 *   decoder ×M (post-norm): h₀ = 0; self-attn q = k = h + query_pos, v = h;
 *                           cross-attn q = h + query_pos, k = enc + pos, v = enc; final LayerNorm
 *   heads: logits = class_labels_classifier(h) [B,Q,L+1]; boxes = sigmoid(MLP₃(h)) [B,Q,4] (cx,cy,w,h)
 */
import * as tf from '@tensorflow/tfjs';
import { applyLinear, layerNorm, type Linear } from '../models/layers.js';
import { conv2dResidual, fusedAttention, fusedOpsActive } from '../models/ops.js';
import type { DetrConfig } from './config.js';
import type { Attention, ConvBn, DecoderLayerW, DetrWeights, EncoderLayerW } from './weights.js';
import { featureMask, sinePositionEmbedding } from './position.js';

export interface DetrOutputs {
  logits: tf.Tensor3D; // [B, Q, numLabels + 1], last = no object
  predBoxes: tf.Tensor3D; // [B, Q, 4] normalised cx, cy, w, h
  lastHiddenState: tf.Tensor3D; // [B, Q, d] decoder output after its final LayerNorm
}

/** PyTorch pads k//2 on every side. For stride 1 and odd k that is exactly TF 'same'; with stride 2
 *  TF 'same' would pad bottom/right only, so strided convs get the explicit symmetric padding. */
function convPad(c: ConvBn): 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]] {
  const p = c.pad;
  return p === 0 ? 'valid' : c.stride === 1 && 2 * p + 1 === c.filter.shape[0] ? 'same' : [[0, 0], [p, p], [p, p], [0, 0]];
}

function conv(x: tf.Tensor4D, c: ConvBn, relu: boolean): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: convPad(c), bias: c.bias, activation: relu ? 'relu' : 'linear' });
}

/** relu(conv(x, c) + shortcut), the end of a bottleneck: one native kernel on cpu + native kernels
 *  (inference), else the composite. */
function convAddRelu(x: tf.Tensor4D, c: ConvBn, shortcut: tf.Tensor4D): tf.Tensor4D {
  const taping = ((tf.engine() as unknown as { state?: { gradientDepth?: number } }).state?.gradientDepth ?? 0) > 0;
  if (fusedOpsActive() && !taping && x.dtype === 'float32' && shortcut.dtype === 'float32') {
    return conv2dResidual(x, c.filter, c.bias, shortcut, c.stride, convPad(c), 'relu');
  }
  return tf.relu(tf.add(conv(x, c, false), shortcut)) as tf.Tensor4D;
}

/** NHWC [B,H,W,3] → last stage feature map [B,h,w,C]. */
export function backboneForward(w: DetrWeights, x: tf.Tensor4D): tf.Tensor4D {
  let h = tf.tidy(() => tf.maxPool(conv(x, w.stem, true), 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]));
  for (const stage of w.stages) {
    for (const b of stage) {
      const prev = h;
      h = tf.tidy(() => {
        const y = conv(conv(prev, b.c1, true), b.c2, true);
        const sc = b.down ? conv(prev, b.down, false) : prev;
        return convAddRelu(y, b.c3, sc);
      });
      prev.dispose();
    }
  }
  return h;
}

/**
 * Multi-head attention as HF DetrAttention: q = q_proj(qIn)·hd^-½, k = k_proj(kIn), v = v_proj(vIn).
 * qIn [B,T,d], kIn/vIn [B,S,d], maskAdd [B,1,1,S] (0 or −1e9) or null → [B,T,d].
 */
function attention(a: Attention, heads: number, qIn: tf.Tensor3D, kIn: tf.Tensor3D, vIn: tf.Tensor3D, maskAdd: tf.Tensor4D | null): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, d] = qIn.shape;
    const S = kIn.shape[1];
    const hd = d / heads;
    const qp = applyLinear(qIn, a.q_proj) as tf.Tensor3D, kp = applyLinear(kIn, a.k_proj) as tf.Tensor3D, vp = applyLinear(vIn, a.v_proj) as tf.Tensor3D;
    // cpu + native kernels, no padded keys: the vision encoders' fused attention on the [B, T, d]
    // layout (the scale multiplies q·kᵀ inside the product instead of q: equal up to float rounding)
    const fused = maskAdd ? null : fusedAttention(qp, kp, vp, heads);
    if (fused) return applyLinear(fused, a.out_proj) as tf.Tensor3D;
    const q = tf.mul(qp, 1 / Math.sqrt(hd)).reshape([B, T, heads, hd]).transpose([0, 2, 1, 3]).reshape([B * heads, T, hd]) as tf.Tensor3D;
    // k pre-transposed to [B·H, hd, S] so the score matmul is a plain (non-transposed) one
    const kT = kp.reshape([B, S, heads, hd]).transpose([0, 2, 3, 1]).reshape([B * heads, hd, S]) as tf.Tensor3D;
    const v = vp.reshape([B, S, heads, hd]).transpose([0, 2, 1, 3]).reshape([B * heads, S, hd]) as tf.Tensor3D;
    let scores: tf.Tensor = tf.matMul(q, kT); // [B·H, T, S]
    if (maskAdd) scores = tf.add(scores.reshape([B, heads, T, S]), maskAdd).reshape([B * heads, T, S]);
    const probs = tf.softmax(scores, -1) as tf.Tensor3D;
    const ctx = tf.matMul(probs, v).reshape([B, heads, T, hd]).transpose([0, 2, 1, 3]).reshape([B, T, d]);
    return applyLinear(ctx, a.out_proj) as tf.Tensor3D;
  });
}

function ffn(l: EncoderLayerW, x: tf.Tensor3D): tf.Tensor3D {
  return applyLinear(tf.relu(applyLinear(x, l.fc1)), l.fc2) as tf.Tensor3D;
}

function encoderLayer(l: EncoderLayerW, heads: number, x: tf.Tensor3D, pos: tf.Tensor3D, maskAdd: tf.Tensor4D | null): tf.Tensor3D {
  return tf.tidy(() => {
    const qk = tf.add(x, pos) as tf.Tensor3D;
    let h = layerNorm(tf.add(x, attention(l.self_attn, heads, qk, qk, x, maskAdd)), l.self_attn_layer_norm) as tf.Tensor3D;
    h = layerNorm(tf.add(h, ffn(l, h)), l.final_layer_norm) as tf.Tensor3D;
    return h;
  });
}

function decoderLayer(l: DecoderLayerW, heads: number, h: tf.Tensor3D, queryPos: tf.Tensor3D, enc: tf.Tensor3D, encWithPos: tf.Tensor3D, maskAdd: tf.Tensor4D | null): tf.Tensor3D {
  return tf.tidy(() => {
    const qk = tf.add(h, queryPos) as tf.Tensor3D;
    let x = layerNorm(tf.add(h, attention(l.self_attn, heads, qk, qk, h, null)), l.self_attn_layer_norm) as tf.Tensor3D;
    const q2 = tf.add(x, queryPos) as tf.Tensor3D;
    x = layerNorm(tf.add(x, attention(l.encoder_attn, heads, q2, encWithPos, enc, maskAdd)), l.encoder_attn_layer_norm) as tf.Tensor3D;
    x = layerNorm(tf.add(x, ffn(l, x)), l.final_layer_norm) as tf.Tensor3D;
    return x;
  });
}

/**
 * pixelValues: [B,3,H,W] (as DetrImageProcessor gives it); pixelMask: [B·H·W] 1 = pixel, 0 = padding
 * (null = no padding). Returns new tensors the caller disposes.
 */
export function detrForward(cfg: DetrConfig, w: DetrWeights, pixelValues: tf.Tensor4D, pixelMask: ArrayLike<number> | null, opts: { queryPositionEmbeddings?: tf.Tensor2D } = {}): DetrOutputs {
  const [B, , H, W] = pixelValues.shape;
  const nhwc = tf.tidy(() => tf.transpose(pixelValues, [0, 2, 3, 1]) as tf.Tensor4D);
  let feat: tf.Tensor4D;
  try {
    feat = backboneForward(w, nhwc);
  } finally {
    nhwc.dispose();
  }
  try {
    const [, fh, fw] = feat.shape;
    return transformerForward(cfg, w, feat, featureMask(pixelMask, B, H, W, fh, fw), opts);
  } finally {
    feat.dispose();
  }
}

/**
 * Everything after the backbone: feat [B,h,w,C] (NHWC) and its mask [B·h·w] (1 valid, 0 padding)
 * → heads. Exposed for tests of the masking path.
 */
export function transformerForward(cfg: DetrConfig, w: DetrWeights, feat: tf.Tensor4D, mask: Uint8Array, opts: { queryPositionEmbeddings?: tf.Tensor2D } = {}): DetrOutputs {
  return tf.tidy(() => {
    const [B, fh, fw, C] = feat.shape;
    const S = fh * fw;
    const d = cfg.dModel;
    const pos = tf.tensor3d(sinePositionEmbedding(mask, B, fh, fw, d), [B, S, d]);
    const anyPad = mask.some((m) => m === 0);
    const maskAdd = anyPad ? (tf.tensor4d(Float32Array.from(mask, (m) => (m ? 0 : -1e9)), [B, 1, 1, S]) as tf.Tensor4D) : null;
    let x = applyLinear(feat.reshape([B, S, C]), w.input_projection) as tf.Tensor3D;
    for (const l of w.encoder) {
      const prev = x;
      x = encoderLayer(l, cfg.encoderHeads, x, pos, maskAdd);
      prev.dispose();
    }
    const enc = x;
    const encWithPos = tf.add(enc, pos) as tf.Tensor3D;
    const qpe = opts.queryPositionEmbeddings ?? w.query_position_embeddings;
    const Q = qpe.shape[0];
    const queryPos = tf.broadcastTo(qpe.reshape([1, Q, d]), [B, Q, d]) as tf.Tensor3D;
    let h = tf.zeros([B, Q, d]) as tf.Tensor3D;
    for (const l of w.decoder) {
      const prev = h;
      h = decoderLayer(l, cfg.decoderHeads, h, queryPos, enc, encWithPos, maskAdd);
      prev.dispose();
    }
    const last = layerNorm(h, w.decoder_layernorm) as tf.Tensor3D;
    const logits = applyLinear(last, w.class_labels_classifier) as tf.Tensor3D;
    const [l0, l1, l2] = w.bbox_predictor as [Linear, Linear, Linear];
    const predBoxes = tf.sigmoid(applyLinear(tf.relu(applyLinear(tf.relu(applyLinear(last, l0)), l1)), l2)) as tf.Tensor3D;
    return { logits, predBoxes, lastHiddenState: last };
  });
}
