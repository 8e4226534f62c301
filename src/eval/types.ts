/**
 * What one embedding pass produces and every matcher/sweep/report consumes: reference crops and
 * test-image regions with their embeddings. Everything after this point is pure host code.
 */
import type { Box } from '../util/box.js';

export interface EvalRef {
  /** stable id (e.g. 'ref:<db id>' or the file name) */
  id: string;
  logo: string;
  embedding: Float32Array;
  /** image file the crop comes from, and the crop box (absent: the whole file) */
  source?: string;
  box?: Box;
}

export interface EvalRegion {
  id: string;
  box: Box;
  /** detector confidence (1 for gt-boxes / whole-image) */
  score: number;
  embedding: Float32Array;
}

export interface EvalImage {
  id: string;
  /** file name shown in reports */
  name: string;
  /** ground-truth logos among the sampled logos */
  expected: string[];
  regions: EvalRegion[];
}

export interface EmbeddedSet {
  /** sorted, unique: logo index = position here */
  logos: string[];
  refs: EvalRef[];
  images: EvalImage[];
  /** how the set was made (model fingerprint, sample, proposer) — goes into exports/reports */
  meta: Record<string, unknown>;
}
