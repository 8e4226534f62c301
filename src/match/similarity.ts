/**
 * Cosine similarities between L2-normalised embeddings, as a dense row-major matrix.
 * Pure host code (no tfjs): the matrices are small (regions × references) and every
 * matcher and sweep reads them many times, so a Float32Array is the natural exchange.
 */
import { LogolabError } from '../errors.js';
import { l2normalize } from '../util/vector.js';

/** Row-major [rows, cols] matrix of similarities. */
export interface SimMatrix {
  rows: number;
  cols: number;
  data: Float32Array; // [rows * cols]
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new LogolabError(`embedding size mismatch: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Cosine similarity of two (not necessarily normalised) vectors; 0 when either is all zeros. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = dot(a, b);
  const na = Math.sqrt(dot(a, a));
  const nb = Math.sqrt(dot(b, b));
  return na === 0 || nb === 0 ? 0 : d / (na * nb);
}

/**
 * Mean of the embeddings, re-normalised (the Python original's get_averaged_embedding:
 * stack → mean → F.normalize). Throws on an empty list (the reference returned None).
 */
export function averagedEmbedding(embs: ArrayLike<number>[], what = 'averaged embedding'): Float32Array {
  if (embs.length === 0) throw new LogolabError(`${what}: no embeddings to average`);
  const d = embs[0]!.length;
  const acc = new Float64Array(d);
  for (const e of embs) {
    if (e.length !== d) throw new LogolabError(`${what}: embedding size mismatch ${e.length} vs ${d}`);
    for (let i = 0; i < d; i++) acc[i]! += e[i]!;
  }
  for (let i = 0; i < d; i++) acc[i]! /= embs.length;
  return l2normalize(acc);
}

/** sims[i, j] = <queries[i], refs[j]> (cosine when both are L2-normalised, as embedImages returns). */
export function similarityMatrix(queries: ArrayLike<number>[], refs: ArrayLike<number>[]): SimMatrix {
  const rows = queries.length;
  const cols = refs.length;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const q = queries[i]!;
    for (let j = 0; j < cols; j++) data[i * cols + j] = dot(q, refs[j]!);
  }
  return { rows, cols, data };
}

export function row(m: SimMatrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}
