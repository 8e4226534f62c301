/**
 * HF image processors on RgbImage → pixel_values [3, H, W] (float32, CHW), configured from
 * `preprocessor_config.json` with HF's field names and defaults:
 *   CLIPImageProcessor, BitImageProcessor (DINOv2): resize (shortest edge, or height×width),
 *     centre crop, rescale, normalise;
 *   SiglipImageProcessor: squash resize to size.height×size.width, rescale, normalise.
 * `get_resize_output_image_size` is HF's (int() truncation of the long side). Two backends:
 *   'torchvision' (default) = HF's fast processors, the default of transformers 5: torch's uint8
 *     antialiased resize (int16 weights), torchvision centre-crop anchors (round half to even),
 *     fused rescale+normalise ((v - 255·mean) / (255·std) in float32). Bit-exact with the fixtures.
 *   'pil' = HF's slow processors (transformers 4 default, use_fast=False): Pillow resize (22-bit
 *     weights; resize.ts is bit-exact with Pillow), (h - crop) // 2 offsets with ceil zero padding,
 *     float32(v · rescale_factor) then (x - mean) / std. Differs from 'torchvision' by ±1–2 grey
 *     levels at a few hundred edge pixels per image (max 0.035, mean < 1e-4 in normalised units).
 *
 * Preprocess modes (the reference project's `preprocess_mode`):
 *   default   — the processor as configured;
 *   letterbox — pad the image to the output's aspect ratio (square for every real checkpoint) with
 *               black bars, centred at ((W - w) // 2, (H - h) // 2), LANCZOS-resize to the output size;
 *   stretch   — LANCZOS-resize straight to the output size (aspect ratio distorted).
 *   Both then only rescale + normalise. The reference resized to a hard-coded 224 and ran the full
 *   processor again (a no-op for 224-px CLIP; for DINOv2 it re-enlarged to 256 and cropped 224,
 *   cutting the letterbox's borders off; for 336-px models it upsampled 224 → 336). Going straight
 *   to the processor's output size gives the reference's result for 224-px CLIP and fixes the others.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import { roundHalfEven, type RgbImage } from './image.js';
import { PIL_RESAMPLE, resize, type ResampleFilter } from './resize.js';

export type PreprocessMode = 'default' | 'letterbox' | 'stretch';
export const PREPROCESS_MODES: readonly PreprocessMode[] = ['default', 'letterbox', 'stretch'];

/**
 * Which HF implementation to reproduce: 'torchvision' = the fast processors, the default of
 * transformers 5 (and what the fixtures were made with); 'pil' = the slow PIL/numpy ones
 * (transformers 4 default, use_fast=False). They differ by ±1 grey level at a few pixels.
 */
export type ProcessorBackend = 'torchvision' | 'pil';

export type ProcessorKind = 'CLIPImageProcessor' | 'BitImageProcessor' | 'SiglipImageProcessor';

export interface ImageProcessor {
  readonly kind: string;
  readonly outputSize: { height: number; width: number };
  readonly mean: number[];
  readonly std: number[];
  /** the preprocessor_config.json it came from, with HF defaults filled in */
  readonly config: Record<string, unknown>;
  /**
   * [3, H, W] normalised, ready for pixel_values. With `out`, writes there at `offset` (e.g. image
   * b of a [B, 3, H, W] batch at b·3·H·W) and returns `out`.
   */
  process(img: RgbImage, out?: Float32Array, offset?: number): Float32Array;
  /** how it was built (part of an embedding cache key) */
  readonly mode?: PreprocessMode;
  readonly backend?: ProcessorBackend;
}

export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
export const IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225];
export const IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5];
export const IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5];

type SizeDict = { shortest_edge: number } | { height: number; width: number };

/** Resolved settings, HF field names. */
export interface ProcessorSettings {
  image_processor_type: ProcessorKind;
  do_resize: boolean;
  size: SizeDict;
  resample: number;
  do_center_crop: boolean;
  crop_size: { height: number; width: number };
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: number[];
  image_std: number[];
  do_convert_rgb: boolean | null;
}

