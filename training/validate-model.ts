/**
 * One validation pass of the model being trained: every validation micro-batch embedded in
 * batch_size chunks (inference mode), each image counted once (by item id), the loss averaged
 * over micro-batches, and the embedding metrics of training/validation.ts over the pooled set.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../src/models/layers.js';
import type { DataSource } from './batch.js';
import type { LossFn } from './losses/index.js';
import { embed, type TrainableModel } from './model.js';
import { embeddingMetrics, type ValidationMetrics } from './validation.js';
import { Progress } from '../src/util/progress.js';

export interface ValidationPass extends ValidationMetrics {
  loss: number;
  /** validation images, each counted once */
  images: number;
  /** no two of them share a label (positive-pair metrics are 0) */
  noPairs: boolean;
}

/**
 * `stop`: asked before each micro-batch; true ends the pass without a result (null), so a stop
 * requested during a long validation takes effect within one micro-batch, not at its end.
 */
export async function validateModel(tm: TrainableModel, data: DataSource, loss: LossFn, opts: { batchSize: number; valBatches: number; quiet?: boolean; stop?: () => boolean }): Promise<ValidationPass | null> {
  const seen = new Set<string>();
  const embs: Float32Array[] = [];
  const labels: number[] = [];
  let lossSum = 0;
  const nb = Math.min(data.numValBatches(), opts.valBatches);
  const infer: ForwardContext = { training: false };
  let dim = 0;
  // up to val_batches micro-batches (100 by default): long enough to need its own progress line
  const bar = new Progress({ label: 'validation', total: nb, unit: 'batch', ...(opts.quiet ? { quiet: true } : {}) });
  for (let i = 0; i < nb; i++) {
    if (opts.stop?.()) return null;
    const b = await data.valBatch(i);
    try {
      const n = b.labels.length;
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < n; s += opts.batchSize) {
        const px = b.pixels.slice([s, 0, 0, 0], [Math.min(opts.batchSize, n - s), -1, -1, -1]) as tf.Tensor4D;
        parts.push(embed(tm.model, px, infer));
        px.dispose();
      }
      const e = tf.concat(parts, 0) as tf.Tensor2D; // [n, D]
      for (const p of parts) p.dispose();
      const l = loss(e, b.labels);
      lossSum += l.dataSync()[0]!;
      l.dispose();
      const host = e.dataSync() as Float32Array;
      dim = e.shape[1];
      e.dispose();
      for (let j = 0; j < n; j++) {
        const id = b.ids?.[j];
        if (id !== undefined) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        embs.push(host.slice(j * dim, (j + 1) * dim));
        labels.push(b.labels[j]!);
      }
    } finally {
      b.pixels.dispose();
    }
    bar.tick();
  }
  if (process.stderr.isTTY) bar.finish(); // off a TTY the tick at 100% already printed the line
  const flat = new Float32Array(embs.length * dim);
  embs.forEach((e, i) => flat.set(e, i * dim));
  const m = embeddingMetrics(flat, dim, Int32Array.from(labels));
  return { ...m, loss: nb ? lossSum / nb : 0, images: labels.length, noPairs: new Set(labels).size === labels.length };
}
