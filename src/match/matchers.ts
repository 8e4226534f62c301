/**
 * The Python original's four matching methods (test_logo_detection.py, test_burnley_detection.py,
 * logo_detection_test_methodology.md), as pure functions over one region's similarity row.
 *
 *   simple    every reference logo crop with similarity ≥ threshold is a match (duplicates per logo included)
 *   margin    best reference ≥ threshold and best − second-best reference ≥ margin
 *             (references of the same logo compete — the methodology's Nike/Adidas caveat)
 *   multi-ref per logo: n = #refs ≥ threshold, score = mean|max over its refs; logos with
 *             n ≥ min_matching_refs are candidates; best candidate needs score ≥ threshold and
 *             score − second-best candidate's score ≥ margin
 *   averaged  one mean (re-normalised) embedding per logo; best logo ≥ threshold and
 *             best − second-best logo ≥ margin (the Burnley test)
 *
 * Ties: the lower logo/reference index wins (logos are indexed in sorted-name order by the
 * evaluator, so results do not depend on Map iteration order as the Python original's dicts did).
 */
import { LogolabError } from '../errors.js';

export const MATCHING_METHODS = ['simple', 'margin', 'multi-ref', 'averaged'] as const;
export type MatchingMethod = (typeof MATCHING_METHODS)[number];
export const AGGREGATIONS = ['mean', 'max'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface MatchOptions {
  method: MatchingMethod;
  threshold: number;
  /** margin over the second best (margin, multi-ref, averaged) */
  margin: number;
  /** multi-ref only */
  minMatchingRefs: number;
  /** multi-ref only */
  aggregation: Aggregation;
}

/**
 * The one source of matching defaults: the CLI's option defaults and the API's `detectAndMatch`
 * both read it. Aggregation `mean` is the Python original's default (its `--use-max-similarity`
 * switched to max), so results compare with it without extra flags.
 */
export const DEFAULT_MATCH: Readonly<MatchOptions> = Object.freeze({ method: 'margin', threshold: 0.7, margin: 0.05, minMatchingRefs: 1, aggregation: 'mean' });

/**
 * The options only some methods read, and which: given with another method they would be ignored
 * while the caller believes they applied (the API and the CLI refuse them alike).
 */
export const METHOD_OPTIONS: readonly (readonly [keyof MatchOptions, readonly MatchingMethod[]])[] = [
  ['margin', ['margin', 'multi-ref', 'averaged']],
  ['minMatchingRefs', ['multi-ref']],
  ['aggregation', ['multi-ref']],
];

/** A value as a message quotes it: a string in quotes, so '0.5' is not read as the number 0.5. */
function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/**
 * Checks what the matchers need to run (a known method and aggregation, finite numbers, an integer
 * min-matching-refs). `ranges: true` also applies the ranges a user may give, those of the CLI's
 * --threshold [-1, 1], --margin [0, 2]: the API's detectAndMatch asks for them. They are opt-in
 * because internal passes legitimately go beyond them: report/compare.ts evaluates with threshold
 * −2 ("threshold off"), and a printed similarity rounded down can fall just under −1; refusing
 * those would change the evaluation path's results.
 */
export function validateMatchOptions(o: MatchOptions, opts: { ranges?: boolean } = {}): MatchOptions {
  if (!MATCHING_METHODS.includes(o.method)) throw new LogolabError(`matching method: ${shown(o.method)} is not one of ${MATCHING_METHODS.join('|')}`);
  if (!AGGREGATIONS.includes(o.aggregation)) throw new LogolabError(`aggregation: ${shown(o.aggregation)} is not one of mean|max`);
  if (typeof o.threshold !== 'number' || !Number.isFinite(o.threshold)) throw new LogolabError(`threshold: must be a number, got ${shown(o.threshold)}`);
  if (typeof o.margin !== 'number' || !Number.isFinite(o.margin) || o.margin < 0) throw new LogolabError(`margin: must be ≥ 0, got ${shown(o.margin)}`);
  if (typeof o.minMatchingRefs !== 'number' || !Number.isInteger(o.minMatchingRefs) || o.minMatchingRefs < 1) throw new LogolabError(`minMatchingRefs (--min-matching-refs): must be an integer ≥ 1, got ${shown(o.minMatchingRefs)}`);
  if (opts.ranges) {
    if (o.threshold < -1 || o.threshold > 1) throw new LogolabError(`threshold: ${o.threshold} is out of range: a cosine similarity threshold lies in [-1, 1]`);
    if (o.margin > 2) throw new LogolabError(`margin: ${o.margin} is out of range: a margin between cosine similarities lies in [0, 2]`);
  }
  return o;
}

/** One accepted match of a region. `logo` indexes the logo list; `ref` the reference (simple/margin). */
export interface Match {
  logo: number;
  similarity: number;
  ref?: number;
  /** multi-ref: how many references of the logo were ≥ threshold */
  numMatching?: number;
}

/** How references map to logos: labels[j] = logo index of reference j. */
export interface RefLabels {
  labels: Int32Array; // [R]
  numLogos: number;
}

/**
 * A similarity as read by the matchers. A NaN would compare false everywhere: skipped by a
 * threshold, but taken as the best when first and then never beaten, so the outcome would hang on
 * the reference order. Callers check their embeddings; this is the last line.
 */
function finiteScore(scores: ArrayLike<number>, j: number, what: string): number {
  const s = scores[j]!;
  if (!Number.isFinite(s)) throw new LogolabError(`similarity to ${what} ${j} is ${s}: an embedding is non-finite or not L2-normalised`);
  return s;
}

export function matchSimple(refSims: ArrayLike<number>, refs: RefLabels, threshold: number): Match[] {
  const out: Match[] = [];
  for (let j = 0; j < refSims.length; j++) {
    const s = finiteScore(refSims, j, 'reference');
    if (s >= threshold) out.push({ logo: refs.labels[j]!, similarity: s, ref: j });
  }
  // best first, like the Python original's sorted find_all_matches
  out.sort((a, b) => b.similarity - a.similarity || a.ref! - b.ref!);
  return out;
}

/** Best vs second-best over a plain score list (references for `margin`, logos for `averaged`). */
function bestWithMargin(scores: ArrayLike<number>, threshold: number, margin: number, what: string): { best: number; sim: number } | null {
  let best = -1;
  let second = -Infinity;
  for (let j = 0; j < scores.length; j++) {
    const s = finiteScore(scores, j, what);
    if (best < 0 || s > scores[best]!) {
      if (best >= 0) second = scores[best]!;
      best = j;
    } else if (s > second) second = s;
  }
  if (best < 0) return null;
  const sim = scores[best]!;
  if (!(sim >= threshold)) return null;
  if (scores.length > 1 && !(sim - second >= margin)) return null;
  return { best, sim };
}

export function matchMargin(refSims: ArrayLike<number>, refs: RefLabels, threshold: number, margin: number): Match[] {
  const r = bestWithMargin(refSims, threshold, margin, 'reference');
  return r ? [{ logo: refs.labels[r.best]!, similarity: r.sim, ref: r.best }] : [];
}

/** `logoSims[l]` = similarity to logo l's averaged embedding. */
export function matchAveraged(logoSims: ArrayLike<number>, threshold: number, margin: number): Match[] {
  const r = bestWithMargin(logoSims, threshold, margin, 'logo (averaged references)');
  return r ? [{ logo: r.best, similarity: r.sim }] : [];
}

/** Per-logo aggregate of one region's reference similarities: score (mean|max) and count ≥ threshold. */
export function aggregatePerLogo(refSims: ArrayLike<number>, refs: RefLabels, threshold: number, aggregation: Aggregation): { score: Float64Array; count: Int32Array; n: Int32Array } {
  const L = refs.numLogos;
  const score = new Float64Array(L).fill(aggregation === 'max' ? -Infinity : 0);
  const count = new Int32Array(L);
  const n = new Int32Array(L);
  for (let j = 0; j < refSims.length; j++) {
    const l = refs.labels[j]!;
    const s = finiteScore(refSims, j, 'reference');
    n[l]!++;
    if (s >= threshold) count[l]!++;
    if (aggregation === 'max') {
      if (s > score[l]!) score[l] = s;
    } else score[l]! += s;
  }
  if (aggregation === 'mean') for (let l = 0; l < L; l++) score[l] = n[l]! > 0 ? score[l]! / n[l]! : -Infinity;
  return { score, count, n };
}

export function matchMultiRef(refSims: ArrayLike<number>, refs: RefLabels, o: { threshold: number; margin: number; minMatchingRefs: number; aggregation: Aggregation }): Match[] {
  const { score, count, n } = aggregatePerLogo(refSims, refs, o.threshold, o.aggregation);
  let best = -1;
  let second = -Infinity;
  let candidates = 0;
  for (let l = 0; l < refs.numLogos; l++) {
    if (n[l] === 0 || count[l]! < o.minMatchingRefs) continue;
    candidates++;
    const s = score[l]!;
    if (best < 0 || s > score[best]!) {
      if (best >= 0) second = score[best]!;
      best = l;
    } else if (s > second) second = s;
  }
  if (best < 0) return [];
  const sim = score[best]!;
  if (!(sim >= o.threshold)) return [];
  if (candidates > 1 && !(sim - second >= o.margin)) return [];
  return [{ logo: best, similarity: sim, numMatching: count[best]! }];
}

/** One region's matches under `o`. `logoSims` is required for `averaged` only. */
export function matchRegion(refSims: ArrayLike<number>, refs: RefLabels, o: MatchOptions, logoSims?: ArrayLike<number>): Match[] {
  switch (o.method) {
    case 'simple':
      return matchSimple(refSims, refs, o.threshold);
    case 'margin':
      return matchMargin(refSims, refs, o.threshold, o.margin);
    case 'multi-ref':
      return matchMultiRef(refSims, refs, o);
    case 'averaged':
      if (!logoSims) throw new LogolabError('averaged matching needs the similarities to averaged logo embeddings');
      return matchAveraged(logoSims, o.threshold, o.margin);
  }
}

/** The Python original's "Method:" line of the summary block. */
export function methodDescription(o: MatchOptions): string {
  switch (o.method) {
    case 'simple':
      return 'Simple (all matches above threshold)';
    case 'margin':
      return `Margin-based (margin=${o.margin})`;
    case 'multi-ref':
      return `Multi-ref (${o.aggregation}, min_refs=${o.minMatchingRefs}, margin=${o.margin})`;
    case 'averaged':
      return `Averaged embeddings, margin-based (margin=${o.margin})`;
  }
}
