/** The types of the programmatic API (api.ts): its inputs, options and results. */
import type { BackendChoice } from './backend/index.js';
import type { RgbImage } from './preprocess/image.js';
import type { PreprocessMode } from './preprocess/processors.js';
import type { Box } from './util/box.js';

export type ImageInput = string | Buffer | RgbImage;

export interface LoadOptions {
  /** vision model folder (HF CLIP / DINOv2 / SigLIP or converted) */
  encoder: string;
  /** LoRA adapter folder applied to the encoder */
  adapter?: string;
  /**
   * DETR folder or cached HF repo id: 'detr:<dir>' | '<dir>'; omitted = the whole image is the one
   * region. 'detr-r50' is random weights of the real shape, for tests and benchmarks only (loaded
   * with a warning; a folder of that name in the working directory is taken instead).
   */
  detector?: string;
  /** DETR confidence threshold (Python original's default 0.5) */
  detrThreshold?: number;
  /** minimum box width/height in pixels (Python original's default 20) */
  minBoxSize?: number;
  /** NMS IoU threshold (Python original's default 0.5) */
  nmsIouThreshold?: number;
  preprocessMode?: PreprocessMode;
  /**
   * tfjs backend to initialise (default: the backend of the LogoLab instances not yet disposed, if
   * any; else $LOGOLAB_BACKEND or auto). tfjs has one backend per process: a backend given here that
   * differs from theirs switches the process, and those instances then refuse to run
   */
  backend?: BackendChoice;
  /** crops per encoder forward pass (a positive integer) */
  batchSize?: number;
}

export interface Detection {
  box: Box;
  score: number;
  label: string;
  /** L2-normalised embedding of the crop */
  embedding: Float32Array;
}

/**
 * Reference embeddings: logo name → one or more embeddings (several = multi-reference). Any scale:
 * detectAndMatch L2-normalises a copy of each, so the raw image_embeds `logolab embed` writes by
 * default compare as cosines, like ll.embed()'s.
 */
export type References = Record<string, Float32Array[] | Float32Array>;

export interface DetectionMatch extends Detection {
  /** accepted matches for this region, best first (simple may return several) */
  matches: {
    logo: string;
    similarity: number;
    /** simple, margin: which reference matched, as its index in references[logo] (0 for a single Float32Array) */
    ref?: number;
    /** multi-ref: how many of the logo's references were ≥ threshold */
    numMatching?: number;
  }[];
}
