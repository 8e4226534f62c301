/**
 * Retrieval metrics over the sampled reference crops (self-retrieval: each crop queries the others),
 * overall via src/metrics/retrieval.ts and per logo (precision@1, R-precision) by a direct loop.
 */
import { retrievalMetrics, type RetrievalMetrics } from '../metrics/retrieval.js';
import { dot } from '../match/similarity.js';
import type { EmbeddedSet } from './types.js';

export interface RetrievalReport {
  overall: RetrievalMetrics;
  perLogo: { logo: string; refs: number; precisionAt1: number | null; rPrecision: number | null }[];
}

export function referenceRetrieval(set: EmbeddedSet): RetrievalReport | null {
  if (set.refs.length < 2) return null;
  const index = new Map(set.logos.map((l, i) => [l, i]));
  const labels = Int32Array.from(set.refs, (r) => index.get(r.logo)!);
  const embs = set.refs.map((r) => r.embedding);
  const overall = retrievalMetrics({ queries: embs, queryLabels: labels, ks: [1, 5] });
  const perLogo = set.logos.map((logo, li) => {
    const own = set.refs.map((_, j) => j).filter((j) => labels[j] === li);
    const R = own.length - 1;
    if (R < 1) return { logo, refs: own.length, precisionAt1: null, rPrecision: null };
    let p1 = 0;
    let rp = 0;
    for (const q of own) {
      // rank the others by similarity (ties: lower index first, as the metrics module)
      const order = embs.map((e, j) => ({ j, s: j === q ? -Infinity : dot(embs[q]!, e) })).filter((x) => x.j !== q);
      order.sort((a, b) => b.s - a.s || a.j - b.j);
      if (labels[order[0]!.j] === li) p1++;
      rp += order.slice(0, R).filter((x) => labels[x.j] === li).length / R;
    }
    return { logo, refs: own.length, precisionAt1: p1 / own.length, rPrecision: rp / own.length };
  });
  return { overall, perLogo };
}

/**
 * The units of the overall precision@1, one per query that has another crop of its logo: 1 when its
 * nearest other crop (cosine; ties → lower index, as the metrics module) has its logo, else 0.
 * Their mean is `overall.precision_at_1`; the report bootstraps over them.
 */
export function precisionAt1Hits(set: EmbeddedSet): number[] {
  const embs = set.refs.map((r) => r.embedding);
  const count = new Map<string, number>();
  for (const r of set.refs) count.set(r.logo, (count.get(r.logo) ?? 0) + 1);
  const norm = embs.map((e) => Math.sqrt(dot(e, e)) || 1);
  const hits: number[] = [];
  for (let q = 0; q < embs.length; q++) {
    if (count.get(set.refs[q]!.logo)! < 2) continue;
    let best = -1;
    let bestS = -Infinity;
    for (let j = 0; j < embs.length; j++) {
      if (j === q) continue;
      const s = dot(embs[q]!, embs[j]!) / (norm[q]! * norm[j]!);
      if (s > bestS) [best, bestS] = [j, s];
    }
    hits.push(set.refs[best]!.logo === set.refs[q]!.logo ? 1 : 0);
  }
  return hits;
}
