/**
 * Retrieval metrics on embeddings, with pytorch-metric-learning's AccuracyCalculator definitions:
 *
 * - neighbours are ranked by cosine similarity (descending; ties by reference index ascending).
 *   For L2-normalised embeddings this is the same ranking as PML's default L2 kNN.
 * - self-retrieval (no separate reference set): each query is excluded from its own neighbours
 *   (PML `ref_includes_query=True`).
 * - R(q) = number of references with q's label (self excluded). "Lone" queries (R = 0) are left
 *   out of every metric, as PML does; if all queries are lone every metric is 0.
 * - precision@1 = mean over queries of [label(nn1) == label(q)]
 * - recall@k    = mean over queries of [any of the k nearest has label(q)]  (the "Recall@K" of the
 *   metric-learning literature and of the Python original's EmbeddingEvaluator, lone queries excluded)
 * - R-precision = mean over queries of |same-label among the R nearest| / R
 * - MAP@R       = mean over queries of (1/R) Σ_{i≤R} P(i)·rel(i), P(i) = precision of the first i
 *
 * Similarities come from tf matMul in query chunks, keeping only the top-K labels per query
 * (K = max R and max k). The plain-loop oracle the tests compare with is test/metrics/oracles.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../errors.js';
import { l2normalize } from '../util/vector.js';

export type Embeddings = Float32Array[] | { data: Float32Array; rows: number; dim: number };

export interface RetrievalInput {
  /** query embeddings ([N][D] or a flat [N·D] block) */
  queries: Embeddings;
  queryLabels: ArrayLike<number>;
  /** reference set; omitted = self-retrieval over the queries (self excluded) */
  references?: Embeddings;
  referenceLabels?: ArrayLike<number>;
  /** recall@k for these k (default [1, 5]) */
  ks?: number[];
}

export interface RetrievalMetrics {
  precision_at_1: number;
  r_precision: number;
  map_at_r: number;
  /** recall_at_k keyed by k */
  recall_at_k: Record<number, number>;
  /** queries that counted (R > 0) */
  num_queries: number;
  /** queries left out because no reference shares their label */
  num_lone_queries: number;
}

interface Flat {
  data: Float32Array;
  rows: number;
  dim: number;
}

function toFlat(e: Embeddings, what: string): Flat {
  if (!Array.isArray(e)) {
    if (e.data.length !== e.rows * e.dim) throw new LogolabError(`${what}: data length ${e.data.length} ≠ rows·dim ${e.rows}·${e.dim}`);
    return e;
  }
  const rows = e.length;
  const dim = rows > 0 ? e[0]!.length : 0;
  const data = new Float32Array(rows * dim);
  e.forEach((v, i) => {
    if (v.length !== dim) throw new LogolabError(`${what}[${i}]: dimension ${v.length} ≠ ${dim}`);
    data.set(v, i * dim);
  });
  return { data, rows, dim };
}

/**
 * L2-normalised copy (zero rows stay zero). A row with a NaN or ±Infinity is an error naming it: its
 * similarities would be NaN, which topk ranks in an arbitrary place, so every metric touching it
 * would be silently wrong. The check reads the normalised row (any non-finite input makes at least
 * one output NaN: NaN propagates through the norm, and x/∞ is NaN for an infinite x), one O(D)
 * pass per row next to the O(N·Nr·D) similarities; finite rows are normalised exactly as before.
 */
function normalizeRows(f: Flat, what: string): Flat {
  const out = new Float32Array(f.data.length);
  for (let i = 0; i < f.rows; i++) {
    const o = l2normalize(f.data.subarray(i * f.dim, (i + 1) * f.dim), out.subarray(i * f.dim, (i + 1) * f.dim));
    let sum = 0;
    for (let k = 0; k < o.length; k++) sum += o[k]!;
    if (Number.isNaN(sum)) throw new LogolabError(`${what}[${i}]: embedding has a non-finite value (NaN or Infinity)`);
  }
  return { data: out, rows: f.rows, dim: f.dim };
}

