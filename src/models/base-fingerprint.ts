/**
 * A fingerprint of a model's base weights: sha256 over its vision config, its preprocessor config
 * and every named tensor (name, shape, float32 bytes), independent of the preprocessing MODE and
 * of any LoRA adapter. Training records it in checkpoints and exports; loading an adapter or
 * resuming/exporting a checkpoint compares it, so trained weights are never applied to another
 * base model that merely has the same shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { VisionModel } from './vision/model.js';

export function baseFingerprint(model: VisionModel): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(model.config));
  h.update(JSON.stringify(model.processor.config));
  for (const [name, t] of model.namedTensors()) {
    h.update(`${name}:${JSON.stringify(t.shape)}:`);
    // a float32 tensor is read as is; others through a cast that is disposed at once
    const f = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
    try {
      const d = f.dataSync() as Float32Array;
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    } finally {
      if (f !== t) f.dispose();
    }
  }
  return h.digest('hex');
}
