/**
 * Supervised contrastive loss (Khosla et al. 2020, "L_out"), exactly as the Python original's
 * training/losses.py SupConLoss — including its numerics, which change the value slightly:
 *   s = E·Eᵀ / T − rowmax (rowmax includes the diagonal and is detached);
 *   log p_ij = s_ij − log(Σ_{k≠i} exp s_ik + 1e-8);
 *   ℓ_i = −Σ_{p∈P(i)} log p_ip / (|P(i)| + 1e-8);  loss = mean of ℓ_i over anchors WITH positives.
 * Zero (connected to the graph) for N ≤ 1 or when no anchor has a positive.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInputs, connectedZero, labelMasks, similarity, stopGradient, type LossFn } from './common.js';

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
      const sim = tf.div(similarity(embeddings), t); // [N, N]
      const s = tf.sub(sim, stopGradient(tf.max(sim, 1, true))); // ≤ 0 everywhere
      const notSelf = tf.sub(1, tf.eye(n));
      const denom = tf.sum(tf.mul(tf.exp(s), notSelf), 1, true); // [N, 1]
      const logProb = tf.sub(s, tf.log(tf.add(denom, 1e-8)));
      const pos = tf.tensor2d(m.positive, [n, n]);
      const meanLogPos = tf.div(tf.sum(tf.mul(pos, logProb), 1), tf.add(tf.tensor1d(m.numPositives), 1e-8)); // [N]
      const has = tf.tensor1d(Array.from(m.numPositives, (c) => (c > 0 ? 1 : 0)));
      return tf.neg(tf.div(tf.sum(tf.mul(meanLogPos, has)), withPos)) as tf.Scalar;
    });
  };
}
