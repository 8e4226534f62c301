/**
 * Shared building blocks of the transformer models. Frozen weights are plain tensors (backward
 * never computes their gradients); only LoRA adapters (and heads) are tf.Variables.
 *
 * Linear weights are kept PRE-TRANSPOSED as [in, out] (HF/PyTorch store [out, in]) so the forward
 * pass is a plain, non-transposed matmul — the fast path of the wasm backend (XNNPACK).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedLayerNorm, fusedOpsActive } from './ops.js';

/** LoRA adapter on one Linear: y = x·W + b + scaling · dropout(x)·A·B, with A = lora_A^T, B = lora_B^T. */
export interface LoraAdapter {
  /** lora_A^T: [in, r] (peft stores lora_A.weight as [r, in]); kaiming-uniform init */
  A: tf.Variable;
  /** lora_B^T: [r, out] (peft stores lora_B.weight as [out, r]); zero init */
  B: tf.Variable;
  scaling: number;
  dropout: number;
}

export interface Linear {
  /** W^T: [in, out] */
  weight: tf.Tensor2D;
  bias: tf.Tensor1D | null;
  /** active adapter, if any */
  lora: LoraAdapter | null;
}

/** What a forward pass needs to know beyond its inputs. */
export interface ForwardContext {
  /** dropout active (LoRA dropout) */
  training: boolean;
  /** seeded source of integer seeds for tf.dropout; required when training with dropout > 0 */
  nextSeed?: () => number;
}

export const INFERENCE: ForwardContext = { training: false };

/** x: [..., in] → [..., out] */
export function applyLinear(x: tf.Tensor, l: Linear, ctx: ForwardContext = INFERENCE): tf.Tensor {
  return tf.tidy(() => {
    const inDim = x.shape[x.shape.length - 1]!;
    const lead = x.shape.slice(0, -1);
    const x2 = x.reshape([-1, inDim]) as tf.Tensor2D;
    // trainable weights (full training): plain ops, whose tape gives the weight gradients. Inference
    // on cpu + native kernels fuses the bias into the sgemm; not under a tape: tf.fused.matMul's
    // customGrad would compute weight and bias gradients even where they are not wanted.
    const fuse = !!l.bias && !ctx.training && fusedOpsActive();
    let y: tf.Tensor2D = isFrozen(l) ? frozenLinear(x2, l.weight, l.bias)
      : !l.bias ? tf.matMul(x2, l.weight) : fuse ? (tf.fused.matMul({ a: x2, b: l.weight as tf.Tensor2D, bias: l.bias }) as tf.Tensor2D) : tf.add(tf.matMul(x2, l.weight), l.bias);
    if (l.lora) {
      const { A, B, scaling, dropout } = l.lora;
      let xin = x2;
      if (ctx.training && dropout > 0) {
        if (!ctx.nextSeed) throw new Error('LoRA dropout needs a seeded ForwardContext.nextSeed');
        xin = tf.dropout(x2, dropout, undefined, ctx.nextSeed()) as tf.Tensor2D;
      }
      // scaling applied to the rank-r activations [N, r] rather than the [N, out] product (same value
      // up to float rounding; r ≪ out)
      y = tf.add(y, tf.matMul(tf.mul(tf.matMul(xin, A as tf.Tensor2D), scaling), B as tf.Tensor2D));
    }
    return y.reshape([...lead, l.weight.shape[1]]);
  });
}

const isFrozen = (l: Linear) => !(l.weight instanceof tf.Variable) && !(l.bias instanceof tf.Variable);

/**
 * x [N, in] · W [in, out] (+ b) of a frozen Linear as one differentiable op whose gradient is dx =
 * dy·Wᵀ only. As plain kernels, the matmul would keep its input x [N, in] for a weight gradient
 * that is never computed (fc2's input is [B, T, 4D]); here nothing is saved. The forward values
 * are those of the plain ops: on cpu + native kernels the bias is added inside the sgemm's
 * epilogue (the same float sum as a separate Add), elsewhere matMul then add.
 */
function frozenLinear(x2: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const fuse = !!b && fusedOpsActive();
  const op = tf.customGrad(((x: tf.Tensor2D) => ({
    value: !b ? tf.matMul(x, w) : fuse ? tf.fused.matMul({ a: x, b: w, bias: b }) : tf.add(tf.matMul(x, w), b),
    // wasm's XNNPACK is slow on transposed operands (training/matmul_grad.ts): transpose explicitly there
    gradFunc: (dy: tf.Tensor) => (tf.getBackend() === 'wasm' ? tf.matMul(dy, tf.transpose(w)) : tf.matMul(dy, w, false, true)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x2) as tf.Tensor2D;
}

export interface LayerNormParams {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
  eps: number;
}

/** LayerNorm over the last axis (biased variance, as torch). */
export function layerNorm(x: tf.Tensor, p: LayerNormParams): tf.Tensor {
  // one fused native kernel (+ its gradient) on the cpu backend when the addon is active
  const fused = fusedLayerNorm(x, p.weight, p.bias, p.eps);
  if (fused) return fused;
  return tf.tidy(() => {
    const axis = x.shape.length - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, p.eps))), p.weight), p.bias);
  });
}

export function disposeLinear(l: Linear): void {
  l.weight.dispose();
  l.bias?.dispose();
  if (l.lora) {
    l.lora.A.dispose();
    l.lora.B.dispose();
  }
}
