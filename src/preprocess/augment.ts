/**
 * Training augmentation on RgbImage, the Python original's torchvision pipelines
 * (training/dataset.py get_train_transforms) with the same probabilities and ranges:
 *
 *   light:  HorizontalFlip(0.5), ColorJitter(brightness 0.1, contrast 0.1)
 *   medium: HorizontalFlip(0.5), Rotation(±15°), ColorJitter(0.2, 0.2, 0.2, hue 0.05),
 *           Affine(translate ±10%, scale 0.9–1.1), Grayscale(0.1)
 *   strong: RandomCrop(224 of 256 = 87.5% per side), HorizontalFlip(0.5), VerticalFlip(0.1),
 *           Rotation(±30°), ColorJitter(0.3, 0.3, 0.3, hue 0.1),
 *           Affine(translate ±15%, scale 0.8–1.2, shear x ±10°), Grayscale(0.2),
 *           GaussianBlur(3×3, sigma 0.1–2.0)
 *   logo:   (ours, for pre-training on logo crops) no flips (mirrored wordmarks do not occur),
 *           Rotation(±10°), Affine(translate ±8%, scale 0.85–1.15), ColorJitter(0.4, 0.4, 0.5,
 *           hue 0.5 = any hue), Invert(0.25), Grayscale(0.2): a logo keeps its identity under any
 *           recolouring (brand colour, black, white, inverted plate), so colour must not be its cue
 *
 * Differences from the reference, on purpose:
 *   - The reference squashed every image to 224×224 (strong: 256×256) first and normalised with
 *     CLIP's mean/std whatever the model; at evaluation the HF processor (shortest-edge resize +
 *     centre crop, the model's own mean/std) was used: a train/test mismatch. Here augmentation
 *     works at the image's own size (all ranges are relative) and its output goes through the
 *     model's processor.process(), exactly as at evaluation (validation transform = processor alone).
 *   - Crop, flips, rotation and affine are composed into ONE nearest-neighbour warp (torchvision's
 *     default interpolation, black fill, each stage's canvas bounds respected), instead of
 *     resampling up to four times. Same geometry, one rounding instead of several, and fast.
 *     So colour jitter runs after the whole warp (the reference jittered between rotation and
 *     affine; only the black fill of rotated corners could be affected, by contrast).
 *   - Randomness comes from our seeded Rng (src/util/rng.ts), not torch's global generator.
 * Colour ops follow PIL's integer semantics (torchvision's PIL path): ImageEnhance blends truncate
 * and clip to uint8 after each op, luma L = (19595 R + 38470 G + 7471 B + 2^15) >> 16, jitter ops
 * in a random order, hue shifted in PIL's 8-bit HSV.
 */
import { LogolabError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { RgbImage } from './image.js';
import { resize } from './resize.js';
import { shortestEdgeSize } from './transforms.js';

export type AugmentStrength = 'none' | 'light' | 'medium' | 'strong' | 'logo';
export const AUGMENT_STRENGTHS: readonly AugmentStrength[] = ['none', 'light', 'medium', 'strong', 'logo'];

interface Recipe {
  cropFraction?: number;
  hflip: number;
  vflip: number;
  degrees: number;
  jitter: { brightness: number; contrast: number; saturation: number; hue: number };
  affine?: { translate: number; scale: [number, number]; shear: number };
  grayscale: number;
  blur?: [number, number];
  /** probability of inverting every channel (255 − v), after the colour jitter */
  invert?: number;
}

export const RECIPES: Record<Exclude<AugmentStrength, 'none'>, Recipe> = {
  light: { hflip: 0.5, vflip: 0, degrees: 0, jitter: { brightness: 0.1, contrast: 0.1, saturation: 0, hue: 0 }, grayscale: 0 },
  medium: {
    hflip: 0.5, vflip: 0, degrees: 15, jitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 },
    affine: { translate: 0.1, scale: [0.9, 1.1], shear: 0 }, grayscale: 0.1,
  },
  strong: {
    cropFraction: 224 / 256, hflip: 0.5, vflip: 0.1, degrees: 30, jitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 },
    affine: { translate: 0.15, scale: [0.8, 1.2], shear: 10 }, grayscale: 0.2, blur: [0.1, 2.0],
  },
  logo: {
    hflip: 0, vflip: 0, degrees: 10, jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.5, hue: 0.5 },
    affine: { translate: 0.08, scale: [0.85, 1.15], shear: 0 }, grayscale: 0.2, invert: 0.25,
  },
};