/** HF's __init__ defaults of each processor class. */
function hfDefaults(kind: ProcessorKind): ProcessorSettings {
  const common = { do_resize: true, resample: 3, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true };
  switch (kind) {
    case 'CLIPImageProcessor':
    case 'BitImageProcessor':
      return {
        image_processor_type: kind, ...common, size: { shortest_edge: 224 }, do_center_crop: true,
        crop_size: { height: 224, width: 224 }, image_mean: OPENAI_CLIP_MEAN, image_std: OPENAI_CLIP_STD, do_convert_rgb: true,
      };
    case 'SiglipImageProcessor':
      return {
        image_processor_type: kind, ...common, size: { height: 224, width: 224 }, do_center_crop: false,
        crop_size: { height: 224, width: 224 }, image_mean: IMAGENET_STANDARD_MEAN, image_std: IMAGENET_STANDARD_STD, do_convert_rgb: null,
      };
  }
}

/**
 * The preprocessor_config.json of the family's reference checkpoint (openai/clip-vit-large-patch14,
 * facebook/dinov2-base, google/siglip-base-patch16-224), for model folders that lack one.
 * `imageSize` scales it for models with other input sizes (CLIP/SigLIP need exactly image_size).
 */
export function defaultPreprocessorConfig(family: 'clip' | 'dinov2' | 'siglip', imageSize = 224): Record<string, unknown> {
  const common = { do_resize: true, resample: 3, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true };
  switch (family) {
    case 'clip':
      return {
        image_processor_type: 'CLIPImageProcessor', ...common, size: { shortest_edge: imageSize }, do_center_crop: true,
        crop_size: { height: imageSize, width: imageSize }, image_mean: OPENAI_CLIP_MEAN, image_std: OPENAI_CLIP_STD, do_convert_rgb: true,
      };
    case 'dinov2':
      return {
        image_processor_type: 'BitImageProcessor', ...common, size: { shortest_edge: Math.round((imageSize * 256) / 224) },
        do_center_crop: true, crop_size: { height: imageSize, width: imageSize },
        image_mean: IMAGENET_DEFAULT_MEAN, image_std: IMAGENET_DEFAULT_STD, do_convert_rgb: true,
      };
    case 'siglip':
      return {
        image_processor_type: 'SiglipImageProcessor', ...common, size: { height: imageSize, width: imageSize },
        image_mean: IMAGENET_STANDARD_MEAN, image_std: IMAGENET_STANDARD_STD,
      };
    default:
      throw new LogolabError(`no default preprocessor config for family '${String(family)}'`);
  }
}

// ---------- config parsing / validation ----------

const KIND_ALIASES: Record<string, ProcessorKind> = {
  CLIPImageProcessor: 'CLIPImageProcessor',
  CLIPImageProcessorFast: 'CLIPImageProcessor',
  CLIPFeatureExtractor: 'CLIPImageProcessor',
  BitImageProcessor: 'BitImageProcessor',
  BitImageProcessorFast: 'BitImageProcessor',
  SiglipImageProcessor: 'SiglipImageProcessor',
  SiglipImageProcessorFast: 'SiglipImageProcessor',
};

/** Metadata keys HF writes that do not change the pixels. */
const METADATA_KEYS = new Set(['image_processor_type', 'feature_extractor_type', 'processor_class', 'auto_map', '_processor_class', 'use_fast', 'image_seq_length']);

/** Keys saved by HF's fast processors; accepted only with values that change nothing. */
const NEUTRAL_KEYS: Record<string, (v: unknown) => boolean> = {
  data_format: (v) => v === null || v === 'channels_first',
  input_data_format: (v) => v === null,
  return_tensors: (v) => v === null || v === 'pt' || v === 'np',
  device: (v) => v === null,
  disable_grouping: (v) => v === null || typeof v === 'boolean',
  crop_pct: (v) => v === null,
  do_pad: (v) => v === null || v === false,
  pad_size: (v) => v === null,
};

const FIELDS = new Set([
  'do_resize', 'size', 'resample', 'do_center_crop', 'crop_size', 'do_rescale', 'rescale_factor',
  'do_normalize', 'image_mean', 'image_std', 'do_convert_rgb', 'default_to_square',
]);

