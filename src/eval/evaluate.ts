/**
 * One embedding pass → similarity matrices (prepare) → any number of matching settings (evaluate).
 * A sweep cell and a separate run go through the very same `evaluate`, so they agree exactly.
 */
import { LogolabError } from '../errors.js';
import { averagedEmbedding, similarityMatrix, row, type SimMatrix } from '../match/similarity.js';
import { matchRegion, validateMatchOptions, type MatchOptions, type RefLabels } from '../match/matchers.js';
import { countOutcomes, type Counting, type CountResult, type ImageOutcome } from './counting.js';
import type { EmbeddedSet } from './types.js';

export interface PreparedSet {
  set: EmbeddedSet;
  refLabels: RefLabels;
  /** per image: regions × references */
  refSims: SimMatrix[];
  /** per image: regions × logos (averaged reference embeddings) */
  logoSims: SimMatrix[];
}

export function prepare(set: EmbeddedSet): PreparedSet {
  const index = new Map(set.logos.map((l, i) => [l, i]));
  const labels = new Int32Array(set.refs.length);
  set.refs.forEach((r, j) => {
    const l = index.get(r.logo);
    if (l === undefined) throw new LogolabError(`reference ${r.id}: logo '${r.logo}' is not in the logo list`);
    labels[j] = l;
  });
  const averaged = set.logos.map((l, i) => averagedEmbedding(set.refs.filter((_, j) => labels[j] === i).map((r) => r.embedding), `logo '${l}'`));
  const refEmbs = set.refs.map((r) => r.embedding);
  return {
    set,
    refLabels: { labels, numLogos: set.logos.length },
    refSims: set.images.map((im) => similarityMatrix(im.regions.map((r) => r.embedding), refEmbs)),
    logoSims: set.images.map((im) => similarityMatrix(im.regions.map((r) => r.embedding), averaged)),
  };
}

export interface EvalResult extends CountResult {
  options: MatchOptions;
  counting: Counting;
  outcomes: ImageOutcome[];
}

export function evaluate(p: PreparedSet, options: MatchOptions, counting: Counting = 'logos', imageSubset?: number[]): EvalResult {
  validateMatchOptions(options);
  const idx = imageSubset ?? p.set.images.map((_, i) => i);
  const outcomes: ImageOutcome[] = idx.map((i) => {
    const im = p.set.images[i]!;
    const matches = [];
    for (let r = 0; r < im.regions.length; r++) {
      for (const m of matchRegion(row(p.refSims[i]!, r), p.refLabels, options, row(p.logoSims[i]!, r))) {
        matches.push({ logo: p.set.logos[m.logo]!, similarity: m.similarity, region: r });
      }
    }
    return { image: im.name, expected: im.expected, matches };
  });
  return { ...countOutcomes(outcomes, counting), options, counting, outcomes };
}