/** The random choices of one augmentation (drawn by sampleAugmentParams, applied by applyAugment). */
export interface AugmentParams {
  crop?: { left: number; top: number; width: number; height: number };
  hflip: boolean;
  vflip: boolean;
  /** degrees, counter-clockwise (PIL rotate) */
  rotate: number;
  affine?: { tx: number; ty: number; scale: number; shear: number };
  /** ColorJitter: op order (0 brightness, 1 contrast, 2 saturation, 3 hue) and factors (undefined = op off) */
  jitter: { order: number[]; brightness?: number; contrast?: number; saturation?: number; hue?: number };
  grayscale: boolean;
  blurSigma?: number;
  invert?: boolean;
}

const NONE: AugmentParams = { hflip: false, vflip: false, rotate: 0, jitter: { order: [] }, grayscale: false };

/** Draws the parameters in the Python original's pipeline order. */
export function sampleAugmentParams(width: number, height: number, strength: AugmentStrength, rng: Rng): AugmentParams {
  if (strength === 'none') return { ...NONE, jitter: { order: [] } };
  const r = RECIPES[strength];
  if (!r) throw new LogolabError(`unknown augmentation strength '${String(strength)}' (expected ${AUGMENT_STRENGTHS.join(', ')})`);
  const p: AugmentParams = { ...NONE, jitter: { order: [] } };
  let w = width;
  let h = height;
  if (r.cropFraction) {
    // RandomCrop(224) of a 256 image: a crop of 7/8 of each side at a uniform integer offset.
    const cw = Math.max(1, Math.round(width * r.cropFraction));
    const ch = Math.max(1, Math.round(height * r.cropFraction));
    p.crop = { left: rng.int(width - cw + 1), top: rng.int(height - ch + 1), width: cw, height: ch };
    w = cw;
    h = ch;
  }
  // (no draw for a zero probability: the recipes without it keep their exact random sequence)
  if (r.hflip > 0) p.hflip = rng.next() < r.hflip;
  if (r.vflip > 0) p.vflip = rng.next() < r.vflip;
  if (r.degrees > 0) p.rotate = rng.uniform(-r.degrees, r.degrees);
  // ColorJitter: factors uniform in [max(0, 1 - x), 1 + x], hue in [-h, h]; ops in random order.
  const j = r.jitter;
  p.jitter.order = rng.shuffle([0, 1, 2, 3]);
  if (j.brightness > 0) p.jitter.brightness = rng.uniform(Math.max(0, 1 - j.brightness), 1 + j.brightness);
  if (j.contrast > 0) p.jitter.contrast = rng.uniform(Math.max(0, 1 - j.contrast), 1 + j.contrast);
  if (j.saturation > 0) p.jitter.saturation = rng.uniform(Math.max(0, 1 - j.saturation), 1 + j.saturation);
  if (j.hue > 0) p.jitter.hue = rng.uniform(-j.hue, j.hue);
  if (r.affine) {
    // torchvision RandomAffine: integer translation round(U(-t·W, t·W)), scale U(a, b), x-shear U(-s, s).
    const a = r.affine;
    p.affine = {
      tx: Math.round(rng.uniform(-a.translate * w, a.translate * w)),
      ty: Math.round(rng.uniform(-a.translate * h, a.translate * h)),
      scale: rng.uniform(a.scale[0], a.scale[1]),
      shear: a.shear > 0 ? rng.uniform(-a.shear, a.shear) : 0,
    };
  }
  if (r.grayscale > 0) p.grayscale = rng.next() < r.grayscale;
  if (r.blur) p.blurSigma = rng.uniform(r.blur[0], r.blur[1]);
  if (r.invert) p.invert = rng.next() < r.invert;
  return p;
}

