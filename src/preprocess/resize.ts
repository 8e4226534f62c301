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
 *
 * The filters and their windows are in resample-filters.ts, the fixed-point weights in
 * resample-fixed-point.ts; this file holds the resize passes.
 */
import { LogolabError } from '../errors.js';
import type { RgbImage } from './image.js';
import { KERNELS, precomputeCoeffs, type ResampleFilter } from './resample-filters.js';
import { clip8, fixedCoeffs, type ResizeKernel } from './resample-fixed-point.js';

export type { ResizeKernel } from './resample-fixed-point.js';

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
