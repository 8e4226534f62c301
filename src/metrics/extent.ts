/**
 * [min, max] of `values` by a loop ([Infinity, -Infinity] when empty). Math.min(...values) passes
 * every value as an argument and overflows the stack past ~10^5 of them (a large sample's similarities).
 */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
