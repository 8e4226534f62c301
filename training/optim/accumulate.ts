/**
 * Gradient accumulation, global-norm clipping and the finite check.
 *
 * Each micro-batch's loss is a mean over its samples, so the gradient of the mean over K
 * micro-batches (of equal size) is the mean of their gradients: we sum, then divide by K.
 */
import * as tf from '@tensorflow/tfjs';

export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>();
  count = 0;

  /** Adds one micro-batch's gradients (takes ownership: they are disposed). */
  add(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
    for (const [name, g] of entries) {
      const prev = this.sums.get(name);
      if (prev) {
        this.sums.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else {
        this.sums.set(name, g);
      }
    }
    this.count += 1;
  }

  /** Mean gradients over the added micro-batches; the caller owns (and disposes) them. Resets. */
  take(divisor = this.count): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.sums) {
      out.set(name, divisor === 1 ? s : tf.div(s, divisor));
      if (divisor !== 1) s.dispose();
    }
    this.sums = new Map();
    this.count = 0;
    return out;
  }

  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums = new Map();
    this.count = 0;
  }
}

/** Global L2 norm over all gradients (NaN/Inf if any entry is). */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const v = sq.dataSync()[0]!;
  sq.dispose();
  return Math.sqrt(v);
}

/**
 * torch.nn.utils.clip_grad_norm_: scale by maxNorm / (norm + 1e-6) when that is < 1. Replaces the
 * map's tensors in place (old ones disposed). Returns the norm before clipping.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number, norm = globalNorm(grads)): number {
  const coef = maxNorm / (norm + 1e-6);
  if (maxNorm > 0 && Number.isFinite(norm) && coef < 1) {
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, coef));
      g.dispose();
    }
  }
  return norm;
}

export function disposeGrads(grads: Map<string, tf.Tensor>): void {
  for (const g of grads.values()) g.dispose();
  grads.clear();
}
