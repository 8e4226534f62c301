/**
 * Supervised contrastive loss (Khosla et al. 2020, "L_out"), the Python original's
 * training/losses.py SupConLoss with exact numerics:
 *   logits = E·Eᵀ / T with the diagonal pushed to -1e9 (self is never a candidate);
 *   s = logits − rowmax (over the non-self entries, detached), so the row's largest term is exp 0 = 1;
 *   log p_ij = s_ij − log Σ_{k≠i} exp s_ik   (a masked logsumexp; the sum is ≥ 1);
 *   ℓ_i = −Σ_{p∈P(i)} log p_ip / |P(i)|;  loss = mean of ℓ_i over anchors WITH positives.
 * The original took the row max over the diagonal too (self-similarity 1/T) and added 1e-8 inside
 * the log: at low temperature every non-self term underflows below 1e-8 (T = 0.03: 15.5 instead
 * of 7.26), and at T 0.07 its fixture values are off by up to 1.6e-4 (test/losses takes that
 * float64 bias out of them); at T 0.5 the two agree to < 1e-8.
 * Zero (connected to the graph) for N ≤ 1 or when no anchor has a positive.
 */
import * as tf from '@tensorflow/tfjs';
import { SELF_MASK, checkInputs, connectedZero, labelMasks, similarity, stopGradient, type LossFn } from './common.js';

export interface SupConOptions {
  temperature?: number;
}

export function supcon(opts: SupConOptions = {}): LossFn {
  const t = opts.temperature ?? 0.07;
  return (embeddings, labels) => {
    const n = checkInputs('supcon', embeddings, labels);
    if (n <= 1) return connectedZero(embeddings);
    const m = labelMasks(labels);
    const withPos = m.numPositives.reduce((a, c) => a + (c > 0 ? 1 : 0), 0);
    if (withPos === 0) return connectedZero(embeddings);
    return tf.tidy(() => {
      const logits = tf.add(tf.div(similarity(embeddings), t), tf.mul(tf.eye(n), SELF_MASK)); // [N, N]
      const s = tf.sub(logits, stopGradient(tf.max(logits, 1, true))); // [N, N] ≤ 0, 0 at each row's nearest other
      const logDenom = tf.log(tf.sum(tf.exp(s), 1, true)); // [N, 1]; the diagonal's exp is exactly 0, the sum ≥ 1
      const logProb = tf.sub(s, logDenom); // [N, N]; diagonal ≈ -1e9, finite, masked below
      const pos = tf.tensor2d(m.positive, [n, n]);
      // 1/|P(i)| for anchors with positives, 0 for the others (left out of the mean)
      const inv = tf.tensor1d(Array.from(m.numPositives, (c) => (c > 0 ? 1 / c : 0)));
      return tf.neg(tf.div(tf.sum(tf.mul(tf.sum(tf.mul(pos, logProb), 1), inv)), withPos)) as tf.Scalar;
    });
  };
}
