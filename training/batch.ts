/** What the trainer consumes: P×K micro-batches of preprocessed pixels, from a deterministic source. */
import type * as tf from '@tensorflow/tfjs';

export interface Batch {
  /** [B, 3, H, W] preprocessed pixels (the trainer disposes them) */
  pixels: tf.Tensor4D;
  labels: Int32Array;
  /** item ids (validation de-duplication) */
  ids?: string[];
}

/** Where batches come from. Must be deterministic in its arguments (exact resume). */
export interface DataSource {
  trainBatch(epoch: number, index: number): Promise<Batch>;
  /** number of validation micro-batches available (≤ config.val_batches) */
  numValBatches(): number;
  valBatch(index: number): Promise<Batch>;
}
