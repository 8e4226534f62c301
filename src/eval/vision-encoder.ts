/**
 * Adapts a VisionModel (+ its adapter, already applied by loadVisionModel) into the evaluator's
 * CropEncoder, through the encoder helper's embedImages (processor → image_embeds → L2-normalised).
 */
import type { VisionModel } from '../models/vision/index.js';
import type { RgbImage } from '../preprocess/image.js';
import { embedImages } from '../embed/embedder.js';
import type { CropEncoder } from './encoder.js';
import { sha256 } from './cache.js';

export function visionCropEncoder(model: VisionModel, opts: { name?: string; batchSize?: number } = {}): CropEncoder {
  const p = model.processor;
  let fp: string | null = null;
  return {
    name: opts.name ?? (model.dir || `${model.family} (built)`),
    // computed on first use: hashing the weights of a large model takes a moment
    get fingerprint() {
      return (fp ??= model.fingerprint());
    },
    // the mode the processor runs (given to the loader, or the model's recorded one)
    preprocess: `${p.kind}:${p.mode ?? 'default'}:${sha256(JSON.stringify(p.config)).slice(0, 16)}`,
    embed: (images: RgbImage[], names?: string[]) => embedImages(model, images, { batchSize: opts.batchSize ?? 16, normalize: true, names }),
  };
}
