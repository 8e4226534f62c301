/**
 * What the evaluator needs from an encoder: a cache identity and a batch embed. The CLI and the
 * API adapt a VisionModel (+ adapter) into this; tests use small fakes.
 */
import type { RgbImage } from '../preprocess/image.js';

export interface CropEncoder {
  /** model fingerprint: weights + adapter + head (VisionModel.fingerprint()) */
  fingerprint: string;
  /** preprocessing identity (processor kind + mode + its config) */
  preprocess: string;
  /** display name for summaries (model dir / name) */
  name: string;
  /** L2-normalised embeddings, one per image, in order; `names` (file, crop) label errors */
  embed(images: RgbImage[], names?: string[]): Promise<Float32Array[]>;
}
