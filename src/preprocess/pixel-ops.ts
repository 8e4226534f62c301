/**
 * The pixel half of training augmentation (src/preprocess/augment.ts), in place on an RGB buffer
 * [H·W·3] uint8. Colour ops follow PIL's integer semantics (torchvision's PIL path): ImageEnhance
 * blends truncate and clip to uint8 after each op, luma L = (19595 R + 38470 G + 7471 B + 2^15) >> 16,
 * hue is shifted in PIL's 8-bit HSV; the blur is torchvision's 3×3 gaussian_blur.
 */
import type { RgbImage } from './image.js';

function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** PIL Image.blend(degenerate, img, f): deg + f (v - deg), truncated, clipped. */
function blend(deg: number, v: number, f: number): number {
  const t = deg + f * (v - deg);
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

export function adjustBrightness(d: Uint8Array, f: number): void {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = blend(0, v, f);
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
}

export function adjustContrast(d: Uint8Array, f: number): void {
  // ImageEnhance.Contrast: grey level = int(mean of L + 0.5)
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += luma(d[i]!, d[i + 1]!, d[i + 2]!);
  const mean = Math.trunc(sum / (d.length / 3) + 0.5);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = blend(mean, v, f);
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
}

export function adjustSaturation(d: Uint8Array, f: number): void {
  for (let i = 0; i < d.length; i += 3) {
    const l = luma(d[i]!, d[i + 1]!, d[i + 2]!);
    d[i] = blend(l, d[i]!, f);
    d[i + 1] = blend(l, d[i + 1]!, f);
    d[i + 2] = blend(l, d[i + 2]!, f);
  }
}

/** torchvision adjust_hue on PIL: 8-bit HSV, H += int8(hue·255) with uint8 wrap-around. */
export function adjustHue(d: Uint8Array, hue: number): void {
  const shift = Math.trunc(hue * 255); // np.int8(hue_factor * 255)
  if (shift === 0) return;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!;
    const g = d[i + 1]!;
    const b = d[i + 2]!;
    const maxc = r > g ? (r > b ? r : b) : g > b ? g : b;
    const minc = r < g ? (r < b ? r : b) : g < b ? g : b;
    if (maxc === minc) continue; // grey: hue has no effect (PIL stores h = s = 0)
    // rgb2hsv (PIL Convert.c, colorsys), with the (max - c) / cr differences simplified
    const cr = maxc - minc;
    const s8 = ((cr * 255) / maxc) | 0;
    const inv = 1 / cr;
    let h = r === maxc ? (g - b) * inv : g === maxc ? 2 + (b - r) * inv : 4 + (r - g) * inv;
    if (h < 0) h += 6;
    const h8 = ((Math.min(255, ((h / 6) * 255) | 0) + shift) & 255);
    // hsv2rgb (PIL Convert.c); all terms lie in [0, v], so no clipping (x + 0.5 | 0 = round, x ≥ 0)
    if (s8 === 0) {
      d[i] = d[i + 1] = d[i + 2] = maxc;
      continue;
    }
    const hh = (h8 * 6) / 255;
    const k = hh | 0;
    const fr = hh - k;
    const v = maxc;
    const vs = v / 255;
    const pp = (vs * (255 - s8) + 0.5) | 0;
    const qq = (vs * (255 - s8 * fr) + 0.5) | 0;
    const tt = (vs * (255 - s8 * (1 - fr)) + 0.5) | 0;
    let R: number, G: number, B: number;
    switch (k) {
      case 0: case 6: R = v; G = tt; B = pp; break;
      case 1: R = qq; G = v; B = pp; break;
      case 2: R = pp; G = v; B = tt; break;
      case 3: R = pp; G = qq; B = v; break;
      case 4: R = tt; G = pp; B = v; break;
      default: R = v; G = pp; B = qq; break;
    }
    d[i] = R;
    d[i + 1] = G;
    d[i + 2] = B;
  }
}

export function toGrayscale(d: Uint8Array): void {
  for (let i = 0; i < d.length; i += 3) {
    const l = luma(d[i]!, d[i + 1]!, d[i + 2]!);
    d[i] = l;
    d[i + 1] = l;
    d[i + 2] = l;
  }
}

/**
 * torchvision gaussian_blur(kernel 3, sigma): separable, reflect padding, rounded back to uint8.
 * Weights in 12-bit fixed point (k0 + 2 k1 = 4096): exact integer sums, ±1 level from float at ties.
 */
export function gaussianBlur3(img: RgbImage, sigma: number): void {
  const { width: w, height: h, data } = img;
  const e = Math.exp(-0.5 / (sigma * sigma));
  const k1 = Math.round((e / (1 + 2 * e)) * 4096); // neighbours
  const k0 = 4096 - 2 * k1; // centre
  const rowLen = w * 3;
  const tmp = new Int32Array(data.length); // values · 4096
  // Horizontal: interior pixels read x-1 and x+1; the edges reflect (x = -1 → 1, x = w → w - 2).
  for (let y = 0; y < h; y++) {
    const row = y * rowLen;
    for (let i = 3; i < rowLen - 3; i++) tmp[row + i] = k1 * (data[row + i - 3]! + data[row + i + 3]!) + k0 * data[row + i]!;
    for (let c = 0; c < 3; c++) {
      const nb0 = w > 1 ? data[row + 3 + c]! : data[row + c]!;
      tmp[row + c] = 2 * k1 * nb0 + k0 * data[row + c]!;
      if (w > 1) {
        const last = row + rowLen - 3 + c;
        tmp[last] = 2 * k1 * data[last - 3]! + k0 * data[last]!;
      }
    }
  }
  // Vertical, same reflection on the first/last row; sums < 2^32, rounded by + 2^23 then >>> 24.
  for (let y = 0; y < h; y++) {
    const row = y * rowLen;
    const up = (y > 0 ? y - 1 : h > 1 ? 1 : 0) * rowLen;
    const dn = (y < h - 1 ? y + 1 : h > 1 ? h - 2 : 0) * rowLen;
    for (let i = 0; i < rowLen; i++) data[row + i] = (k1 * (tmp[up + i]! + tmp[dn + i]!) + k0 * tmp[row + i]! + 8388608) >>> 24;
  }
}
