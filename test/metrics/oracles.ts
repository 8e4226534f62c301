/**
 * Plain-loop oracles (pytorch-metric-learning keeps these in its tests, not beside the code):
 * written straight from the definitions, O(N²·D) in JS, for small sets only.
 */
import type { RetrievalInput, RetrievalMetrics, Embeddings } from '../../src/metrics/retrieval.js';

function rows(e: Embeddings): Float32Array[] {
  if (Array.isArray(e)) return e;
  return Array.from({ length: e.rows }, (_, i) => e.data.subarray(i * e.dim, (i + 1) * e.dim));
}

/** L2-normalised float32 copy, as the metrics see their inputs (zero rows stay zero). */
function normalized(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return Float32Array.from(v, (x) => x / n);
}

/** PML definitions by loops: rank by cosine (ties: lower index), lone queries left out. */
export function retrievalMetricsLoop(inp: RetrievalInput): RetrievalMetrics {
  const q = rows(inp.queries).map(normalized);
  const self = inp.references === undefined;
  const r = self ? q : rows(inp.references!).map(normalized);
  const ql = Array.from(inp.queryLabels);
  const rl = self ? ql : Array.from(inp.referenceLabels!);
  const ks = inp.ks ?? [1, 5];
  let n = 0;
  let lone = 0;
  let p1 = 0;
  let rp = 0;
  let map = 0;
  const hits = new Map<number, number>(ks.map((k) => [k, 0]));
  for (let i = 0; i < q.length; i++) {
    const others: { j: number; s: number }[] = [];
    for (let j = 0; j < r.length; j++) {
      if (self && j === i) continue;
      let s = 0;
      for (let d = 0; d < q[i]!.length; d++) s += q[i]![d]! * r[j]![d]!;
      others.push({ j, s });
    }
    others.sort((a, b) => b.s - a.s || a.j - b.j);
    const rel = others.map((o) => rl[o.j] === ql[i]);
    const R = rel.filter(Boolean).length;
    if (R === 0) {
      lone++;
      continue;
    }
    n++;
    p1 += rel[0] ? 1 : 0;
    let h = 0;
    let ap = 0;
    for (let k = 0; k < R; k++) {
      if (rel[k]) {
        h++;
        ap += h / (k + 1);
      }
    }
    rp += h / R;
    map += ap / R;
    for (const k of ks) if (rel.slice(0, k).some(Boolean)) hits.set(k, hits.get(k)! + 1);
  }
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = n ? hits.get(k)! / n : 0;
  return { precision_at_1: n ? p1 / n : 0, r_precision: n ? rp / n : 0, map_at_r: n ? map / n : 0, recall_at_k: recall, num_queries: n, num_lone_queries: lone };
}

/** The Python original's EmbeddingEvaluator part of validation, by loops (embeddings already normalised). */
export function embeddingMetricsLoop(embeddings: Float32Array, dim: number, labels: Int32Array): { mean_pos_sim: number; mean_neg_sim: number; separation: number; recall_at_1: number; recall_at_5: number } {
  const n = labels.length;
  if (n <= 1) return { mean_pos_sim: 0, mean_neg_sim: 0, separation: 0, recall_at_1: 0, recall_at_5: 0 };
  const sim = (i: number, j: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += embeddings[i * dim + d]! * embeddings[j * dim + d]!;
    return s;
  };
  let ps = 0;
  let pc = 0;
  let ns = 0;
  let nc = 0;
  let r1 = 0;
  let r5 = 0;
  for (let i = 0; i < n; i++) {
    const others: { j: number; s: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const s = sim(i, j);
      others.push({ j, s });
      if (labels[i] === labels[j]) {
        ps += s;
        pc += 1;
      } else {
        ns += s;
        nc += 1;
      }
    }
    others.sort((a, b) => b.s - a.s || a.j - b.j);
    if (labels[others[0]!.j] === labels[i]) r1 += 1;
    if (others.slice(0, 5).some((o) => labels[o.j] === labels[i])) r5 += 1;
  }
  const pos = pc ? ps / pc : 0;
  const neg = nc ? ns / nc : 0;
  return { mean_pos_sim: pos, mean_neg_sim: neg, separation: pos - neg, recall_at_1: r1 / n, recall_at_5: r5 / n };
}
