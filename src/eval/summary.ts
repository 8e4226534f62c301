/** Small text blocks for eval's stdout beyond the Python original's summary (retrieval). */
import type { RetrievalReport } from './retrieval.js';

export function formatRetrieval(r: RetrievalReport | null): string {
  if (!r) return '';
  const f = (x: number | null) => (x === null ? '   -  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
  const o = r.overall;
  const L = ['', '-'.repeat(60), `RETRIEVAL over reference crops (${o.num_queries} queries, ${o.num_lone_queries} lone)`];
  // no query has another crop of its logo (e.g. --refs-per-logo 1): nothing was measured, and the
  // means over no queries are 0 (PML's convention), which would read as a total failure
  if (o.num_queries === 0) L.push(`  precision@1, recall@5, R-precision, MAP@R: n/a (all ${o.num_lone_queries} queries lone: no other crop of their logo; raise --refs-per-logo)`);
  else L.push(`  precision@1: ${f(o.precision_at_1)}  recall@5: ${f(o.recall_at_k[5] ?? 0)}  R-precision: ${f(o.r_precision)}  MAP@R: ${f(o.map_at_r)}`);
  L.push('  per logo:            refs   P@1    R-prec');
  for (const p of r.perLogo) L.push(`    ${p.logo.slice(0, 18).padEnd(18)} ${String(p.refs).padStart(4)}  ${f(p.precisionAt1)} ${f(p.rPrecision)}`);
  return L.join('\n') + '\n';
}