function bad(source: string, field: string, why: string): never {
  throw new LogolabError(`${source}: field '${field}' ${why}`);
}

function posInt(v: unknown, source: string, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(source, field, `must be a positive integer (got ${JSON.stringify(v)})`);
  return v;
}

/** HF get_size_dict(): int → {shortest_edge} or square; [h, w] → {height, width}; dicts as given. */
function parseSize(v: unknown, defaultToSquare: boolean, source: string, field: string): SizeDict {
  if (typeof v === 'number') {
    const n = posInt(v, source, field);
    return defaultToSquare ? { height: n, width: n } : { shortest_edge: n };
  }
  if (Array.isArray(v)) {
    if (v.length !== 2) bad(source, field, `as a list must be [height, width] (got ${JSON.stringify(v)})`);
    return { height: posInt(v[0], source, field), width: posInt(v[1], source, field) };
  }
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).sort().join(',');
    const o = v as Record<string, unknown>;
    if (keys === 'shortest_edge') return { shortest_edge: posInt(o.shortest_edge, source, `${field}.shortest_edge`) };
    if (keys === 'height,width') return { height: posInt(o.height, source, `${field}.height`), width: posInt(o.width, source, `${field}.width`) };
  }
  return bad(source, field, `must be an int, [height, width], {shortest_edge} or {height, width} (got ${JSON.stringify(v)})`);
}

