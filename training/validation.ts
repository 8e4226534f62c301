/**
 * Validation metrics on L2-normalised embeddings: the EmbeddingEvaluator of the Python original
 * (training/evaluation.py compute_metrics) plus pytorch-metric-learning retrieval metrics.
 *
 *   mean_pos_sim  mean cosine over same-label pairs i ≠ j
 *   mean_neg_sim  mean cosine over different-label pairs
 *   separation    mean_pos_sim − mean_neg_sim   (the best-checkpoint criterion)
 *   recall_at_1/5 fraction of ALL N items whose k nearest others contain their label (the
 *                 original's definition: items without a same-label partner count as misses)
 *   precision_at_1, r_precision, map_at_r  (lone items left out, as PML)
 * Every ranking metric comes from the one retrievalScores of src/metrics/retrieval.ts; the loop
 * oracle the tests compare with is test/metrics/oracles.ts.
 *
 * Bug of the Python original fixed: its validation drew 100 random P×K batches with replacement and pooled them,
 * so the same image appeared several times; its duplicate is its own nearest neighbour (cosine 1),
 * which inflated recall_at_1 and mean_pos_sim. Callers here pass each validation image once (the
 * trainer de-duplicates by item id).
 */
import { firstNonFinite } from '../src/util/finite.js';
import * as tf from '@tensorflow/tfjs';
import { meanOverQueries, retrievalScores } from '../src/metrics/retrieval.js';

export interface ValidationMetrics {
  mean_pos_sim: number;
  mean_neg_sim: number;
  separation: number;
  recall_at_1: number;
  recall_at_5: number;
  precision_at_1: number;
  r_precision: number;
  map_at_r: number;
  num_items: number;
}

const ZERO: ValidationMetrics = { mean_pos_sim: 0, mean_neg_sim: 0, separation: 0, recall_at_1: 0, recall_at_5: 0, precision_at_1: 0, r_precision: 0, map_at_r: 0, num_items: 0 };

/** embeddings: flat [N·D], already L2-normalised. */
export function embeddingMetrics(embeddings: Float32Array, dim: number, labels: Int32Array): ValidationMetrics {
  const n = labels.length;
  if (n <= 1) return { ...ZERO, num_items: n };
  // a diverged model: every metric NaN, which the trainer reports naming the epoch (retrievalScores
  // would refuse the rows with a message that says nothing of training)
  if (firstNonFinite(embeddings) >= 0) return { mean_pos_sim: NaN, mean_neg_sim: NaN, separation: NaN, recall_at_1: NaN, recall_at_5: NaN, precision_at_1: NaN, r_precision: NaN, map_at_r: NaN, num_items: n };
  const { pos, neg } = tf.tidy(() => {
    const e = tf.tensor2d(embeddings, [n, dim]);
    const sim = tf.matMul(e, e, false, true); // [N, N]
    const lab = tf.tensor1d(labels, 'int32');
    const same = tf.equal(lab.reshape([n, 1]), lab.reshape([1, n])).cast('float32');
    const posMask = tf.sub(same, tf.eye(n));
    const negMask = tf.sub(1, same);
    const nPos = posMask.sum().dataSync()[0]!;
    const nNeg = negMask.sum().dataSync()[0]!;
    const pos = nPos > 0 ? tf.mul(sim, posMask).sum().dataSync()[0]! / nPos : 0;
    const neg = nNeg > 0 ? tf.mul(sim, negMask).sum().dataSync()[0]! / nNeg : 0;
    return { pos, neg };
  });
  const scores = retrievalScores({ queries: { data: embeddings, rows: n, dim }, queryLabels: labels, ks: [1, 5] });
  const ret = meanOverQueries(scores);
  // the Python original's recall@k divides by ALL N items (a lone item is a miss), PML's by the non-lone
  const recallOverAll = (k: number) => scores.hit_at_k[k]!.reduce((a, b) => a + b, 0) / n;
  return {
    mean_pos_sim: pos,
    mean_neg_sim: neg,
    separation: pos - neg,
    recall_at_1: recallOverAll(1),
    recall_at_5: recallOverAll(5),
    precision_at_1: ret.precision_at_1,
    r_precision: ret.r_precision,
    map_at_r: ret.map_at_r,
    num_items: n,
  };
}