/**
 * Labels as an Int32Array. Int32Array.from would truncate 0.2 and 0.7 to the same class 0, turn
 * NaN into 0 and wrap 2^31, merging classes silently; a label that is not an int32 is an error
 * naming its position. An Int32Array is taken as is (no copy, no check needed).
 */
function intLabels(v: ArrayLike<number>, what: string): Int32Array {
  if (v instanceof Int32Array) return v;
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = v[i]!;
    if (!Number.isInteger(l) || l < -0x80000000 || l > 0x7fffffff) throw new LogolabError(`${what}[${i}]: label ${l} is not an integer (int32)`);
    out[i] = l;
  }
  return out;
}

interface CheckedInput {
  q: Flat;
  r: Flat;
  ql: Int32Array;
  rl: Int32Array;
  self: boolean;
  /** R per query */
  relCount: Int32Array;
  ks: number[];
}

function checkedInput(inp: RetrievalInput): CheckedInput {
  const q = normalizeRows(toFlat(inp.queries, 'queries'), 'queries');
  const self = inp.references === undefined;
  const r = self ? q : normalizeRows(toFlat(inp.references!, 'references'), 'references');
  const ql = intLabels(inp.queryLabels, 'queryLabels');
  const rl = self ? ql : intLabels(inp.referenceLabels ?? [], 'referenceLabels');
  if (ql.length !== q.rows) throw new LogolabError(`queryLabels: ${ql.length} labels for ${q.rows} queries`);
  if (rl.length !== r.rows) throw new LogolabError(`referenceLabels: ${rl.length} labels for ${r.rows} references`);
  if (q.rows > 0 && r.rows > 0 && q.dim !== r.dim) throw new LogolabError(`references: dimension ${r.dim} ≠ queries' ${q.dim}`);
  const counts = new Map<number, number>();
  for (const l of rl) counts.set(l, (counts.get(l) ?? 0) + 1);
  const relCount = new Int32Array(ql.length);
  for (let i = 0; i < ql.length; i++) relCount[i] = (counts.get(ql[i]!) ?? 0) - (self ? 1 : 0);
  const ks = inp.ks ?? [1, 5];
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new LogolabError(`ks: ${k} is not a positive integer`);
  return { q, r, ql, rl, self, relCount, ks };
}

/**
 * Per-query scores, the PML building block every caller reduces its own way: `retrievalMetrics`
 * averages over non-lone queries, validation divides recall by all N (the Python original's
 * definition), the eval report averages per logo.
 */
export interface QueryScores {
  /** R per query: references sharing its label (self excluded); R ≤ 0 = lone, every score 0 */
  relevant: Int32Array; // [N]
  precision_at_1: Float64Array; // [N] 0|1
  r_precision: Float64Array; // [N]
  /** (1/R) Σ_{i≤R} P(i)·rel(i) */
  average_precision_at_r: Float64Array; // [N]
  /** [any of the k nearest shares the label], keyed by k */
  hit_at_k: Record<number, Float64Array>; // k → [N] 0|1
  ks: number[];
}

/** Scores query i from its ranked neighbour labels (at least max(R, max k) of them, or all). */
function scoreQuery(s: QueryScores, i: number, label: number, ranked: ArrayLike<number>): void {
  const R = s.relevant[i]!;
  s.precision_at_1[i] = ranked.length > 0 && ranked[0] === label ? 1 : 0;
  let hits = 0;
  let ap = 0;
  for (let r = 0; r < Math.min(R, ranked.length); r++) {
    if (ranked[r] === label) {
      hits += 1;
      ap += hits / (r + 1);
    }
  }
  s.r_precision[i] = hits / R;
  s.average_precision_at_r[i] = ap / R;
  for (const k of s.ks) {
    let any = false;
    for (let r = 0; r < Math.min(k, ranked.length); r++) if (ranked[r] === label) any = true;
    s.hit_at_k[k]![i] = any ? 1 : 0;
  }
}

