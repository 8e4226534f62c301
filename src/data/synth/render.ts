/**
 * Rasterising logo renditions (SVG → RGBA with sharp/librsvg) and placing them into a scene with
 * a projective warp (scale + rotation + perspective in one homography), so the box written to
 * the VOC file is EXACT: the bounding box of the warped logo's pixels with alpha ≥ 0.5.
 */
import sharp from 'sharp';
import type { Rendition } from './sources.js';
import { makeRng, type Rng } from '../../util/rng.js';

/** Straight-alpha RGBA raster. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array; // [H, W, 4]
}

/** Scene canvas: float RGB in 0..255, [H, W, 3]. */
export interface Canvas {
  width: number;
  height: number;
  data: Float32Array;
}

export function makeCanvas(width: number, height: number): Canvas {
  return { width, height, data: new Float32Array(width * height * 3) };
}

// Rasters are rendered at a few fixed sizes (powers of √2) and cached: the warp then resamples
// by a factor in (0.7, 1], which bilinear handles without aliasing.
const SIZES = [24, 34, 48, 68, 96, 136, 192, 272, 384];
const CACHE_BYTES = 96 * 1024 * 1024;
const cache = new Map<string, Rgba>();
let cacheBytes = 0;

export function renderSizeFor(longSide: number): number {
  for (const s of SIZES) if (s >= longSide) return s;
  return SIZES[SIZES.length - 1]!;
}

/**
 * The rendition's SVG sized for librsvg: its longer side `longSide` px, the other by its aspect
 * (≥ 4 px), stretched to fill (preserveAspectRatio none).
 */
export function sizedSvg(r: Rendition, longSide: number): string {
  const w = r.aspect >= 1 ? longSide : Math.max(4, Math.round(longSide * r.aspect));
  const h = r.aspect >= 1 ? Math.max(4, Math.round(longSide / r.aspect)) : longSide;
  const svg = r.svg.replace(/^<svg\b/, `<svg width="${w}" height="${h}" preserveAspectRatio="none"`);
  // Some iconify bodies use xlink:href without declaring the namespace (browsers tolerate it,
  // librsvg's XML parser does not): declare it.
  return svg.includes('xlink:') && !svg.includes('xmlns:xlink') ? svg.replace(/^<svg\b/, '<svg xmlns:xlink="http://www.w3.org/1999/xlink"') : svg;
}

/** Rasterises a rendition so that its longer side is `longSide` px (one of SIZES). */
export async function rasterize(key: string, r: Rendition, longSide: number): Promise<Rgba> {
  const size = renderSizeFor(longSide);
  const ck = `${key}|${r.id}|${size}`;
  const hit = cache.get(ck);
  if (hit) {
    cache.delete(ck); // LRU: move to the end
    cache.set(ck, hit);
    return hit;
  }
  const { data, info } = await sharp(Buffer.from(sizedSvg(r, size))).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const out: Rgba = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  if (r.style === 'gray') {
    const d = out.data;
    for (let i = 0; i < d.length; i += 4) {
      const y = Math.round(0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!);
      d[i] = d[i + 1] = d[i + 2] = y;
    }
  }
  cache.set(ck, out);
  cacheBytes += out.data.byteLength;
  while (cacheBytes > CACHE_BYTES && cache.size > 1) {
    const [k, v] = cache.entries().next().value as [string, Rgba];
    cache.delete(k);
    cacheBytes -= v.data.byteLength;
  }
  return out;
}

/** Mean colour of the raster's opaque pixels (for contrast decisions). */
export function inkColour(r: Rgba): [number, number, number] {
  let s0 = 0, s1 = 0, s2 = 0, sa = 0;
  const d = r.data;
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3]!;
    s0 += a * d[i]!;
    s1 += a * d[i + 1]!;
    s2 += a * d[i + 2]!;
    sa += a;
  }
  return sa > 0 ? [s0 / sa, s1 / sa, s2 / sa] : [0, 0, 0];
}

export type Pt = [number, number];

/** Homography H (row-major 3×3, h33 = 1) mapping src[i] → dst[i] for 4 point pairs. */
export function homography(src: Pt[], dst: Pt[]): Float64Array {
  // 8 unknowns: for each pair, two rows of the DLT system.
  const A: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = src[i]!;
    const [u, v] = dst[i]!;
    A.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    A.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  // Gaussian elimination with partial pivoting on the 8×9 augmented matrix.
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    [A[c], A[p]] = [A[p]!, A[c]!];
    const piv = A[c]![c]!;
    if (Math.abs(piv) < 1e-12) throw new Error('degenerate quad');
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / piv;
      if (f !== 0) for (let k = c; k < 9; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const h = new Float64Array(9);
  for (let i = 0; i < 8; i++) h[i] = A[i]![8]! / A[i]![i]!;
  h[8] = 1;
  return h;
}

export function invert3(m: Float64Array): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = m as unknown as number[];
  const A = e! * i! - f! * h!, B = -(d! * i! - f! * g!), C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  const r = new Float64Array([A, -(b! * i! - c! * h!), b! * f! - c! * e!, B, a! * i! - c! * g!, -(a! * f! - c! * d!), C, -(a! * h! - b! * g!), a! * e! - b! * d!]);
  for (let k = 0; k < 9; k++) r[k]! /= det;
  return r;
}

