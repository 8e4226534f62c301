/**
 * Shared pieces of the contrastive losses. Every loss takes L2-normalised embeddings [N, D] and
 * integer labels [N] and returns a scalar. Label masks are built on the host (N is a batch, small)
 * and enter the graph as constants, so only the embeddings carry gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../src/errors.js';

export type LossFn = (embeddings: tf.Tensor2D, labels: Int32Array) => tf.Scalar;

export interface LabelMasks {
  n: number;
  /** [N, N] 1 where labels match and i ≠ j */
  positive: Float32Array;
  /** [N, N] 1 where labels differ */
  negative: Float32Array;
  /** [N] number of positives per anchor */
  numPositives: Float32Array;
  /** [N] number of negatives per anchor */
  numNegatives: Float32Array;
}

export function checkInputs(what: string, embeddings: tf.Tensor, labels: Int32Array): number {
  if (embeddings.rank !== 2) throw new LogolabError(`${what}: embeddings must be [N, D], got shape ${JSON.stringify(embeddings.shape)}`);
  const n = embeddings.shape[0]!;
  if (labels.length !== n) throw new LogolabError(`${what}: ${labels.length} labels for ${n} embeddings`);
  return n;
}

export function labelMasks(labels: Int32Array): LabelMasks {
  const n = labels.length;
  const positive = new Float32Array(n * n);
  const negative = new Float32Array(n * n);
  const numPositives = new Float32Array(n);
  const numNegatives = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (labels[i] === labels[j]) {
        if (i !== j) {
          positive[i * n + j] = 1;
          numPositives[i]! += 1;
        }
      } else {
        negative[i * n + j] = 1;
        numNegatives[i]! += 1;
      }
    }
  }
  return { n, positive, negative, numPositives, numNegatives };
}

/**
 * A scalar zero that is still connected to `x`, so gradients w.r.t. x exist (and are zero). In its
 * own tidy: callers outside one (validation) would otherwise keep the intermediate sum.
 */
export function connectedZero(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.sum(x), 0) as tf.Scalar);
}

/** Identity in the forward pass, zero gradient (torch's `.detach()`; tfjs has no stop_gradient op). */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Finite stand-in for -inf on a logit diagonal (as the reference): exp underflows to exactly 0. */
export const SELF_MASK = -1e9;

/** [N, N] cosine similarities of L2-normalised rows. */
export function similarity(embeddings: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(embeddings, embeddings, false, true);
}
