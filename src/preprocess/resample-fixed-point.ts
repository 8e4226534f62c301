/**
 * The integer weights of the uint8 resize (resize.ts): the 'pil' and 'torch' kernels differ only
 * in how many fraction bits the weights keep, and every pass clips its sums back to uint8.
 */

/**
 * Which integer kernel: 'pil' = Pillow's Image.resize (HF slow processors); 'torch' = torch's
 * uint8 antialiased interpolate (torchvision F.resize(antialias=True), HF fast processors, the
 * default of transformers 5). Same filters and windows; only the weight precision differs.
 */
export type ResizeKernel = 'pil' | 'torch';

const PRECISION_BITS = 32 - 8 - 2;

/**
 * Fixed-point weights. PIL (normalize_coeffs_8bpc): 22 bits. torch's uint8 antialias kernels
 * (_compute_index_ranges_int16_weights, used by torchvision and so by HF's fast processors):
 * int16 weights with the most bits that keep the largest weight below 2^15. Both round half away
 * from zero.
 */
export function fixedCoeffs(kk: Float64Array, kernel: ResizeKernel): { k: Int32Array; bits: number } {
  let bits = PRECISION_BITS;
  if (kernel === 'torch') {
    let wmax = 0;
    for (let i = 0; i < kk.length; i++) if (kk[i]! > wmax) wmax = kk[i]!;
    for (bits = 0; bits < 22; bits++) if (Math.trunc(0.5 + wmax * 2 ** (bits + 1)) >= 1 << 15) break;
  }
  const one = 2 ** bits;
  const k = new Int32Array(kk.length);
  for (let i = 0; i < kk.length; i++) {
    const v = kk[i]! * one;
    k[i] = v < 0 ? Math.trunc(v - 0.5) : Math.trunc(v + 0.5);
  }
  return { k, bits };
}

/** (v >> bits) clamped to 0..255; v is an exact integer below 2^31. */
export function clip8(v: number, bits: number): number {
  if (v <= 0) return 0;
  const r = v >> bits;
  return r > 255 ? 255 : r;
}