export interface AugmentOptions {
  /**
   * Speed option: first shrink the image (bicubic, antialiased, as HF's resize) so its short side
   * is this many pixels, then augment. Pass the processor's resize target (CLIP: size.shortest_edge
   * = 224; see `workingShortSide(processor)`): the processor's own resize then becomes a no-op, so
   * with 'none' the final pixel_values are unchanged, and the warp works on ~3× fewer pixels for
   * a 500×400 photo. Images already at or below the size are left alone.
   */
  workingShortSide?: number;
}

/**
 * Augment one image (a new image; 'none' without shrinking returns the input itself).
 * Same rng state → same output.
 */
export function augmentImage(img: RgbImage, strength: AugmentStrength, rng: Rng, opts: AugmentOptions = {}): RgbImage {
  const side = opts.workingShortSide;
  if (side !== undefined && Math.min(img.width, img.height) > side) {
    const t = shortestEdgeSize(img.width, img.height, side);
    img = resize(img, t.width, t.height, 'bicubic', 'torch');
  }
  if (strength === 'none') return img;
  return applyAugment(img, sampleAugmentParams(img.width, img.height, strength, rng));
}

// ---------- geometry ----------

/** 2×3 affine map [a, b, c, d, e, f]: (x, y) → (a x + b y + c, d x + e y + f). */
type Affine = [number, number, number, number, number, number];

/** PIL Image.rotate(angle) inverse matrix (output → input), centre (w/2, h/2). */
function rotateInverse(angleDeg: number, w: number, h: number): Affine {
  const t = (-angleDeg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = w / 2;
  const cy = h / 2;
  return [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy];
}

/** torchvision _get_inverse_affine_matrix (angle 0 here: RandomAffine(degrees=0)), centre (w/2, h/2). */
function affineInverse(p: NonNullable<AugmentParams['affine']>, w: number, h: number): Affine {
  const rot = 0;
  const sx = (p.shear * Math.PI) / 180;
  const sy = 0;
  const cx = w / 2;
  const cy = h / 2;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m: Affine = [d / p.scale, -b / p.scale, 0, -c / p.scale, a / p.scale, 0];
  m[2] += m[0] * (-cx - p.tx) + m[1] * (-cy - p.ty) + cx;
  m[5] += m[3] * (-cx - p.tx) + m[4] * (-cy - p.ty) + cy;
  return m;
}

/** Composition (outer ∘ inner)(p) = outer(inner(p)). */
function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [A, B, C, D, E, F] = inner;
  return [a * A + b * D, a * B + b * E, a * C + b * F + c, d * A + e * D, d * B + e * E, d * C + e * F + f];
}

/**
 * Crop → flips → rotation → affine as one inverse map with nearest sampling and black fill.
 * Stage 1 (affine⁻¹) must land inside the rotation's canvas, stage 2 (rotation⁻¹, flips, crop)
 * inside the cropped canvas, as in the sequential pipeline.
 */
