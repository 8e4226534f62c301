/**
 * MIL-NCE (Miech et al., 2020; the SupCon paper's L_in): the positives' probabilities are summed
 * INSIDE the log, so an anchor is satisfied once any one of its positives outranks the negatives:
 *   logits = E·Eᵀ / T with the diagonal pushed to -1e9 (self is never a candidate);
 *   ℓ_i = −log Σ_{p∈P(i)} softmax(logits_i)_p = logsumexp_{j≠i} logits_ij − logsumexp_{p∈P(i)} logits_ip;
 *   anchors WITHOUT positives contribute 0 but still count in the mean over ALL N anchors (as infonce).
 * Why: with brand labels a brand's unrelated renditions (icon, wordmark, colour styles) are all
 * positives; infonce (the average over positives, L_out) pulls every one of them onto the anchor,
 * which from a scene-invariant start first collapses all embeddings together; MIL-NCE asks only
 * that the nearest neighbour be of the same brand, the quantity precision@1 measures.
 * Zero (connected to the graph) for N ≤ 1 or when no anchor has a positive.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInputs, connectedZero, labelMasks, similarity, type LossFn } from './common.js';

export interface MilNceOptions {
  temperature?: number;
}

/** Finite stand-in for -inf (as infonce): exp underflows to exactly 0, gradients stay finite. */
const MASKED = -1e9;

export function milnce(opts: MilNceOptions = {}): LossFn {
  const t = opts.temperature ?? 0.07;
  return (embeddings, labels) => {
    const n = checkInputs('milnce', embeddings, labels);
    if (n <= 1) return connectedZero(embeddings);
    const m = labelMasks(labels);
    if (!m.numPositives.some((c) => c > 0)) return connectedZero(embeddings);
    return tf.tidy(() => {
      const logits = tf.add(tf.div(similarity(embeddings), t), tf.mul(tf.eye(n), MASKED)); // [N, N]
      const notPos = tf.tensor2d(m.positive.map((p) => (p > 0 ? 0 : MASKED)), [n, n]);
      const logAll = tf.logSumExp(logits, 1); // [N]
      const logPos = tf.logSumExp(tf.add(logits, notPos), 1); // [N]; ≈ -1e9 for anchors without positives (masked below)
      const has = tf.tensor1d(Array.from(m.numPositives, (c) => (c > 0 ? 1 : 0)));
      return tf.mean(tf.mul(tf.sub(logAll, logPos), has)) as tf.Scalar;
    });
  };
}
