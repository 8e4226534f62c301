/** Host-side vector helpers shared by the embedder, the matchers and the metrics (no tfjs). */

/**
 * out = v / max(‖v‖₂, 1e-12), as torch's F.normalize (a zero vector stays zero). The norm is summed
 * in float64. `out` may be `v` itself (in place) or a row of a larger block.
 */
export function l2normalize(v: ArrayLike<number>, out: Float32Array = new Float32Array(v.length)): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.max(Math.sqrt(s), 1e-12);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}
