/**
 * NaN/Inf checks on host data. A non-finite weight or embedding is an error naming its source
 * (tensor, image, entry): NaN compares false with every threshold, so it would otherwise slip
 * through the matchers as a silent "match" or "no match".
 */

/** Index of the first NaN/±Inf value, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite v and NaN for NaN/±Inf; one comparison per element
    if (v - v !== 0) return i;
  }
  return -1;
}

/** 'NaN' | 'Inf' | '-Inf' for the value at `i`. */
export function nonFiniteName(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
}

/**
 * A number as a user types it: plain decimal or exponent notation only. Number() alone would read
 * '' as 0 and '0x2' as 2; every option and list of numbers is checked against this first.
 */
export const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