export interface Placed {
  /** exact box of the visible-in-canvas logo pixels (alpha ≥ 0.5), half-open; null if none */
  box: [number, number, number, number] | null;
  /** fraction of the logo's full (unclipped) opaque area that lies inside the canvas */
  insideFraction: number;
}

/**
 * Composites `src` onto `canvas` through the homography mapping src corners to `quad`
 * (TL, TR, BR, BL), with a global opacity and an optional per-pixel tint multiply.
 * Bilinear sampling on premultiplied alpha so edges do not pick up black fringes.
 */
export function warpComposite(canvas: Canvas, src: Rgba, quad: Pt[], opacity = 1): Placed {
  const { width: sw, height: sh, data: sd } = src;
  const H = homography([[0, 0], [sw, 0], [sw, sh], [0, sh]], quad);
  const Hi = invert3(H);
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const bx0 = Math.floor(Math.min(...xs)), bx1 = Math.ceil(Math.max(...xs));
  const by0 = Math.floor(Math.min(...ys)), by1 = Math.ceil(Math.max(...ys));
  const W = canvas.width, Hc = canvas.height, cd = canvas.data;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  let inside = 0, total = 0;
  for (let y = by0; y < by1; y++) {
    for (let x = bx0; x < bx1; x++) {
      const px = x + 0.5, py = y + 0.5;
      const wq = Hi[6]! * px + Hi[7]! * py + Hi[8]!;
      const u = (Hi[0]! * px + Hi[1]! * py + Hi[2]!) / wq - 0.5;
      const v = (Hi[3]! * px + Hi[4]! * py + Hi[5]!) / wq - 0.5;
      if (u < -1 || v < -1 || u > sw || v > sh) continue;
      const x0 = Math.floor(u), y0 = Math.floor(v);
      const fx = u - x0, fy = v - y0;
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < 4; k++) {
        const xx = x0 + (k & 1), yy = y0 + (k >> 1);
        if (xx < 0 || yy < 0 || xx >= sw || yy >= sh) continue;
        const wgt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        const o = (yy * sw + xx) * 4;
        const aa = (sd[o + 3]! / 255) * wgt;
        r += sd[o]! * aa;
        g += sd[o + 1]! * aa;
        b += sd[o + 2]! * aa;
        a += aa;
      }
      if (a <= 0) continue;
      if (a >= 0.5) total++;
      if (x < 0 || y < 0 || x >= W || y >= Hc) continue;
      const al = a * opacity;
      const o = (y * W + x) * 3;
      // premultiplied over: out = src_premul·opacity + dst·(1 − α)
      cd[o] = r * opacity + cd[o]! * (1 - al);
      cd[o + 1] = g * opacity + cd[o + 1]! * (1 - al);
      cd[o + 2] = b * opacity + cd[o + 2]! * (1 - al);
      if (a >= 0.5) {
        inside++;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return { box: inside > 0 ? [minX, minY, maxX + 1, maxY + 1] : null, insideFraction: total > 0 ? inside / total : 0 };
}

/** Alpha-composites an RGBA overlay of the canvas's size (e.g. rendered SVG text) onto it. */
export function compositeFull(canvas: Canvas, over: Rgba): void {
  const d = canvas.data, s = over.data;
  for (let i = 0, j = 0; i < d.length; i += 3, j += 4) {
    const a = s[j + 3]! / 255;
    if (a === 0) continue;
    d[i] = s[j]! * a + d[i]! * (1 - a);
    d[i + 1] = s[j + 1]! * a + d[i + 1]! * (1 - a);
    d[i + 2] = s[j + 2]! * a + d[i + 2]! * (1 - a);
  }
}

/** Renders an SVG of the canvas's size (text, shapes) and composites it. */
export async function compositeSvg(canvas: Canvas, svgBody: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${canvas.width}" height="${canvas.height}">${svgBody}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  compositeFull(canvas, { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

/** Canvas → 8-bit RGB bytes (Uint8ClampedArray conversion: clamped, rounded half to even). */
export function canvasToBytes(c: Canvas): Buffer {
  const u = new Uint8ClampedArray(c.data);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

// A fixed table of standard normals: per-pixel noise reads it with a random offset and odd
// stride instead of drawing ~10^6 values from the generator per scene (10× faster, same look).
const NOISE_N = 1 << 16;
let noiseTable: Float32Array | null = null;
function normals(): Float32Array {
  if (!noiseTable) {
    const r = makeRng('synth-noise-table');
    noiseTable = new Float32Array(NOISE_N);
    for (let i = 0; i < NOISE_N; i++) noiseTable[i] = r.normal();
  }
  return noiseTable;
}

/** Adds N(0, sigma²) noise to every value (seeded through rng's offset/stride). */
export function addNoise(data: Float32Array, sigma: number, rng: Rng): void {
  const t = normals();
  let j = rng.int(NOISE_N);
  const stride = 1 + 2 * rng.int(4096);
  for (let i = 0; i < data.length; i++, j = (j + stride) & (NOISE_N - 1)) data[i]! += sigma * t[j]!;
}