function bool(v: unknown, source: string, field: string): boolean {
  if (typeof v !== 'boolean') bad(source, field, `must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

function triple(v: unknown, source: string, field: string, positive: boolean): number[] {
  const arr = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 3 || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))) {
    bad(source, field, `must be ${positive ? 'a positive number' : 'a number'} or a list of 3 (got ${JSON.stringify(v)})`);
  }
  return arr as number[];
}

/** Validate a preprocessor_config.json object and fill HF's defaults. Unknown fields are errors. */
export function resolveProcessorConfig(cfg: Record<string, unknown>, source = 'preprocessor_config.json'): ProcessorSettings {
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new LogolabError(`${source}: must be a JSON object`);
  const typeName = (cfg.image_processor_type ?? cfg.feature_extractor_type) as unknown;
  if (typeName === undefined) throw new LogolabError(`${source}: field 'image_processor_type' is missing`);
  const kind = typeof typeName === 'string' ? KIND_ALIASES[typeName] : undefined;
  if (!kind) {
    bad(source, cfg.image_processor_type !== undefined ? 'image_processor_type' : 'feature_extractor_type',
      `'${String(typeName)}' is not supported (supported: ${Object.keys(KIND_ALIASES).join(', ')})`);
  }
  const s = hfDefaults(kind);
  const siglip = kind === 'SiglipImageProcessor';
  // HF: CLIP/Bit read an int size as the shortest edge, SigLIP as a square.
  let defaultToSquare = siglip;
  for (const [k, v] of Object.entries(cfg)) {
    if (METADATA_KEYS.has(k)) continue;
    if (k in NEUTRAL_KEYS) {
      if (!NEUTRAL_KEYS[k]!(v)) bad(source, k, `value ${JSON.stringify(v)} is not supported`);
      continue;
    }
    if (!FIELDS.has(k)) bad(source, k, `is not a known ${kind} field`);
  }
  if (cfg.default_to_square !== undefined && cfg.default_to_square !== null) defaultToSquare = bool(cfg.default_to_square, source, 'default_to_square');
  if (cfg.do_resize !== undefined) s.do_resize = bool(cfg.do_resize, source, 'do_resize');
  if (cfg.size !== undefined && cfg.size !== null) s.size = parseSize(cfg.size, defaultToSquare, source, 'size');
  if (siglip && 'shortest_edge' in s.size) bad(source, 'size', 'must be {height, width} for SiglipImageProcessor');
  if (cfg.resample !== undefined && cfg.resample !== null) {
    if (typeof cfg.resample !== 'number' || !(cfg.resample in PIL_RESAMPLE)) bad(source, 'resample', `must be a PIL resample code 0-5 (got ${JSON.stringify(cfg.resample)})`);
    s.resample = cfg.resample;
  }
  if (cfg.do_center_crop !== undefined && cfg.do_center_crop !== null) {
    s.do_center_crop = bool(cfg.do_center_crop, source, 'do_center_crop');
    if (siglip && s.do_center_crop) bad(source, 'do_center_crop', 'is not supported by SiglipImageProcessor');
  }
  if (cfg.crop_size !== undefined && cfg.crop_size !== null) {
    const c = parseSize(cfg.crop_size, true, source, 'crop_size');
    if ('shortest_edge' in c) bad(source, 'crop_size', 'must be {height, width}');
    s.crop_size = c;
  }
  if (cfg.do_rescale !== undefined) s.do_rescale = bool(cfg.do_rescale, source, 'do_rescale');
  if (cfg.rescale_factor !== undefined) {
    if (typeof cfg.rescale_factor !== 'number' || !(cfg.rescale_factor > 0)) bad(source, 'rescale_factor', `must be a positive number (got ${JSON.stringify(cfg.rescale_factor)})`);
    s.rescale_factor = cfg.rescale_factor;
  }
  if (cfg.do_normalize !== undefined) s.do_normalize = bool(cfg.do_normalize, source, 'do_normalize');
  if (cfg.image_mean !== undefined && cfg.image_mean !== null) s.image_mean = triple(cfg.image_mean, source, 'image_mean', false);
  if (cfg.image_std !== undefined && cfg.image_std !== null) s.image_std = triple(cfg.image_std, source, 'image_std', true);
  if (cfg.do_convert_rgb !== undefined && cfg.do_convert_rgb !== null) s.do_convert_rgb = bool(cfg.do_convert_rgb, source, 'do_convert_rgb');
  // pixel_values must have one fixed size per model (batched encoder input).
  if (s.do_resize && 'shortest_edge' in s.size && !s.do_center_crop) {
    bad(source, 'do_center_crop', 'false with size.shortest_edge gives an image-dependent output size (unsupported)');
  }
  if (!s.do_resize && !s.do_center_crop) bad(source, 'do_resize', 'false without a centre crop gives an image-dependent output size (unsupported)');
  return s;
}

// ---------- the steps (HF image_transforms, slow path) ----------

/** HF get_resize_output_image_size(default_to_square=False): shortest edge → size, long edge int()-truncated. */
export function shortestEdgeSize(width: number, height: number, shortest: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((shortest * long) / short); // Python: int(size * long / short)
  return width <= height ? { width: shortest, height: newLong } : { width: newLong, height: shortest };
}

/**
 * Centre crop to cropH×cropW.
 *   'pil' (HF slow center_crop): top = (h - ch) // 2; an image smaller than the crop is first
 *     zero-padded with ceil((H - h) / 2) before it.
 *   'torchvision' (F.center_crop, HF fast): a too-small side is zero-padded with (ch - h) // 2
 *     before it; top = round((h - ch) / 2) with Python's half-to-even round.
 */
export function centerCrop(img: RgbImage, cropH: number, cropW: number, style: ProcessorBackend = 'torchvision'): RgbImage {
  const { width: w, height: h } = img;
  if (cropH === h && cropW === w) return img;
  let top: number;
  let left: number;
  let padT = 0;
  let padL = 0;
  let ph = h;
  let pw = w;
  if (style === 'pil') {
    top = Math.floor((h - cropH) / 2);
    left = Math.floor((w - cropW) / 2);
    if (top < 0 || left < 0 || top + cropH > h || left + cropW > w) {
      ph = Math.max(cropH, h);
      pw = Math.max(cropW, w);
      padT = Math.ceil((ph - h) / 2);
      padL = Math.ceil((pw - w) / 2);
      top += padT;
      left += padL;
    }
  } else {
    if (cropH > h) {
      padT = Math.floor((cropH - h) / 2);
      ph = cropH;
    }
    if (cropW > w) {
      padL = Math.floor((cropW - w) / 2);
      pw = cropW;
    }
    top = roundHalfEven((ph - cropH) / 2);
    left = roundHalfEven((pw - cropW) / 2);
  }
  // Crop rows top..top+cropH of the (virtually) padded [ph, pw] canvas holding the image at (padT, padL).
  const y0 = Math.max(0, top);
  const y1 = Math.min(ph, top + cropH);
  const x0 = Math.max(0, left);
  const x1 = Math.min(pw, left + cropW);
  const ow = x1 - x0;
  const oh = y1 - y0;
  const out = new Uint8Array(oh * ow * 3);
  // Source columns that land inside the image (outside: zeros).
  const dx0 = Math.max(0, padL - x0);
  const dx1 = Math.min(ow, padL + w - x0);
  for (let y = 0; y < oh; y++) {
    const sy = y0 + y - padT;
    if (sy < 0 || sy >= h || dx1 <= dx0) continue;
    const s = (sy * w + (x0 + dx0 - padL)) * 3;
    out.set(img.data.subarray(s, s + (dx1 - dx0) * 3), (y * ow + dx0) * 3);
  }
  return { width: ow, height: oh, data: out };
}

/** Reference letterbox: black canvas of the target aspect ratio, image pasted at floor-centred offsets. */
export function letterboxPad(img: RgbImage, aspectW = 1, aspectH = 1): RgbImage {
  const { width: w, height: h } = img;
  // Smallest canvas with the target aspect ratio that holds the image (square: max(w, h)²).
  let cw = w;
  let ch = h;
  if (w * aspectH >= h * aspectW) ch = Math.max(h, Math.round((w * aspectH) / aspectW));
  else cw = Math.max(w, Math.round((h * aspectW) / aspectH));
  if (cw === w && ch === h) return img;
  const out = new Uint8Array(cw * ch * 3); // zeros = black
  const px = Math.floor((cw - w) / 2);
  const py = Math.floor((ch - h) / 2);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((py + y) * cw + px) * 3);
  return { width: cw, height: ch, data: out };
}

/**
 * uint8 HWC → float32 CHW with HF's float32 arithmetic, per backend:
 *   'pil' (numpy): x = float32(v * rescale) (product in float64), then (x - mean) / std in float32;
 *   'torchvision' (fast, fused): mean' = float32(mean) * 255, std' likewise, then (v - mean') / std'.
 * A 256-entry table per channel, so the per-pixel cost is a lookup.
 */
export function toPixelValues(
  img: RgbImage, rescale: number | null, mean: number[] | null, std: number[] | null,
  backend: ProcessorBackend = 'torchvision', out?: Float32Array, offset = 0,
): Float32Array {
  const n = img.width * img.height;
  if (!out) out = new Float32Array(3 * n);
  else if (!Number.isInteger(offset) || offset < 0 || offset + 3 * n > out.length) {
    throw new LogolabError(`pixel_values buffer of ${out.length} has no room for 3x${img.height}x${img.width} at offset ${offset}`);
  }
  const d = img.data;
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const lut = new Float32Array(256);
    const normalize = mean !== null && std !== null;
    for (let v = 0; v < 256; v++) {
      let x: number;
      if (backend === 'torchvision' && rescale !== null && normalize) {
        const inv = f(1 / rescale);
        x = f(f(v - f(f(mean[c]!) * inv)) / f(f(std[c]!) * inv));
      } else {
        x = rescale === null ? v : backend === 'pil' ? f(v * rescale) : f(v * f(rescale));
        if (normalize) x = f(f(x - f(mean[c]!)) / f(std[c]!));
      }
      lut[v] = x;
    }
    const o = offset + c * n;
    for (let i = 0, j = c; i < n; i++, j += 3) out[o + i] = lut[d[j]!]!;
  }
  return out;
}

class HfImageProcessor implements ImageProcessor {
  readonly kind: ProcessorKind;
  readonly outputSize: { height: number; width: number };
  readonly mean: number[];
  readonly std: number[];
  readonly config: Record<string, unknown>;
  readonly mode: PreprocessMode;
  readonly backend: ProcessorBackend;
  private readonly filter: ResampleFilter;

  constructor(readonly settings: ProcessorSettings, mode: PreprocessMode, backend: ProcessorBackend) {
    this.kind = settings.image_processor_type;
    this.mode = mode;
    this.backend = backend;
    this.filter = PIL_RESAMPLE[settings.resample]!;
    this.mean = settings.image_mean.slice();
    this.std = settings.image_std.slice();
    this.config = { ...settings };
    if (settings.do_center_crop) this.outputSize = { ...settings.crop_size };
    else if ('height' in settings.size) this.outputSize = { height: settings.size.height, width: settings.size.width };
    else throw new LogolabError('unreachable: image-dependent output size'); // rejected in resolveProcessorConfig
  }

  process(img: RgbImage, out?: Float32Array, offset = 0): Float32Array {
    if (img.data.length !== img.width * img.height * 3) throw new LogolabError(`image data length ${img.data.length} != ${img.width}x${img.height}x3`);
    const s = this.settings;
    const { height: H, width: W } = this.outputSize;
    let x = img;
    if (this.mode === 'default') {
      if (s.do_resize) {
        const t = 'shortest_edge' in s.size ? shortestEdgeSize(x.width, x.height, s.size.shortest_edge) : { width: s.size.width, height: s.size.height };
        x = resize(x, t.width, t.height, this.filter, this.backend === 'pil' ? 'pil' : 'torch');
      }
      if (s.do_center_crop) x = centerCrop(x, s.crop_size.height, s.crop_size.width, this.backend);
    } else {
      if (this.mode === 'letterbox') x = letterboxPad(x, W, H);
      x = resize(x, W, H, 'lanczos', 'pil'); // the reference did this step in PIL
    }
    if (x.width !== W || x.height !== H) throw new LogolabError(`${this.kind}: produced ${x.width}x${x.height}, expected ${W}x${H}`);
    return toPixelValues(x, s.do_rescale ? s.rescale_factor : null, s.do_normalize ? this.mean : null, s.do_normalize ? this.std : null, this.backend, out, offset);
  }
}

/**
 * The short side a processor resizes to (size.shortest_edge), or undefined when it squashes to
 * height×width or has a non-default mode: the `workingShortSide` to pre-shrink with before
 * augmentation without changing what the processor produces.
 */
export function workingShortSide(proc: ImageProcessor): number | undefined {
  const size = proc.config.size as { shortest_edge?: number } | undefined;
  const mode = proc.mode ?? 'default';
  const kernelIsTorch = proc.backend !== 'pil';
  const resample = proc.config.resample;
  return mode === 'default' && proc.config.do_resize === true && kernelIsTorch && resample === 3 ? size?.shortest_edge : undefined;
}

export interface ProcessorOptions {
  mode?: PreprocessMode;
  /** where cfg came from, for error messages */
  source?: string;
  /** default 'torchvision' (transformers 5 default); 'pil' reproduces use_fast=False */
  backend?: ProcessorBackend;
}

export function imageProcessorFromConfig(cfg: Record<string, unknown>, opts: ProcessorOptions = {}): ImageProcessor {
  const mode = opts.mode ?? 'default';
  if (!PREPROCESS_MODES.includes(mode)) throw new LogolabError(`unknown preprocess mode '${String(mode)}' (expected ${PREPROCESS_MODES.join(', ')})`);
  const backend = opts.backend ?? 'torchvision';
  if (backend !== 'torchvision' && backend !== 'pil') throw new LogolabError(`unknown processor backend '${String(backend)}' (expected torchvision, pil)`);
  return new HfImageProcessor(resolveProcessorConfig(cfg, opts.source), mode, backend);
}

/** Reads `<modelDir>/preprocessor_config.json`. */
export function loadImageProcessor(modelDir: string, opts: Omit<ProcessorOptions, 'source'> = {}): ImageProcessor {
  const p = join(modelDir, 'preprocessor_config.json');
  if (!existsSync(p)) throw new LogolabError(`${p}: not found`);
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new LogolabError(`${p}: cannot read JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new LogolabError(`${p}: must be a JSON object`);
  return imageProcessorFromConfig(cfg as Record<string, unknown>, { ...opts, source: p });
}
