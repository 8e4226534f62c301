/**
 * Image.resize for 8-bit RGB, two integer kernels, both reproduced bit for bit:
 *
 * kernel 'pil' — Pillow's ImagingResample (src/libImaging/Resample.c), HF's slow processors:
 *   - separable convolution, horizontal pass first (only over the rows the vertical pass needs),
 *   - filter support scaled by the downscale factor (= antialiasing when shrinking),
 *   - PIL's kernels: bicubic a = -0.5, bilinear triangle, lanczos a = 3, box, hamming,
 *   - coefficients normalised to sum 1 in double, then turned into 22-bit fixed point
 *     (PRECISION_BITS = 32 - 8 - 2) with round-half-away-from-zero,
 *   - each pass accumulates integers from 1 << 21 (rounding) and clips to uint8 (`clip8`).
 *   Checked against Pillow 9.4 on 30 random cases × 6 filters (test/preprocess/golden).
 *
 * kernel 'torch' — torch's uint8 antialiased interpolate (ATen _upsample_*_aa, uint8 path), which
 *   torchvision F.resize(antialias=True) and so HF's fast processors (transformers 5's default)
 *   use: the same windows and filters, but int16 weights whose fraction bits are chosen per axis so
 *   the largest weight stays below 2^15 (~15 bits instead of 22), so 0.3–2% of values land one or
 *   two grey levels away from PIL. Bit-exact with the CLIP/DINOv2/SigLIP (bicubic) and DETR (bilinear)
 *   fixtures of transformers 5.17.
 *
 * 'nearest' follows PIL: source index ≈ floor((x + 0.5) * in / out), accumulated as PIL's
 * ImagingScaleAffine does (kernel ignored).
 *
 * `resizeFloat` is the same convolution on float planes without fixed point or clipping.
 */
import { LogolabError } from '../errors.js';
import type { RgbImage } from './image.js';

export type ResampleFilter = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos' | 'box' | 'hamming';

/** PIL's `Image.Resampling` integer codes as stored in preprocessor_config.json `resample`. */
export const PIL_RESAMPLE: Record<number, ResampleFilter> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

interface Kernel {
  support: number;
  f(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, Kernel> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    f: (x) => {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
  },
  hamming: {
    support: 1,
    f: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
  },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, f: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;

/** One output coordinate's window: taps k[0..n) applied to input min..min+n. */
export interface Coeffs {
  ksize: number;
  /** [outSize*2]: xmin, count */
  bounds: Int32Array;
  /** [outSize*ksize] normalised double weights */
  kk: Float64Array;
}

/** precompute_coeffs() of Resample.c, for the full input range [0, inSize). */
export function precomputeCoeffs(inSize: number, outSize: number, filter: Exclude<ResampleFilter, 'nearest'>): Coeffs {
  const kern = KERNELS[filter];
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = kern.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Float64Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) truncates toward zero; negative values are clamped to 0 anyway.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const o = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = kern.f((x + xmin - center + 0.5) * ss);
      kk[o + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) kk[o + x]! /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/**
 * Fixed-point weights. PIL (normalize_coeffs_8bpc): 22 bits. torch's uint8 antialias kernels
 * (_compute_index_ranges_int16_weights, used by torchvision and so by HF's fast processors):
 * int16 weights with the most bits that keep the largest weight below 2^15. Both round half away
 * from zero.
 */
function fixedCoeffs(kk: Float64Array, kernel: ResizeKernel): { k: Int32Array; bits: number } {
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
function clip8(v: number, bits: number): number {
  if (v <= 0) return 0;
  const r = v >> bits;
  return r > 255 ? 255 : r;
}

function checkSize(w: number, h: number, what: string): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw new LogolabError(`resize: invalid ${what} size ${w}x${h}`);
  }
}

function resizeNearest(img: RgbImage, width: number, height: number): RgbImage {
  const { width: iw, height: ih, data } = img;
  const out = new Uint8Array(width * height * 3);
  const sx = iw / width;
  const sy = ih / height;
  // PIL's ImagingScaleAffine walks the source coordinate by repeated addition (not (x+0.5)*s),
  // and the rounding of that sum decides ties: reproduce it.
  const xs = new Int32Array(width);
  let xo = sx * 0.5;
  for (let x = 0; x < width; x++, xo += sx) xs[x] = Math.min(iw - 1, Math.trunc(xo)) * 3;
  const ys = new Int32Array(height);
  let yo = sy * 0.5;
  for (let y = 0; y < height; y++, yo += sy) ys[y] = Math.min(ih - 1, Math.trunc(yo));
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = ys[y]! * iw * 3;
    for (let x = 0; x < width; x++) {
      const s = row + xs[x]!;
      out[o++] = data[s]!;
      out[o++] = data[s + 1]!;
      out[o++] = data[s + 2]!;
    }
  }
  return { width, height, data: out };
}