function warp(img: RgbImage, p: AugmentParams): RgbImage {
  const crop = p.crop ?? { left: 0, top: 0, width: img.width, height: img.height };
  const W = crop.width;
  const H = crop.height;
  const identity: Affine = [1, 0, 0, 0, 1, 0];
  const m1: Affine = p.affine ? affineInverse(p.affine, W, H) : identity;
  // Canvas coordinates of the flipped crop → original image coordinates.
  const flip: Affine = [p.hflip ? -1 : 1, 0, p.hflip ? W : 0, 0, p.vflip ? -1 : 1, p.vflip ? H : 0];
  const m2 = compose(flip, p.rotate !== 0 ? rotateInverse(p.rotate, W, H) : identity); // stage-1 point → crop canvas
  const src = img.data;
  const iw = img.width;
  const out = new Uint8Array(W * H * 3);
  const checkStage1 = p.affine !== undefined;
  for (let y = 0; y < H; y++) {
    const yc = y + 0.5;
    // stage-1 point for x = 0 (pixel centre), and its step per x
    let ux = m1[0] * 0.5 + m1[1] * yc + m1[2];
    let uy = m1[3] * 0.5 + m1[4] * yc + m1[5];
    let o = y * W * 3;
    for (let x = 0; x < W; x++, ux += m1[0], uy += m1[3], o += 3) {
      if (checkStage1 && (ux < 0 || uy < 0 || ux >= W || uy >= H)) continue;
      const vx = m2[0] * ux + m2[1] * uy + m2[2];
      const vy = m2[3] * ux + m2[4] * uy + m2[5];
      if (vx < 0 || vy < 0 || vx >= W || vy >= H) continue;
      const s = ((crop.top + Math.floor(vy)) * iw + crop.left + Math.floor(vx)) * 3;
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
      out[o + 2] = src[s + 2]!;
    }
  }
  return { width: W, height: H, data: out };
}

function isIdentityGeometry(p: AugmentParams): boolean {
  return !p.crop && !p.vflip && p.rotate === 0 && !p.affine;
}

/** Horizontal flip only (the common light case) without the general warp. */
function hflipImage(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = row + x * 3;
      const d = row + (w - 1 - x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: w, height: h, data: out };
}

// ---------- colour (PIL semantics, in place on a fresh buffer) ----------

function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** PIL Image.blend(degenerate, img, f): deg + f (v - deg), truncated, clipped. */
function blend(deg: number, v: number, f: number): number {
  const t = deg + f * (v - deg);
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

function adjustBrightness(d: Uint8Array, f: number): void {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = blend(0, v, f);
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
}

function adjustContrast(d: Uint8Array, f: number): void {
  // ImageEnhance.Contrast: grey level = int(mean of L + 0.5)
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += luma(d[i]!, d[i + 1]!, d[i + 2]!);
  const mean = Math.trunc(sum / (d.length / 3) + 0.5);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = blend(mean, v, f);
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
}

function adjustSaturation(d: Uint8Array, f: number): void {
  for (let i = 0; i < d.length; i += 3) {
    const l = luma(d[i]!, d[i + 1]!, d[i + 2]!);
    d[i] = blend(l, d[i]!, f);
    d[i + 1] = blend(l, d[i + 1]!, f);
    d[i + 2] = blend(l, d[i + 2]!, f);
  }
}

/** torchvision adjust_hue on PIL: 8-bit HSV, H += int8(hue·255) with uint8 wrap-around. */
function adjustHue(d: Uint8Array, hue: number): void {
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

function toGrayscale(d: Uint8Array): void {
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
function gaussianBlur3(img: RgbImage, sigma: number): void {
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

/** Applies drawn parameters: geometry (one warp), colour jitter, grayscale, blur. */
export function applyAugment(img: RgbImage, p: AugmentParams): RgbImage {
  if (img.data.length !== img.width * img.height * 3) throw new LogolabError(`image data length ${img.data.length} != ${img.width}x${img.height}x3`);
  let out: RgbImage;
  if (isIdentityGeometry(p)) out = p.hflip ? hflipImage(img) : { width: img.width, height: img.height, data: img.data.slice() };
  else out = warp(img, p);
  const d = out.data;
  const j = p.jitter;
  for (const op of j.order) {
    if (op === 0 && j.brightness !== undefined) adjustBrightness(d, j.brightness);
    else if (op === 1 && j.contrast !== undefined) adjustContrast(d, j.contrast);
    else if (op === 2 && j.saturation !== undefined) adjustSaturation(d, j.saturation);
    else if (op === 3 && j.hue !== undefined) adjustHue(d, j.hue);
  }
  if (p.invert) for (let i = 0; i < d.length; i++) d[i] = 255 - d[i]!;
  if (p.grayscale) toGrayscale(d);
  if (p.blurSigma !== undefined) gaussianBlur3(out, p.blurSigma);
  return out;
}
