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
 * This file holds the recipes, draws the parameters and applies them in order: the warp is in
 * warp.ts, the colour ops (PIL's integer semantics, jitter ops in a random order) and the blur in
 * pixel-ops.ts.
 */
import { LogolabError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { RgbImage } from './image.js';
import { resize } from './resize.js';
import { shortestEdgeSize } from './transforms.js';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, gaussianBlur3, toGrayscale } from './pixel-ops.js';
import { warpImage, type WarpParams } from './warp.js';

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
export interface AugmentParams extends WarpParams {
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

/** Applies drawn parameters: geometry (one warp), colour jitter, grayscale, blur. */
export function applyAugment(img: RgbImage, p: AugmentParams): RgbImage {
  if (img.data.length !== img.width * img.height * 3) throw new LogolabError(`image data length ${img.data.length} != ${img.width}x${img.height}x3`);
  const out = warpImage(img, p);
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