/**
 * Which integer kernel: 'pil' = Pillow's Image.resize (HF slow processors); 'torch' = torch's
 * uint8 antialiased interpolate (torchvision F.resize(antialias=True), HF fast processors, the
 * default of transformers 5). Same filters and windows; only the weight precision differs.
 */
export type ResizeKernel = 'pil' | 'torch';

/** PIL `img.resize((width, height), filter)` on an RGB uint8 image; bit-exact with Pillow (kernel 'pil'). */
export function resize(img: RgbImage, width: number, height: number, filter: ResampleFilter = 'bicubic', kernel: ResizeKernel = 'pil'): RgbImage {
  checkSize(img.width, img.height, 'input');
  checkSize(width, height, 'output');
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() }; // PIL: copy
  if (filter === 'nearest') return resizeNearest(img, width, height);
  if (!(filter in KERNELS)) throw new LogolabError(`resize: unknown filter '${filter}'`);
  const iw = img.width;
  const ih = img.height;
  const needH = width !== iw;
  const needV = height !== ih;
  const cv = precomputeCoeffs(ih, height, filter);
  // Rows of the input the vertical pass touches (the horizontal pass only computes those).
  const yFirst = cv.bounds[0]!;
  const yLast = cv.bounds[height * 2 - 2]! + cv.bounds[height * 2 - 1]!;

  let src = img.data;
  let srcW = iw;
  let rowOffset = 0; // first input row held by `src`
  if (needH) {
    const ch = precomputeCoeffs(iw, width, filter);
    const { k, bits } = fixedCoeffs(ch.kk, kernel);
    const half = 2 ** (bits - 1);
    const ks = ch.ksize;
    const rows = needV ? yLast - yFirst : ih;
    const y0 = needV ? yFirst : 0;
    const tmp = new Uint8Array(width * rows * 3);
    const data = img.data;
    // Taps padded to groups of 4 (weight 0 on a valid pixel) so the inner loop is unrolled ×4;
    // sums of exact integers, so the grouping does not change the result.
    const K4 = Math.ceil(ks / 4) * 4;
    const offs = new Int32Array(width * K4);
    const wts = new Float64Array(width * K4);
    const groups = new Int32Array(width);
    for (let xx = 0; xx < width; xx++) {
      const xmin = ch.bounds[xx * 2]!;
      const n = ch.bounds[xx * 2 + 1]!;
      groups[xx] = Math.ceil(n / 4);
      for (let t = 0; t < K4; t++) {
        offs[xx * K4 + t] = (t < n ? xmin + t : xmin) * 3;
        wts[xx * K4 + t] = t < n ? k[xx * ks + t]! : 0;
      }
    }
    for (let yy = 0; yy < rows; yy++) {
      const inRow = (yy + y0) * iw * 3;
      const outRow = yy * width * 3;
      for (let xx = 0; xx < width; xx++) {
        let s0 = half;
        let s1 = half;
        let s2 = half;
        const end = xx * K4 + groups[xx]! * 4;
        for (let t = xx * K4; t < end; t += 4) {
          const a = inRow + offs[t]!;
          const b = inRow + offs[t + 1]!;
          const c = inRow + offs[t + 2]!;
          const d = inRow + offs[t + 3]!;
          const w0 = wts[t]!;
          const w1 = wts[t + 1]!;
          const w2 = wts[t + 2]!;
          const w3 = wts[t + 3]!;
          s0 += data[a]! * w0 + data[b]! * w1 + data[c]! * w2 + data[d]! * w3;
          s1 += data[a + 1]! * w0 + data[b + 1]! * w1 + data[c + 1]! * w2 + data[d + 1]! * w3;
          s2 += data[a + 2]! * w0 + data[b + 2]! * w1 + data[c + 2]! * w2 + data[d + 2]! * w3;
        }
        const o = outRow + xx * 3;
        tmp[o] = clip8(s0, bits);
        tmp[o + 1] = clip8(s1, bits);
        tmp[o + 2] = clip8(s2, bits);
      }
    }
    src = tmp;
    srcW = width;
    rowOffset = y0;
  }
  if (!needV) return { width, height, data: src === img.data ? src.slice() : src };

  const { k, bits } = fixedCoeffs(cv.kk, kernel);
  const half = 2 ** (bits - 1);
  const ks = cv.ksize;
  const out = new Uint8Array(width * height * 3);
  const stride = srcW * 3;
  // Row-wise accumulation (taps outer, pixels inner, 4 taps per sweep): sequential memory access.
  // Sums are exact integers (< 2^31), so the order of additions does not change the result.
  const acc = new Float64Array(stride);
  for (let yy = 0; yy < height; yy++) {
    const ymin = cv.bounds[yy * 2]! - rowOffset;
    const n = cv.bounds[yy * 2 + 1]!;
    const ko = yy * ks;
    acc.fill(half);
    for (let y = 0; y < n; y += 4) {
      const r0 = (ymin + y) * stride;
      // missing taps of the last group: weight 0 on row r0
      const w0 = k[ko + y]!;
      const w1 = y + 1 < n ? k[ko + y + 1]! : 0;
      const w2 = y + 2 < n ? k[ko + y + 2]! : 0;
      const w3 = y + 3 < n ? k[ko + y + 3]! : 0;
      const r1 = y + 1 < n ? r0 + stride : r0;
      const r2 = y + 2 < n ? r0 + 2 * stride : r0;
      const r3 = y + 3 < n ? r0 + 3 * stride : r0;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + (src[r0 + i]! * w0 + src[r1 + i]! * w1 + src[r2 + i]! * w2 + src[r3 + i]! * w3);
    }
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) out[outRow + i] = clip8(acc[i]!, bits);
  }
  return { width, height, data: out };
}

