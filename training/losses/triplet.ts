/**
 * Batch-hard triplet loss on cosine distance d = 1 − e_i·e_j (Hermans et al. 2017), exactly as the
 * reference's training/losses.py TripletLoss: for each anchor the FARTHEST positive and the
 * NEAREST negative; ℓ_i = relu(d_ip − d_in + margin); mean over anchors having both.
 * As torch's max/min(dim), the gradient goes to ONE selected entry per row (the first on ties),
 * not to every tied entry as tf.max's gradient would.
 *
 * The hardest entries are SELECTED on ‖x_i − x_j‖²/2 of the batch-centred embeddings x = e − mean(e)
 * (= 1 − e_i·e_j on the unit sphere) rather than on 1 − e_i·e_j itself: for near-identical
 * embeddings 1 − dot cancels catastrophically (float32 ulp near 1 is 6e-8, distances ~1e-6), so the
 * choice — and the gradient — would otherwise depend on the backend's matmul rounding. Centring
 * makes the rounding error scale with the batch's spread instead of with 1. The squared distances
 * come from one Gram matrix G = X·Xᵀ, (G_ii + G_jj)/2 − G_ij, so memory is [N, N] (an explicit
 * [N, N, D] difference tensor was 3.2 GB at N = 1024, D = 768). The loss value and its gradient
 * still use 1 − e_i·e_j.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInputs, connectedZero, labelMasks, similarity, type LossFn } from './common.js';

export interface TripletOptions {
  margin?: number;
}

export function triplet(opts: TripletOptions = {}): LossFn {
  const margin = opts.margin ?? 0.3;
  return (embeddings, labels) => {
    const n = checkInputs('triplet', embeddings, labels);
    if (n <= 1) return connectedZero(embeddings);
    const m = labelMasks(labels);
    const valid = Array.from(m.numPositives, (c, i) => (c > 0 && m.numNegatives[i]! > 0 ? 1 : 0));
    const numValid = valid.reduce((a: number, b) => a + b, 0);
    if (numValid === 0) return connectedZero(embeddings);
    return tf.tidy(() => {
      const dist = tf.sub(1, similarity(embeddings)); // [N, N]
      const pos = tf.tensor2d(m.positive, [n, n]).cast('bool');
      const neg = tf.tensor2d(m.negative, [n, n]).cast('bool');
      // indices carry no gradient; the selected distances are gathered from `dist` by a one-hot mask
      const x = tf.sub(embeddings, tf.mean(embeddings, 0, true)); // [N, D]
      const g = tf.matMul(x, x, false, true); // [N, N]
      const diag = tf.sum(tf.mul(g, tf.eye(n)), 1); // [N] ‖x_i‖², from G itself (consistent rounding with G_ij)
      const sq = tf.sub(tf.mul(tf.add(tf.expandDims(diag, 1), tf.expandDims(diag, 0)), 0.5), g); // [N, N]
      const iPos = tf.argMax(tf.where(pos, sq, tf.fill([n, n], -Infinity)), 1);
      const iNeg = tf.argMin(tf.where(neg, sq, tf.fill([n, n], Infinity)), 1);
      const hardestPos = tf.sum(tf.mul(dist, tf.oneHot(iPos, n)), 1); // [N]
      const hardestNeg = tf.sum(tf.mul(dist, tf.oneHot(iNeg, n)), 1); // [N]
      const perAnchor = tf.relu(tf.add(tf.sub(hardestPos, hardestNeg), margin));
      return tf.div(tf.sum(tf.mul(perAnchor, tf.tensor1d(valid))), numValid) as tf.Scalar;
    });
  };
}
