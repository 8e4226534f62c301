/**
 * Retrieval metrics over the sampled reference crops (self-retrieval: each crop queries the others):
 * overall and per logo (precision@1, R-precision), both reduced from the one per-query scoring of
 * src/metrics/retrieval.ts.
 */
import { meanOverQueries, retrievalScores, type RetrievalMetrics } from '../metrics/retrieval.js';
import type { EmbeddedSet } from './types.js';

export interface RetrievalReport {
  overall: RetrievalMetrics;
  perLogo: { logo: string; refs: number; precisionAt1: number | null; rPrecision: number | null }[];
}

export function referenceRetrieval(set: EmbeddedSet): RetrievalReport | null {
  if (set.refs.length < 2) return null;
  const index = new Map(set.logos.map((l, i) => [l, i]));
  const labels = Int32Array.from(set.refs, (r) => index.get(r.logo)!);
  const scores = retrievalScores({ queries: set.refs.map((r) => r.embedding), queryLabels: labels, ks: [1, 5] });
  const perLogo = set.logos.map((logo, li) => {
    const own = set.refs.map((_, j) => j).filter((j) => labels[j] === li);
    if (own.length < 2) return { logo, refs: own.length, precisionAt1: null, rPrecision: null };
    const mean = (v: Float64Array) => own.reduce((a, j) => a + v[j]!, 0) / own.length;
    return { logo, refs: own.length, precisionAt1: mean(scores.precision_at_1), rPrecision: mean(scores.r_precision) };
  });
  return { overall: meanOverQueries(scores), perLogo };
}

/**
 * The units of the overall precision@1, one per query that has another crop of its logo (the
 * per-query scores of src/metrics/retrieval.ts, lone queries left out). Their mean is
 * `overall.precision_at_1`; the report bootstraps over them.
 */
export function precisionAt1Hits(set: EmbeddedSet): number[] {
  if (set.refs.length < 2) return [];
  const index = new Map(set.logos.map((l, i) => [l, i]));
  const labels = Int32Array.from(set.refs, (r) => index.get(r.logo)!);
  const scores = retrievalScores({ queries: set.refs.map((r) => r.embedding), queryLabels: labels, ks: [1] });
  const hits: number[] = [];
  for (let q = 0; q < set.refs.length; q++) if (scores.relevant[q]! > 0) hits.push(scores.precision_at_1[q]!);
  return hits;
}