/**
 * The same separable resampling on float data (HWC, any channel count), in double precision,
 * without rounding or clipping (PIL's mode 'F' behaviour, per channel).
 */
export function resizeFloat(
  data: Float32Array,
  inW: number,
  inH: number,
  channels: number,
  width: number,
  height: number,
  filter: Exclude<ResampleFilter, 'nearest'> = 'bicubic',
): Float32Array {
  checkSize(inW, inH, 'input');
  checkSize(width, height, 'output');
  if (data.length !== inW * inH * channels) throw new LogolabError(`resizeFloat: data length ${data.length} != ${inW}x${inH}x${channels}`);
  const C = channels;
  let cur: Float32Array = data;
  let curW = inW;
  if (width !== inW) {
    const ch = precomputeCoeffs(inW, width, filter);
    const tmp = new Float32Array(width * inH * C);
    for (let y = 0; y < inH; y++) {
      for (let xx = 0; xx < width; xx++) {
        const xmin = ch.bounds[xx * 2]!;
        const n = ch.bounds[xx * 2 + 1]!;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let x = 0; x < n; x++) s += cur[(y * curW + xmin + x) * C + c]! * ch.kk[xx * ch.ksize + x]!;
          tmp[(y * width + xx) * C + c] = s;
        }
      }
    }
    cur = tmp;
    curW = width;
  }
  if (height !== inH) {
    const cv = precomputeCoeffs(inH, height, filter);
    const out = new Float32Array(width * height * C);
    for (let yy = 0; yy < height; yy++) {
      const ymin = cv.bounds[yy * 2]!;
      const n = cv.bounds[yy * 2 + 1]!;
      for (let i = 0; i < width * C; i++) {
        let s = 0;
        for (let y = 0; y < n; y++) s += cur[(ymin + y) * width * C + i]! * cv.kk[yy * cv.ksize + y]!;
        out[yy * width * C + i] = s;
      }
    }
    cur = out;
  }
  return cur === data ? data.slice() : cur;
}
