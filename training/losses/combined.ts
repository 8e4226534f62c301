/** weights.infonce · InfoNCE + weights.triplet · batch-hard triplet (reference: 1.0 and 0.5). */
import * as tf from '@tensorflow/tfjs';
import { infonce } from './infonce.js';
import { triplet } from './triplet.js';
import type { LossFn } from './common.js';

export interface CombinedOptions {
  temperature?: number;
  margin?: number;
  infonceWeight?: number;
  tripletWeight?: number;
}

export function combined(opts: CombinedOptions = {}): LossFn {
  const a = infonce({ temperature: opts.temperature });
  const b = triplet({ margin: opts.margin });
  const wa = opts.infonceWeight ?? 1.0;
  const wb = opts.tripletWeight ?? 0.5;
  return (embeddings, labels) => tf.tidy(() => tf.add(tf.mul(a(embeddings, labels), wa), tf.mul(b(embeddings, labels), wb)) as tf.Scalar);
}
