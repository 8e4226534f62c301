/**
 * preprocessor_config.json → validated settings with HF's field names and each class's __init__
 * defaults (CLIPImageProcessor, BitImageProcessor, SiglipImageProcessor, and their Fast variants).
 * Unknown fields are errors naming the field; keys HF's fast processors save are accepted only with
 * values that change nothing.
 */
import { LogolabError } from '../errors.js';
import { PIL_RESAMPLE } from './resample-filters.js';
import { pixelValueTables } from './transforms.js';

export type ProcessorKind = 'CLIPImageProcessor' | 'BitImageProcessor' | 'SiglipImageProcessor';

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

/** Every key resolveProcessorConfig accepts (the same for each processor class). */
export const PROCESSOR_CONFIG_KEYS: readonly string[] = [...FIELDS, ...METADATA_KEYS, ...Object.keys(NEUTRAL_KEYS)];

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
  checkPixelArithmetic(s, source);
  return s;
}

/**
 * Refuses values whose float32 arithmetic (pixelValueTables, either backend) gives non-finite
 * pixel_values, naming the field: JSON's 1e999 is Infinity, rescale_factor 1e38 is positive but
 * 255 × 1e38 overflows float32, image_std 1e-46 is 0 in float32. Such pixels reached the model
 * and came out as a NaN embedding blamed on its weights.
 */
function checkPixelArithmetic(s: ProcessorSettings, source: string): void {
  const f = Math.fround;
  const r = s.rescale_factor;
  // pil: float32(v · r); torchvision: v · float32(r), or fused with float32(1 / r)
  if (s.do_rescale && !(Number.isFinite(r) && f(r) > 0 && Number.isFinite(f(255 * r)) && Number.isFinite(f(1 / r)))) {
    bad(source, 'rescale_factor', `${r} is out of float32 range: it, 255 × it and 1 / it must be finite nonzero float32 values`);
  }
  if (!s.do_normalize) return;
  s.image_mean.forEach((m, c) => Number.isFinite(f(m)) || bad(source, 'image_mean', `${m} (channel ${c}) overflows float32`));
  s.image_std.forEach((d, c) => (f(d) > 0 && Number.isFinite(f(d))) || bad(source, 'image_std', `${d} (channel ${c}) is 0 or infinite in float32: the division by it gives ±Infinity`));
  for (const backend of ['torchvision', 'pil'] as const) {
    const tables = pixelValueTables(s.do_rescale ? r : null, s.image_mean, s.image_std, backend);
    for (const [c, t] of tables.entries()) {
      const v = t.findIndex((x) => !Number.isFinite(x));
      if (v >= 0) bad(source, 'image_std', `${s.image_std[c]} with image_mean ${s.image_mean[c]} gives a non-finite pixel value for level ${v} of channel ${c} ((x − mean) / std overflows float32)`);
    }
  }
}
