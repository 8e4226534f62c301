/**
 * InfoNCE (multi-positive NT-Xent), exactly as the Python original's training/losses.py InfoNCELoss:
 *   logits = E·Eᵀ / T with the diagonal pushed to -1e9 (self is never a candidate);
 *   per anchor i with positives P(i): ℓ_i = -(1/|P(i)|) Σ_{p∈P(i)} log_softmax(logits_i)_p;
 *   anchors WITHOUT positives contribute 0 but still count in the mean over ALL N anchors.
 * Zero (connected to the graph) for N ≤ 1 or when no anchor has a positive.
 */
import * as tf from '@tensorflow/tfjs';
import { SELF_MASK, checkInputs, connectedZero, labelMasks, similarity, type LossFn } from './common.js';

export interface InfoNceOptions {
  temperature?: number;
}

export function infonce(opts: InfoNceOptions = {}): LossFn {
  const t = opts.temperature ?? 0.07;
  return (embeddings, labels) => {
    const n = checkInputs('infonce', embeddings, labels);
    if (n <= 1) return connectedZero(embeddings);
    const m = labelMasks(labels);
    if (!m.numPositives.some((c) => c > 0)) return connectedZero(embeddings);
    return tf.tidy(() => {
      const logits = tf.add(tf.div(similarity(embeddings), t), tf.mul(tf.eye(n), SELF_MASK)); // [N, N]
      const logProb = tf.logSoftmax(logits, 1); // [N, N]; diagonal ≈ -1e9/T, finite, masked below
      const pos = tf.tensor2d(m.positive, [n, n]);
      const posLogProb = tf.sum(tf.mul(logProb, pos), 1); // [N]
      // 1/|P(i)| for anchors with positives, 0 for the others (their loss is 0)
      const inv = tf.tensor1d(Array.from(m.numPositives, (c) => (c > 0 ? 1 / c : 0)));
      return tf.neg(tf.mean(tf.mul(posLogProb, inv))) as tf.Scalar;
    });
  };
}
