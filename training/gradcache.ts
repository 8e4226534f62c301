/**
 * `contrastive_batch: cached` — the GradCache method (Gao et al., 2021): a contrastive loss over a
 * batch too large for one backward pass, with EXACTLY the full-batch gradients.
 *
 *   1. embed every chunk with no tape kept              E = [E_1; …; E_C]       [N, E]
 *   2. loss L(E) and G = dL/dE for the whole batch      (cheap: only [N, E] tensors)
 *   3. per chunk, re-run the forward WITH a tape and backpropagate G_c:
 *        dL/dθ = Σ_c (dE_c/dθ)ᵀ G_c  = Σ_c ∂/∂θ Σ(E_c ⊙ stop(G_c))
 * The chunk's ForwardContext is rebuilt identically for steps 1 and 3 (`ctxFor(c)` must return a
 * context that replays the same dropout seeds), so the recomputed embeddings equal the cached ones.
 * Memory: activations of one chunk, plus [N, E] embeddings. Compute: one extra forward per chunk.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../src/models/layers.js';
import type { VisionModel } from '../src/models/vision/index.js';
import { lossAndGrads, type GradFn, type LossGrads } from './grads.js';
import { embed } from './model.js';

export interface CachedChunk {
  pixels: tf.Tensor4D;
}

export function cachedLossAndGrads(
  model: VisionModel,
  params: Map<string, tf.Variable>,
  chunks: CachedChunk[],
  labels: Int32Array,
  lossFn: (embeddings: tf.Tensor2D, labels: Int32Array) => tf.Scalar,
  ctxFor: (chunk: number) => ForwardContext,
  gradFn: GradFn = lossAndGrads,
): LossGrads {
  // 1. embeddings without a tape
  const embs = chunks.map((c, i) => embed(model, c.pixels, ctxFor(i)));
  let loss: number;
  let gSlices: tf.Tensor2D[];
  try {
    // 2. loss and its gradient w.r.t. all embeddings
    const all = tf.concat(embs, 0) as tf.Tensor2D;
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => lossFn(x as tf.Tensor2D, labels))([all]);
    loss = value.dataSync()[0]!;
    value.dispose();
    all.dispose();
    gSlices = tf.split(grads[0]!, chunks.map((c) => c.pixels.shape[0]), 0) as tf.Tensor2D[];
    grads[0]!.dispose();
  } finally {
    for (const e of embs) e.dispose();
  }
  // 3. chunk-wise backward of the surrogate Σ(E_c ⊙ G_c) (G_c a constant)
  const total = new Map<string, tf.Tensor>();
  try {
    chunks.forEach((c, i) => {
      const g = gSlices[i]!;
      const r = gradFn(model, params, c.pixels, (e) => tf.sum(tf.mul(e, g)) as tf.Scalar, ctxFor(i));
      for (const [name, t] of r.grads) {
        const prev = total.get(name);
        if (prev) {
          total.set(name, tf.add(prev, t));
          prev.dispose();
          t.dispose();
        } else total.set(name, t);
      }
    });
  } finally {
    for (const g of gSlices) g.dispose();
  }
  return { loss, grads: total };
}
