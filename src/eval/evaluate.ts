/**
 * One embedding pass → similarity matrices (similaritySet) → any number of matching settings (evaluate).
 * A sweep cell and a separate run go through the very same `evaluate`, so they agree exactly; the
 * API's detectAndMatch indexes its references and matches its regions with the same functions.
 */
import { LogolabError } from '../errors.js';
import { averagedEmbedding, similarityMatrix, row, type SimMatrix } from '../match/similarity.js';
import { matchRegion, validateMatchOptions, type Match, type MatchOptions, type RefLabels } from '../match/matchers.js';
import { countOutcomes, type Counting, type CountResult, type ImageOutcome } from './counting.js';
import type { EmbeddedSet } from './types.js';

/** Reference embeddings indexed for matching: a logo index per reference and one averaged embedding per logo. */
export interface ReferenceIndex {
  refLabels: RefLabels;
  refEmbs: Float32Array[]; // [R][D]
  averaged: Float32Array[]; // [L][D]
}

/** `logos` fixes the logo order (logo index = position); every reference's logo must be in it. */
export function indexReferences(logos: string[], refs: { id?: string; logo: string; embedding: Float32Array }[]): ReferenceIndex {
  const index = new Map(logos.map((l, i) => [l, i]));
  const labels = new Int32Array(refs.length);
  refs.forEach((r, j) => {
    const l = index.get(r.logo);
    if (l === undefined) throw new LogolabError(`reference ${r.id ?? j}: logo '${r.logo}' is not in the logo list`);
    labels[j] = l;
  });
  const refEmbs = refs.map((r) => r.embedding);
  const averaged = logos.map((l, i) => averagedEmbedding(refEmbs.filter((_, j) => labels[j] === i), `logo '${l}'`));
  return { refLabels: { labels, numLogos: logos.length }, refEmbs, averaged };
}

/** Regions × references and regions × averaged logos for one image's region embeddings. */
export function regionSimilarities(idx: ReferenceIndex, regions: Float32Array[]): { refSims: SimMatrix; logoSims: SimMatrix } {
  return { refSims: similarityMatrix(regions, idx.refEmbs), logoSims: similarityMatrix(regions, idx.averaged) };
}

/** Matches of region r (a row of `sims`) under `o`, with any method. */
export function matchRegionAt(idx: ReferenceIndex, sims: { refSims: SimMatrix; logoSims: SimMatrix }, r: number, o: MatchOptions): Match[] {
  return matchRegion(row(sims.refSims, r), idx.refLabels, o, row(sims.logoSims, r));
}

export interface SimilaritySet {
  set: EmbeddedSet;
  index: ReferenceIndex;
  /** per image: regions × references */
  refSims: SimMatrix[];
  /** per image: regions × logos (averaged reference embeddings) */
  logoSims: SimMatrix[];
}

/** The similarity matrices of every image of the set: computed once, matched under any settings. */
export function similaritySet(set: EmbeddedSet): SimilaritySet {
  const index = indexReferences(set.logos, set.refs);
  const sims = set.images.map((im) => regionSimilarities(index, im.regions.map((r) => r.embedding)));
  return { set, index, refSims: sims.map((s) => s.refSims), logoSims: sims.map((s) => s.logoSims) };
}

export interface EvalResult extends CountResult {
  options: MatchOptions;
  counting: Counting;
  outcomes: ImageOutcome[];
}

export function evaluate(p: SimilaritySet, options: MatchOptions, counting: Counting = 'logos', imageSubset?: number[]): EvalResult {
  validateMatchOptions(options);
  const idx = imageSubset ?? p.set.images.map((_, i) => i);
  const outcomes: ImageOutcome[] = idx.map((i) => {
    const im = p.set.images[i]!;
    const matches = [];
    for (let r = 0; r < im.regions.length; r++) {
      for (const m of matchRegionAt(p.index, { refSims: p.refSims[i]!, logoSims: p.logoSims[i]! }, r, options)) {
        matches.push({ logo: p.set.logos[m.logo]!, similarity: m.similarity, region: r });
      }
    }
    return { image: im.name, expected: im.expected, matches };
  });
  return { ...countOutcomes(outcomes, counting), options, counting, outcomes };
}
