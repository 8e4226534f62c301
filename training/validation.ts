/**
 * Validation metrics on L2-normalised embeddings: the reference's EmbeddingEvaluator
 * (training/evaluation.py compute_metrics) plus pytorch-metric-learning retrieval metrics.
 *
 *   mean_pos_sim  mean cosine over same-label pairs i ≠ j
 *   mean_neg_sim  mean cosine over different-label pairs
 *   separation    mean_pos_sim − mean_neg_sim   (the best-checkpoint criterion)
 *   recall_at_1/5 fraction of ALL N items whose k nearest others contain their label (the
 *                 reference's definition: items without a same-label partner count as misses)
 *   precision_at_1, r_precision, map_at_r  (src/metrics/retrieval.ts; lone items left out, as PML)
 *
 * Reference bug fixed: its validation drew 100 random P×K batches with replacement and pooled them,
 * so the same image appeared several times; its duplicate is its own nearest neighbour (cosine 1),
 * which inflated recall_at_1 and mean_pos_sim. Callers here pass each validation image once (the
 * trainer de-duplicates by item id).
 */
import * as tf from '@tensorflow/tfjs';
import { retrievalMetrics } from '../src/metrics/retrieval.js';

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
  const { pos, neg, r1, r5 } = tf.tidy(() => {
    const e = tf.tensor2d(embeddings, [n, dim]);
    const sim = tf.matMul(e, e, false, true); // [N, N]
    const lab = tf.tensor1d(labels, 'int32');
    const same = tf.equal(lab.reshape([n, 1]), lab.reshape([1, n])).cast('float32');
    const eye = tf.eye(n);
    const posMask = tf.sub(same, eye);
    const negMask = tf.sub(1, same);
    const nPos = posMask.sum().dataSync()[0]!;
    const nNeg = negMask.sum().dataSync()[0]!;
    const pos = nPos > 0 ? tf.mul(sim, posMask).sum().dataSync()[0]! / nPos : 0;
    const neg = nNeg > 0 ? tf.mul(sim, negMask).sum().dataSync()[0]! / nNeg : 0;
    // recall@k as the reference: self masked to -inf, top-min(k, N−1), any same label
    const masked = tf.where(eye.cast('bool'), tf.fill([n, n], -Infinity), sim);
    const k5 = Math.min(5, n - 1);
    const idx = tf.topk(masked, k5, true).indices.arraySync() as number[][];
    let r1 = 0;
    let r5 = 0;
    for (let i = 0; i < n; i++) {
      if (labels[idx[i]![0]!] === labels[i]) r1 += 1;
      if (idx[i]!.some((j) => labels[j] === labels[i])) r5 += 1;
    }
    return { pos, neg, r1: r1 / n, r5: r5 / n };
  });
  const ret = retrievalMetrics({ queries: { data: embeddings, rows: n, dim }, queryLabels: labels, ks: [1] });
  return {
    mean_pos_sim: pos,
    mean_neg_sim: neg,
    separation: pos - neg,
    recall_at_1: r1,
    recall_at_5: r5,
    precision_at_1: ret.precision_at_1,
    r_precision: ret.r_precision,
    map_at_r: ret.map_at_r,
    num_items: n,
  };
}

/** Plain-loop version of the EmbeddingEvaluator part (tests). */
export function embeddingMetricsLoop(embeddings: Float32Array, dim: number, labels: Int32Array): Pick<ValidationMetrics, 'mean_pos_sim' | 'mean_neg_sim' | 'separation' | 'recall_at_1' | 'recall_at_5'> {
  const n = labels.length;
  if (n <= 1) return { mean_pos_sim: 0, mean_neg_sim: 0, separation: 0, recall_at_1: 0, recall_at_5: 0 };
  const sim = (i: number, j: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += embeddings[i * dim + d]! * embeddings[j * dim + d]!;
    return s;
  };
  let ps = 0;
  let pc = 0;
  let ns = 0;
  let nc = 0;
  let r1 = 0;
  let r5 = 0;
  for (let i = 0; i < n; i++) {
    const others: { j: number; s: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const s = sim(i, j);
      others.push({ j, s });
      if (labels[i] === labels[j]) {
        ps += s;
        pc += 1;
      } else {
        ns += s;
        nc += 1;
      }
    }
    others.sort((a, b) => b.s - a.s || a.j - b.j);
    if (labels[others[0]!.j] === labels[i]) r1 += 1;
    if (others.slice(0, 5).some((o) => labels[o.j] === labels[i])) r5 += 1;
  }
  const pos = pc ? ps / pc : 0;
  const neg = nc ? ns / nc : 0;
  return { mean_pos_sim: pos, mean_neg_sim: neg, separation: pos - neg, recall_at_1: r1 / n, recall_at_5: r5 / n };
}
