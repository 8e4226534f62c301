/**
 * The geometric half of training augmentation (src/preprocess/augment.ts): crop, flips, rotation
 * and affine composed into ONE inverse map, sampled nearest-neighbour with black fill, each stage's
 * canvas bounds respected as in torchvision's sequential pipeline (PIL rotate, RandomAffine).
 */
import type { RgbImage } from './image.js';

/** The geometric choices of one augmentation; the identity is no crop, no flips, rotate 0, no affine. */
export interface WarpParams {
  crop?: { left: number; top: number; width: number; height: number };
  hflip: boolean;
  vflip: boolean;
  /** degrees, counter-clockwise (PIL rotate) */
  rotate: number;
  affine?: { tx: number; ty: number; scale: number; shear: number };
}

/** A new image: `img` under `p` (a copy when `p` is the identity). */
export function warpImage(img: RgbImage, p: WarpParams): RgbImage {
  if (isIdentityGeometry(p)) return p.hflip ? hflipImage(img) : { width: img.width, height: img.height, data: img.data.slice() };
  return warp(img, p);
}

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
function affineInverse(p: NonNullable<WarpParams['affine']>, w: number, h: number): Affine {
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
function warp(img: RgbImage, p: WarpParams): RgbImage {
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

function isIdentityGeometry(p: WarpParams): boolean {
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