/** Vectorised per-query scores (tf matMul + topk in chunks of `chunk` queries). */
export function retrievalScores(inp: RetrievalInput, chunk = 256): QueryScores {
  const p = checkedInput(inp);
  const { q, r, self, relCount, ks } = p;
  const N = q.rows;
  const s: QueryScores = {
    relevant: relCount,
    precision_at_1: new Float64Array(N),
    r_precision: new Float64Array(N),
    average_precision_at_r: new Float64Array(N),
    hit_at_k: Object.fromEntries(ks.map((k) => [k, new Float64Array(N)])),
    ks,
  };
  const avail = r.rows - (self ? 1 : 0);
  let maxR = 0;
  for (const R of relCount) maxR = Math.max(maxR, R);
  const K = Math.min(Math.max(maxR, ...ks), avail);
  if (K <= 0 || N === 0) return s;
  const refT = tf.tensor2d(r.data, [r.rows, r.dim]);
  try {
    for (let c = 0; c < N; c += chunk) {
      const e = Math.min(N, c + chunk);
      const idx = tf.tidy(() => {
        const qs = tf.tensor2d(q.data.subarray(c * q.dim, e * q.dim), [e - c, q.dim]);
        let sims = tf.matMul(qs, refT, false, true); // [c, Nr]
        if (self) {
          // exclude each query from its own neighbours
          const diag = tf.oneHot(tf.range(c, e, 1, 'int32'), r.rows).cast('bool');
          sims = tf.where(diag, tf.fill(sims.shape, -Infinity), sims);
        }
        return tf.topk(sims, K, true).indices;
      });
      const rows = idx.arraySync() as number[][];
      idx.dispose();
      for (let i = c; i < e; i++) if (relCount[i]! > 0) scoreQuery(s, i, p.ql[i]!, rows[i - c]!.map((j) => p.rl[j]!));
    }
  } finally {
    refT.dispose();
  }
  return s;
}

/** PML's reduction: the mean of each score over the queries that have a relevant reference. */
export function meanOverQueries(s: QueryScores): RetrievalMetrics {
  let n = 0;
  let p1 = 0;
  let rp = 0;
  let map = 0;
  const hits = new Map<number, number>();
  for (let i = 0; i < s.relevant.length; i++) {
    if (s.relevant[i]! <= 0) continue;
    n += 1;
    p1 += s.precision_at_1[i]!;
    rp += s.r_precision[i]!;
    map += s.average_precision_at_r[i]!;
    for (const k of s.ks) hits.set(k, (hits.get(k) ?? 0) + s.hit_at_k[k]![i]!);
  }
  const d = n || 1;
  const recall: Record<number, number> = {};
  for (const k of s.ks) recall[k] = n ? (hits.get(k) ?? 0) / d : 0;
  return {
    precision_at_1: n ? p1 / d : 0,
    r_precision: n ? rp / d : 0,
    map_at_r: n ? map / d : 0,
    recall_at_k: recall,
    num_queries: n,
    num_lone_queries: s.relevant.length - n,
  };
}

/** Retrieval metrics (PML AccuracyCalculator definitions, see the top of this file). */
export function retrievalMetrics(inp: RetrievalInput, chunk = 256): RetrievalMetrics {
  return meanOverQueries(retrievalScores(inp, chunk));
}

export function precisionAt1(inp: RetrievalInput): number {
  return retrievalMetrics({ ...inp, ks: [1] }).precision_at_1;
}
export function recallAtK(inp: RetrievalInput, k: number): number {
  return retrievalMetrics({ ...inp, ks: [k] }).recall_at_k[k]!;
}
export function rPrecision(inp: RetrievalInput): number {
  return retrievalMetrics({ ...inp, ks: [1] }).r_precision;
}
export function mapAtR(inp: RetrievalInput): number {
  return retrievalMetrics({ ...inp, ks: [1] }).map_at_r;
}
