/**
 * Adapts a VisionModel (+ its adapter, already applied by loadVisionModel) into the evaluator's
 * CropEncoder: processor → pixel_values [B,3,H,W] → forward → image_embeds → L2-normalised.
 */
import * as tf from '@tensorflow/tfjs';
import type { VisionModel } from '../models/vision/index.js';
import type { RgbImage } from '../preprocess/image.js';
import type { CropEncoder } from './encoder.js';
import { sha256 } from './cache.js';

export function visionCropEncoder(model: VisionModel, opts: { name?: string; preprocessMode?: string; batchSize?: number } = {}): CropEncoder {
  const p = model.processor;
  const { height: H, width: W } = p.outputSize;
  const bs = Math.max(1, opts.batchSize ?? 16);
  let fp: string | null = null;
  return {
    name: opts.name ?? (model.dir || `${model.family} (built)`),
    get fingerprint() {
      return (fp ??= model.fingerprint());
    },
    preprocess: `${p.kind}:${opts.preprocessMode ?? 'default'}:${sha256(JSON.stringify(p.config)).slice(0, 16)}`,
    async embed(images: RgbImage[]): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let s = 0; s < images.length; s += bs) {
        const chunk = images.slice(s, s + bs);
        const px = new Float32Array(chunk.length * 3 * H * W);
        chunk.forEach((im, i) => px.set(p.process(im), i * 3 * H * W));
        const e = tf.tidy(() => {
          const o = model.forward(tf.tensor4d(px, [chunk.length, 3, H, W]));
          const x = o.imageEmbeds;
          return tf.div(x, tf.maximum(tf.norm(x, 2, -1, true), 1e-12)) as tf.Tensor2D;
        });
        try {
          const d = (await e.data()) as Float32Array;
          const D = e.shape[1];
          for (let i = 0; i < chunk.length; i++) out.push(d.slice(i * D, (i + 1) * D));
        } finally {
          e.dispose();
        }
      }
      return out;
    },
  };
}
