/** One model's side of a comparison report: what compare.ts computes and verdict.ts reads. */
import type { Counts } from '../eval/counting.js';
import type { CalibrationResult, SweepCell } from '../eval/sweep.js';
import type { RetrievalReport } from '../eval/retrieval.js';

export interface ModelSide {
  label: string;
  name: string;
  /** model fingerprint (weights + adapter + preprocessing) the embeddings came from */
  fingerprint: string;
  atThreshold: Counts;
  /**
   * the sweep's best-F1 threshold; null when F1 is 0 at every threshold (no true positive
   * anywhere: the sweep's first threshold would be "best" by nothing, and calibrate() chooses none
   * there too), with the counts of that first threshold
   */
  best: { threshold: number | null; counts: Counts };
  sweep: SweepCell[];
  /** threshold- and margin-free: each region's best logo score, split correct / wrong */
  tpSims: number[];
  fpSims: number[];
  perLogo: Record<string, Counts>;
  retrieval: RetrievalReport | null;
  /** what computed this side's embeddings (an embeddings file's record; empty: not recorded) */
  backends?: string[];
  /** with --calibrate: this model's own threshold chosen on one half of the images, scored on the other */
  calibration?: CalibrationResult | null;
}
