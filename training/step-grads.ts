/**
 * The loss and gradients of one optimizer step over `gradient_accumulation_steps` micro-batches:
 *   standard — each micro-batch through the loss on its own; loss and gradients are their means;
 *   cached   — every image of the step under ONE contrastive loss (GradCache, training/gradcache.ts),
 *              embedded in batch_size chunks; loss and gradients are that loss's.
 * The order of random draws (micro-batch, then its dropout seed; or all batches, then one seed per
 * chunk) is part of exact resume: `nextSeed` is the trainer's checkpointed generator.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../src/models/layers.js';
import { makeRng } from '../src/util/rng.js';
import type { Batch } from './batch.js';
import type { TrainingConfig } from './config.js';
import { cachedLossAndGrads } from './gradcache.js';
import type { GradFn } from './grads.js';
import type { LossFn } from './losses/index.js';
import type { TrainableModel } from './model.js';
import { GradAccumulator } from './optim/accumulate.js';

export interface StepGrads {
  loss: number;
  /** the caller owns (and disposes) them */
  grads: Map<string, tf.Tensor>;
  /** every loss was finite */
  finite: boolean;
  images: number;
}

/** A training ForwardContext whose dropout seeds come from `seed` (same masks on every call). */
function seededTrainingContext(seed: number): ForwardContext {
  const r = makeRng(seed);
  return { training: true, nextSeed: () => r.seed() };
}

export async function stepGradients(
  c: TrainingConfig,
  tm: TrainableModel,
  loss: LossFn,
  gradFn: GradFn,
  /** micro-batch k (0 ≤ k < accumulation) of this step; its pixels are disposed here */
  nextBatch: (k: number) => Promise<Batch>,
  nextSeed: () => number,
): Promise<StepGrads> {
  const accum = c.gradient_accumulation_steps;
  const acc = new GradAccumulator();
  let lossSum = 0;
  let images = 0;
  let finite = true;
  try {
    if (c.contrastive_batch === 'cached') {
      const batches: Batch[] = [];
      try {
        for (let k = 0; k < accum; k++) batches.push(await nextBatch(k));
        const all = tf.concat(batches.map((b) => b.pixels), 0) as tf.Tensor4D; // [accum·B, 3, H, W]
        const labels = Int32Array.from(batches.flatMap((b) => Array.from(b.labels)));
        images = labels.length;
        const chunkSize = Math.max(1, c.batch_size);
        const chunks: { pixels: tf.Tensor4D }[] = [];
        for (let s = 0; s < images; s += chunkSize) chunks.push({ pixels: all.slice([s, 0, 0, 0], [Math.min(chunkSize, images - s), -1, -1, -1]) as tf.Tensor4D });
        all.dispose();
        const seeds = chunks.map(() => nextSeed());
        try {
          const r = cachedLossAndGrads(tm.model, tm.params, chunks, labels, loss, (i) => seededTrainingContext(seeds[i]!), gradFn);
          lossSum = r.loss;
          if (!Number.isFinite(r.loss)) finite = false;
          acc.add(r.grads);
        } finally {
          for (const ch of chunks) ch.pixels.dispose();
        }
      } finally {
        for (const b of batches) b.pixels.dispose();
      }
    } else {
      for (let k = 0; k < accum; k++) {
        const b = await nextBatch(k);
        try {
          const seed = nextSeed();
          const r = gradFn(tm.model, tm.params, b.pixels, (e) => loss(e, b.labels), seededTrainingContext(seed));
          images += b.labels.length;
          lossSum += r.loss;
          if (!Number.isFinite(r.loss)) finite = false;
          acc.add(r.grads);
        } finally {
          b.pixels.dispose();
        }
      }
    }
    return { loss: c.contrastive_batch === 'cached' ? lossSum : lossSum / accum, grads: acc.take(), finite, images };
  } finally {
    acc.reset();
  }
}
