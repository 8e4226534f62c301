/**
 * The fused ops over the kernels of ./fused-kernels.ts, as tf.customGrad pairs (forward kernel +
 * gradient kernel). Each returns null when it does not apply (native kernels not installed, backend
 * not cpu, dtypes or shapes it does not cover); the caller then runs its composite version. Models
 * reach them through src/models/ops.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNEL_NAMES as K } from './fused-kernels.js';
import { nativeKernelsInstalled } from './overrides.js';

type CustomGradFunc = Parameters<typeof tf.customGrad>[0];

/** Are the fused ops usable for tensors on the current backend (cpu with the native kernels installed)? */
export function fusedOpsActive(): boolean {
  return nativeKernelsInstalled() && tf.getBackend() === 'cpu';
}

/** The fused ops are customGrad closures over their kernel attributes: made once per attribute key
 *  (they run on every layer's forward), not per call. */
function memoOp<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let op = cache.get(key);
  if (!op) cache.set(key, (op = make()));
  return op;
}

// ------------------------------------------------------------------------------------------------
// LayerNorm: the composite (moments, sub, rsqrt, mul, add) is ~9 kernels forward, more backward.
type LayerNormFn = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;
const lnOps = new Map<string, LayerNormFn>();
/** customGrad over the two kernels; eps is an attribute, so the function is made per eps. */
function layerNormOp(eps: number): LayerNormFn {
  return memoOp(lnOps, String(eps), () => {
    const f = ((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, mean, rstd] = tf.engine().runKernel(K.layerNorm, { x, gamma, beta }, { eps }) as tf.Tensor[];
      save([x, gamma, mean!, rstd!]);
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sg, sm, sr] = saved;
          return tf.engine().runKernel(K.layerNormGrad, { dy, x: sx!, gamma: sg!, mean: sm!, rstd: sr! }, {}) as tf.Tensor[];
        },
      };
    }) as unknown as CustomGradFunc;
    return tf.customGrad(f) as unknown as LayerNormFn;
  });
}

/**
 * LayerNorm over the last axis through the fused native kernels, or null when they do not apply
 * (native kernels not active, backend not cpu, not float32, gamma/beta not [D]) — then the caller
 * uses its composite version.
 */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor | null {
  if (!fusedOpsActive() || x.rank < 1) return null;
  const d = x.shape[x.rank - 1]!;
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32' || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) return null;
  return layerNormOp(eps)(x, gamma, beta);
}

// ------------------------------------------------------------------------------------------------
// quick_gelu (CLIP's activation, x·σ(1.702x)): one pass forward and one backward instead of 3 kernels
// forward and ~6 backward over [B, T, 4D] tensors (the largest activations of a ViT).
const quickGeluOp = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.engine().runKernel(K.quickGelu, { x }, {}) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(K.quickGeluGrad, { dy, x: saved[0]! }, {}) as tf.Tensor,
  };
}) as unknown as CustomGradFunc) as unknown as (x: tf.Tensor) => tf.Tensor;

/** quick_gelu through the fused native kernels, or null when they do not apply (then: the composite). */
export function fusedQuickGelu(x: tf.Tensor): tf.Tensor | null {
  if (!fusedOpsActive() || x.dtype !== 'float32') return null;
  return quickGeluOp(x);
}

// ------------------------------------------------------------------------------------------------
// Multi-head attention: q [B, Tq, D], k, v [B, Tk, D] in the linear layers' layout (head h =
// columns h·dh … (h+1)·dh); strided sgemm per (batch, head), so the 4 head split/merge transposes
// and the separate scale / softmax kernels of the composite are gone, forward and backward. The
// softmax probabilities [B, H, Tq, Tk] are kept for the gradient (the composite keeps them too).
type AttentionFn = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
const attentionOps = new Map<string, AttentionFn>();
function attentionOp(numHeads: number, scale: number): AttentionFn {
  return memoOp(attentionOps, `${numHeads}:${scale}`, () => {
    const attrs = { numHeads, scale };
    return tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
      const [out, probs] = tf.engine().runKernel(K.attention, { q, k, v }, attrs) as tf.Tensor[];
      save([q, k, v, probs!]);
      return {
        value: out!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sq, sk, sv, sp] = saved;
          return tf.engine().runKernel(K.attentionGrad, { dy, q: sq!, k: sk!, v: sv!, probs: sp! }, attrs) as tf.Tensor[];
        },
      };
    }) as unknown as CustomGradFunc) as unknown as AttentionFn;
  });
}

/**
 * softmax(q·kᵀ / √dh)·v per head through the fused native kernels ([B, Tq, D] out, heads merged),
 * or null when they do not apply (then: the composite in src/models/vision/blocks.ts).
 */
export function fusedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number): tf.Tensor3D | null {
  if (!fusedOpsActive()) return null;
  if (q.dtype !== 'float32' || k.dtype !== 'float32' || v.dtype !== 'float32') return null;
  const [b, , d] = q.shape;
  if (k.shape[0] !== b || v.shape[0] !== b || k.shape[2] !== d || v.shape[2] !== d || k.shape[1] !== v.shape[1] || d % numHeads !== 0) return null;
  return attentionOp(numHeads, 1 / Math.sqrt(d / numHeads))(q, k, v) as tf.Tensor3D;
}

// ------------------------------------------------------------------------------------------------
/**
 * act(conv2d(x, filter) + bias + residual), NHWC, float32, on the cpu backend with the native kernels
 * installed and no gradient being recorded (the caller checks; see src/detect/model.ts).
 */
export function conv2dResidual(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, residual: tf.Tensor4D, strides: number,
  pad: 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]], activation: 'linear' | 'relu'): tf.Tensor4D {
  return tf.engine().runKernel(K.convResidual, { x, filter, bias, residual }, { strides, pad, dataFormat: 'NHWC', dilations: 1, activation }) as tf.Tensor4D;
}
