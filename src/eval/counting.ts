/**
 * Turning per-image matches into TP / FP / FN / precision / recall / F1.
 *
 * Two counting modes:
 *   'detections'  exactly the reference (test_logo_detection.py): every matched REGION (every
 *                 reference, for `simple`) is a TP if its logo is expected in the image, else a FP;
 *                 FN = expected logos no region matched. A logo matched by two regions counts two
 *                 TPs, so recall = TP / expected can exceed 100% (the Python original's "203.5%").
 *   'logos'       (default; our fix) each (image, logo) pair counts once: TP = matched ∩ expected,
 *                 FP = matched − expected, FN = expected − matched, so TP + FN = expected and
 *                 recall ≤ 1. The similarity of a pair is its best matching region's.
 * precision = TP/(TP+FP) (0 when nothing matched), recall = TP/expected, F1 the harmonic mean.
 */
export const COUNTINGS = ['logos', 'detections'] as const;
export type Counting = (typeof COUNTINGS)[number];

export interface RegionMatch {
  logo: string;
  similarity: number;
  /** index of the region in its image */
  region: number;
}

export interface ImageOutcome {
  image: string;
  expected: string[];
  matches: RegionMatch[];
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  expected: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface CountResult extends Counts {
  /** similarity of every TP / FP as counted (the --similarity-details distributions) */
  tpSims: number[];
  fpSims: number[];
  falsePositives: { image: string; logo: string; similarity: number }[];
  falseNegatives: { image: string; logo: string }[];
}

export function scores(tp: number, fp: number, fn: number, expected: number): Counts {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = expected > 0 ? tp / expected : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, fn, expected, precision, recall, f1 };
}

export function countOutcomes(images: ImageOutcome[], counting: Counting = 'logos'): CountResult {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let expected = 0;
  const tpSims: number[] = [];
  const fpSims: number[] = [];
  const falsePositives: CountResult['falsePositives'] = [];
  const falseNegatives: CountResult['falseNegatives'] = [];
  for (const im of images) {
    const exp = new Set(im.expected);
    expected += exp.size;
    let counted: { logo: string; similarity: number }[];
    if (counting === 'detections') counted = im.matches;
    else {
      const best = new Map<string, number>();
      for (const m of im.matches) if (!best.has(m.logo) || m.similarity > best.get(m.logo)!) best.set(m.logo, m.similarity);
      counted = [...best.entries()].map(([logo, similarity]) => ({ logo, similarity }));
    }
    for (const m of counted) {
      if (exp.has(m.logo)) {
        tp++;
        tpSims.push(m.similarity);
      } else {
        fp++;
        fpSims.push(m.similarity);
        falsePositives.push({ image: im.image, logo: m.logo, similarity: m.similarity });
      }
    }
    const matched = new Set(im.matches.map((m) => m.logo));
    for (const l of [...exp].sort()) {
      if (!matched.has(l)) {
        fn++;
        falseNegatives.push({ image: im.image, logo: l });
      }
    }
  }
  return { ...scores(tp, fp, fn, expected), tpSims, fpSims, falsePositives, falseNegatives };
}
