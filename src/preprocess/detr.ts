/**
 * DetrImageProcessor (HF transformers) for inference: resize keeping the aspect ratio so the short
 * edge is `shortest_edge` unless the long edge would pass `longest_edge` (HF's
 * get_size_with_aspect_ratio rounding), PIL bilinear by default; rescale 1/255; normalise (ImageNet
 * mean/std); pad a batch bottom/right with zeros to a common size and give `pixel_mask` (1 = pixel).
 *
 * preprocessor_config.json forms understood: `size: {shortest_edge, longest_edge}`, the legacy
 * `size: 800, max_size: 1333`, `size: {height, width}` (plain resize) and
 * `size: {max_height, max_width}`; `pad_size: {height, width}` pads to a fixed size.
 *
 * Resampling: transformers 5's `DetrImageProcessor` (and the Python original, which asked for
 * `use_fast=True`) resizes with torchvision on the uint8 tensor — antialiased like PIL but with
 * int16 weights at a per-axis precision (ATen's AVX uint8 kernel), which moves ~2% of pixels by one
 * level against PIL. `resampler: 'torchvision'` (default) reproduces that exactly; 'pil' uses
 * resize.ts (PIL-exact, = the older slow processor).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError, namingErrors } from '../errors.js';
import { log } from '../util/log.js';
import type { RgbImage } from './image.js';
import { PIL_RESAMPLE, type ResampleFilter } from './resample-filters.js';
import { resize } from './resize.js';
import { checkWorkingSize } from './transforms.js';
import { readJsonObject } from '../util/json.js';

export type DetrSize = { shortest_edge: number; longest_edge?: number } | { height: number; width: number } | { max_height: number; max_width: number };

export interface DetrProcessorConfig {
  do_resize: boolean;
  size: DetrSize;
  resample: ResampleFilter;
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: [number, number, number];
  image_std: [number, number, number];
  do_pad: boolean;
  pad_size: { height: number; width: number } | null;
  /** whose uint8 resize to reproduce (see above) */
  resampler: 'torchvision' | 'pil';
}

export const DETR_DEFAULTS: DetrProcessorConfig = {
  do_resize: true,
  size: { shortest_edge: 800, longest_edge: 1333 },
  resample: 'bilinear',
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  do_pad: true,
  pad_size: null,
  resampler: 'torchvision',
};

/** Fields HF writes that do not affect inference preprocessing. */
const IGNORED = new Set(['feature_extractor_type', 'image_processor_type', 'processor_class', 'format', 'do_convert_annotations', 'do_convert_rgb', 'return_segmentation_masks', 'data_format', 'input_data_format', 'device', 'return_tensors', 'disable_grouping', 'default_to_square', 'crop_size', 'do_center_crop', 'image_seq_length', 'annotations', 'masks_path']);

export interface DetrBatch {
  /** [B, 3, H, W] normalised, zero-padded */
  pixelValues: Float32Array;
  /** [B, H, W] 1 = image pixel, 0 = padding */
  pixelMask: Int32Array;
  batch: number;
  height: number;
  width: number;
  /** per image: resized [h, w] inside the padded canvas and the original [h, w] */
  resized: [number, number][];
  original: [number, number][];
}

/** HF get_size_with_aspect_ratio((h, w), size, max_size) → (oh, ow). */
export function sizeWithAspectRatio(height: number, width: number, size: number, maxSize?: number): [number, number] {
  let rawSize: number | null = null;
  if (maxSize !== undefined && maxSize !== null) {
    const minO = Math.min(height, width);
    const maxO = Math.max(height, width);
    if ((maxO / minO) * size > maxSize) {
      rawSize = (maxSize * minO) / maxO;
      size = Math.round(rawSize); // python round(): half to even; ties are measure-zero here
      if (Math.abs(rawSize % 1) === 0.5 && size % 2 === 1) size -= 1;
    }
  }
  if ((height <= width && height === size) || (width <= height && width === size)) return [height, width];
  if (width < height) return [rawSize !== null ? Math.floor((rawSize * height) / width) : Math.floor((size * height) / width), size];
  return [size, rawSize !== null ? Math.floor((rawSize * width) / height) : Math.floor((size * width) / height)];
}

