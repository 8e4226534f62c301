/**
 * New cpu kernels (no stock counterpart) behind the fused ops of ./fused-ops.ts, each a forward
 * kernel that keeps what its gradient needs and the gradient kernel:
 *   LogolabLayerNorm(Grad)   LayerNorm over the last axis, mean and 1/std kept (1 pass instead of ~9 kernels)
 *   LogolabQuickGelu(Grad)   CLIP's x·σ(1.702x) (1 pass instead of 3 kernels forward, ~6 backward)
 *   LogolabAttention(Grad)   multi-head attention on strided per-head sgemm, softmax probabilities kept
 *   LogolabConv2DResidual    act(conv + bias + residual), inference only (./conv.ts)
 */
import * as tf from '@tensorflow/tfjs';
import { theAddon } from './addon.js';
import { alloc, f32, size, type Args } from './cpu.js';
import { CONV_RESIDUAL, convResidualKernel } from './conv.js';
import { UnaryOp } from './op-codes.js';

export const FUSED_KERNEL_NAMES = {
  layerNorm: 'LogolabLayerNorm', layerNormGrad: 'LogolabLayerNormGrad',
  quickGelu: 'LogolabQuickGelu', quickGeluGrad: 'LogolabQuickGeluGrad',
  attention: 'LogolabAttention', attentionGrad: 'LogolabAttentionGrad',
  convResidual: CONV_RESIDUAL,
} as const;

const layerNorm: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const cols = x.shape[x.shape.length - 1]!, rows = size(x.shape) / Math.max(cols, 1);
  const y = alloc(size(x.shape)), mean = alloc(rows), rstd = alloc(rows);
  theAddon().layernorm(f32(b, x)!, f32(b, gamma)!, f32(b, beta)!, y, mean, rstd, rows, cols, Number(attrs!.eps));
  const stat = x.shape.slice(0, -1);
  return [b.makeTensorInfo(x.shape.slice(), 'float32', y), b.makeTensorInfo(stat, 'float32', mean), b.makeTensorInfo(stat, 'float32', rstd)];
};

const layerNormGrad: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const { dy, x, gamma, mean, rstd } = inputs as Record<string, tf.TensorInfo>;
  const cols = x!.shape[x!.shape.length - 1]!, rows = size(x!.shape) / Math.max(cols, 1);
  const dx = alloc(size(x!.shape)), dg = alloc(cols), db = alloc(cols);
  theAddon().layernormGrad(f32(b, dy!)!, f32(b, x!)!, f32(b, gamma!)!, f32(b, mean!)!, f32(b, rstd!)!, dx, dg, db, rows, cols);
  return [b.makeTensorInfo(x!.shape.slice(), 'float32', dx), b.makeTensorInfo([cols], 'float32', dg), b.makeTensorInfo([cols], 'float32', db)];
};

const quickGelu: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const x = (inputs as { x: tf.TensorInfo }).x;
  const out = alloc(size(x.shape));
  if (out.length > 0) theAddon().unary(UnaryOp.QuickGelu, f32(b, x)!, out);
  return b.makeTensorInfo(x.shape.slice(), 'float32', out);
};

const quickGeluGrad: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const out = alloc(size(x.shape));
  if (out.length > 0) theAddon().quickGeluGrad(f32(b, dy)!, f32(b, x)!, out);
  return b.makeTensorInfo(x.shape.slice(), 'float32', out);
};

/** q [B, Tq, D], k [B, Tk, D] → the addon's params [B, Tq, Tk, H, dh] */
function attnParams(q: tf.TensorInfo, k: tf.TensorInfo, numHeads: number): Int32Array {
  const [b, tq, d] = q.shape as [number, number, number];
  return Int32Array.from([b, tq, k.shape[1]!, numHeads, d / numHeads]);
}

const attention: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { q, k, v } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo; v: tf.TensorInfo };
  const h = Number(attrs!.numHeads), p = attnParams(q, k, h);
  const out = alloc(size(q.shape)), probs = alloc(p[0]! * h * p[1]! * p[2]!);
  theAddon().attention(f32(b, q)!, f32(b, k)!, f32(b, v)!, out, probs, p, Number(attrs!.scale));
  return [b.makeTensorInfo(q.shape.slice(), 'float32', out), b.makeTensorInfo([p[0]!, h, p[1]!, p[2]!], 'float32', probs)];
};

const attentionGrad: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { dy, q, k, v, probs } = inputs as Record<string, tf.TensorInfo>;
  const p = attnParams(q!, k!, Number(attrs!.numHeads));
  const dq = alloc(size(q!.shape)), dk = alloc(size(k!.shape)), dv = alloc(size(v!.shape));
  theAddon().attentionGrad(f32(b, dy!)!, f32(b, q!)!, f32(b, k!)!, f32(b, v!)!, f32(b, probs!)!, dq, dk, dv, p, Number(attrs!.scale));
  return [b.makeTensorInfo(q!.shape.slice(), 'float32', dq), b.makeTensorInfo(k!.shape.slice(), 'float32', dk), b.makeTensorInfo(v!.shape.slice(), 'float32', dv)];
};

/** kernel name → function, in registration order */
export const FUSED_KERNELS: readonly (readonly [string, tf.KernelFunc])[] = [
  [FUSED_KERNEL_NAMES.layerNorm, layerNorm], [FUSED_KERNEL_NAMES.layerNormGrad, layerNormGrad],
  [FUSED_KERNEL_NAMES.quickGelu, quickGelu], [FUSED_KERNEL_NAMES.quickGeluGrad, quickGeluGrad],
  [FUSED_KERNEL_NAMES.attention, attention], [FUSED_KERNEL_NAMES.attentionGrad, attentionGrad],
  [FUSED_KERNEL_NAMES.convResidual, convResidualKernel],
];