function num(v: unknown, field: string, src: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new LogolabError(`${src}: field '${field}' must be a positive number (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * image_mean / image_std: one number or 3 (per RGB channel), finite; a std also > 0. Normalising
 * divides by the std, so a 0 would give ±Infinity pixels and a NaN would give NaN ones — detections
 * that fail far from here, blamed on the weights (as processor-config.ts checks the encoders').
 */
function triple(v: unknown, field: string, src: string, positive: boolean): [number, number, number] {
  const arr = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 3 || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))) {
    throw new LogolabError(`${src}: field '${field}' must be ${positive ? 'a positive number' : 'a finite number'} or a list of 3 (got ${JSON.stringify(v)})`);
  }
  return [...arr] as [number, number, number];
}

/** Validates a preprocessor_config.json (or kwargs) over the DETR defaults. */
export function detrProcessorConfig(raw: Record<string, unknown>, src = 'preprocessor_config.json'): DetrProcessorConfig {
  const c: DetrProcessorConfig = { ...DETR_DEFAULTS };
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case 'do_resize':
      case 'do_rescale':
      case 'do_normalize':
      case 'do_pad':
        if (typeof v !== 'boolean') throw new LogolabError(`${src}: field '${k}' must be true/false`);
        c[k] = v;
        break;
      case 'rescale_factor':
        c.rescale_factor = num(v, k, src);
        break;
      case 'image_mean':
      case 'image_std':
        c[k] = triple(v, k, src, k === 'image_std');
        break;
      case 'resample': {
        const f = typeof v === 'number' ? PIL_RESAMPLE[v] : undefined;
        if (!f) throw new LogolabError(`${src}: field 'resample' ${JSON.stringify(v)} is not a PIL resampling code (0-5)`);
        c.resample = f;
        break;
      }
      case 'resampler':
        if (v !== 'torchvision' && v !== 'pil') throw new LogolabError(`${src}: field 'resampler' must be 'torchvision' or 'pil'`);
        c.resampler = v;
        break;
      case 'size':
      case 'max_size':
        break; // below
      case 'pad_size':
        if (v === null) break;
        if (!v || typeof v !== 'object') throw new LogolabError(`${src}: field 'pad_size' must be {height, width}`);
        c.pad_size = { height: num((v as Record<string, unknown>).height, 'pad_size.height', src), width: num((v as Record<string, unknown>).width, 'pad_size.width', src) };
        break;
      default:
        if (!IGNORED.has(k)) unknown.push(k);
    }
  }
  const size = raw.size;
  const maxSize = raw.max_size;
  if (typeof size === 'number') {
    c.size = { shortest_edge: num(size, 'size', src), ...(maxSize != null ? { longest_edge: num(maxSize, 'max_size', src) } : {}) };
  } else if (size && typeof size === 'object') {
    const s = size as Record<string, unknown>;
    if ('shortest_edge' in s) c.size = { shortest_edge: num(s.shortest_edge, 'size.shortest_edge', src), ...(s.longest_edge != null ? { longest_edge: num(s.longest_edge, 'size.longest_edge', src) } : {}) };
    else if ('max_height' in s) c.size = { max_height: num(s.max_height, 'size.max_height', src), max_width: num(s.max_width, 'size.max_width', src) };
    else if ('height' in s) c.size = { height: num(s.height, 'size.height', src), width: num(s.width, 'size.width', src) };
    else throw new LogolabError(`${src}: field 'size' needs shortest_edge[/longest_edge], height/width or max_height/max_width (got ${JSON.stringify(size)})`);
  } else if (size !== undefined && size !== null) {
    throw new LogolabError(`${src}: field 'size' has an unsupported form ${JSON.stringify(size)}`);
  }
  if (unknown.length) log('warn', `${src}: ignoring unknown field(s) ${unknown.join(', ')}`);
  checkPixelArithmetic(c, src);
  return c;
}

/**
 * Refuses values whose pixel values (process(): (v · rescale − mean) / std in float64, stored as
 * float32) are not finite, naming the field: rescale_factor 1e38 is a finite positive number, but
 * 255 × 1e38 overflows float32 and the detector's logits came out NaN, blamed on its weights.
 */
function checkPixelArithmetic(c: DetrProcessorConfig, src: string): void {
  const scale = c.do_rescale ? c.rescale_factor : 1;
  if (c.do_rescale && !Number.isFinite(Math.fround(255 * scale))) throw new LogolabError(`${src}: field 'rescale_factor' ${scale} is out of float32 range (255 × it overflows)`);
  if (!c.do_normalize) return;
  for (let ch = 0; ch < 3; ch++) {
    for (const v of [0, 255]) {
      // linear in v: the extremes are at levels 0 and 255
      if (!Number.isFinite(Math.fround((v * scale - c.image_mean[ch]!) / c.image_std[ch]!))) {
        throw new LogolabError(`${src}: field 'image_std' ${c.image_std[ch]} with image_mean ${c.image_mean[ch]} gives a non-finite pixel value for level ${v} of channel ${ch} ((x − mean) / std overflows float32)`);
      }
    }
  }
}

export class DetrImageProcessor {
  readonly kind = 'DetrImageProcessor';
  constructor(readonly config: DetrProcessorConfig = DETR_DEFAULTS) {}

  /** Output [h, w] of the resize for an image of [height, width]. */
  outputSize(height: number, width: number): [number, number] {
    const s = this.config.size;
    if (!this.config.do_resize) return [height, width];
    if ('shortest_edge' in s) return sizeWithAspectRatio(height, width, s.shortest_edge, s.longest_edge);
    if ('max_height' in s) {
      const m = Math.min(s.max_height / height, s.max_width / width);
      return [Math.floor(height * m), Math.floor(width * m)];
    }
    return [s.height, s.width];
  }

  /** The resize rule, for a message. */
  private sizeRule(): string {
    const s = this.config.size;
    if ('shortest_edge' in s) return `shortest edge ${s.shortest_edge}${s.longest_edge !== undefined ? ` / longest edge ${s.longest_edge}` : ''}`;
    if ('max_height' in s) return `max size ${s.max_width}x${s.max_height}`;
    return `size ${s.width}x${s.height}`;
  }

  /** One image → [3, h, w] normalised (no padding) with its size. */
  process(img: RgbImage): { data: Float32Array; height: number; width: number } {
    const [oh, ow] = this.outputSize(img.height, img.width);
    // an 8000x2 image: the long side capped at 1333 leaves round(1333·2/8000) = 0 rows (HF fails
    // too); without a longest edge, 65000x1 would be resized to 52000000x800 before anything
    if (oh < 1 || ow < 1) throw new LogolabError(`${img.width}x${img.height} is too elongated for the DETR processor: its ${this.sizeRule()} gives ${ow}x${oh}, a side of 0 pixels`);
    checkWorkingSize(img, ow, oh, `the resize to ${this.sizeRule()}`);
    const r = oh === img.height && ow === img.width ? img : resize(img, ow, oh, this.config.resample, this.config.resampler === 'pil' ? 'pil' : 'torch');
    const { do_rescale, rescale_factor, do_normalize, image_mean, image_std } = this.config;
    const n = oh * ow;
    const out = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) {
      const scale = do_rescale ? rescale_factor : 1;
      const mean = do_normalize ? image_mean[c]! : 0;
      const std = do_normalize ? image_std[c]! : 1;
      for (let i = 0; i < n; i++) out[c * n + i] = (r.data[i * 3 + c]! * scale - mean) / std;
    }
    return { data: out, height: oh, width: ow };
  }

  /** A batch, padded bottom/right to the largest (or pad_size) with pixel_mask. */
  processBatch(images: RgbImage[], names?: (string | undefined)[]): DetrBatch {
    if (!images.length) throw new LogolabError('DetrImageProcessor: empty batch');
    // `names` label an image's error (the file); by default its place in the batch
    const each = images.map((im, i) => namingErrors(names?.[i] ?? (images.length > 1 ? `image ${i + 1} of ${images.length}` : undefined), () => this.process(im)));
    let H = Math.max(...each.map((e) => e.height));
    let W = Math.max(...each.map((e) => e.width));
    if (this.config.pad_size) {
      if (this.config.pad_size.height < H || this.config.pad_size.width < W) throw new LogolabError(`DetrImageProcessor: pad_size ${this.config.pad_size.height}x${this.config.pad_size.width} is smaller than a resized image ${H}x${W}`);
      H = this.config.pad_size.height;
      W = this.config.pad_size.width;
    } else if (!this.config.do_pad && each.some((e) => e.height !== H || e.width !== W)) {
      throw new LogolabError('DetrImageProcessor: do_pad=false but the batch has images of different sizes');
    }
    const B = images.length;
    const pixelValues = new Float32Array(B * 3 * H * W);
    const pixelMask = new Int32Array(B * H * W);
    each.forEach((e, b) => {
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < e.height; y++) {
          const src = (c * e.height + y) * e.width;
          pixelValues.set(e.data.subarray(src, src + e.width), ((b * 3 + c) * H + y) * W);
        }
      }
      for (let y = 0; y < e.height; y++) pixelMask.fill(1, (b * H + y) * W, (b * H + y) * W + e.width);
    });
    return { pixelValues, pixelMask, batch: B, height: H, width: W, resized: each.map((e) => [e.height, e.width]), original: images.map((im) => [im.height, im.width]) };
  }
}

/** <dir>/preprocessor_config.json if present, else the DETR defaults (800/1333). */
export function loadDetrProcessor(dir: string | null, o: { quiet?: boolean } = {}): DetrImageProcessor {
  if (!dir) return new DetrImageProcessor();
  const p = join(dir, 'preprocessor_config.json');
  if (!existsSync(p)) {
    if (!o.quiet) log('info', `${dir}: no preprocessor_config.json, using DetrImageProcessor defaults (shortest edge 800, longest 1333)`);
    return new DetrImageProcessor();
  }
  return new DetrImageProcessor(detrProcessorConfig(readJsonObject(p), p));
}
