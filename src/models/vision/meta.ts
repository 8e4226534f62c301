/**
 * What a model folder says about itself: logolab.json of a converted folder (format in
 * src/models/format.ts), else the HF config.json; and the preprocessing mode a trained model was
 * trained and validated under (export_metadata.json of an export, logolab.json of a conversion of
 * one). Read before any weight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../../errors.js';
import { readJsonFile, readJsonObject } from '../../util/json.js';
import { validateVisionConfig, visionConfigFromHf, type HfVisionConfig, type VisionConfig, type VisionFamily } from './config.js';
import { PREPROCESS_MODES, type PreprocessMode } from '../../preprocess/processors.js';

export const FORMAT_NAME = 'logolab-vision';
export const FORMAT_VERSION = 1;
export type StoreDtype = 'float32' | 'float16';

export interface LogolabMeta {
  format: typeof FORMAT_NAME;
  version: number;
  family: VisionFamily;
  dtype: StoreDtype;
  vision_config: VisionConfig;
  parameters: number;
  source: string | null;
  source_architecture: string | null;
  unused_source_keys: number;
  /** a logolab export's LoRA adapter folder, merged into these weights by convert */
  merged_adapter?: string;
  /** the source's recorded training preprocess mode (readRecordedPreprocessMode), carried over by convert */
  preprocess_mode?: PreprocessMode;
  created: string;
}

const META_KEYS = ['format', 'version', 'family', 'dtype', 'vision_config', 'parameters', 'source', 'source_architecture', 'unused_source_keys', 'merged_adapter', 'preprocess_mode', 'created'];

/** The metadata file every export of a trained model writes (training/export.ts). */
export const EXPORT_METADATA_FILE = 'export_metadata.json';
/** The key, in export_metadata.json and logolab.json, of the preprocess mode the model was trained under. */
export const PREPROCESS_MODE_KEY = 'preprocess_mode';

/** A recorded preprocess mode, checked: a value this logolab does not know is an error naming the file. */
function checkRecordedMode(v: unknown, file: string): PreprocessMode {
  if (typeof v === 'string' && (PREPROCESS_MODES as readonly string[]).includes(v)) return v as PreprocessMode;
  throw new LogolabError(`${file}: field '${PREPROCESS_MODE_KEY}': ${JSON.stringify(v)} is not a preprocess mode (expected ${PREPROCESS_MODES.join(', ')})`);
}

export interface RecordedPreprocessMode {
  mode: PreprocessMode;
  /** the file it is recorded in */
  source: string;
}

/** logolab.json of a folder, validated; null when the folder is not a converted one. */
export function readLogolabMeta(dir: string): LogolabMeta | null {
  const p = join(dir, 'logolab.json');
  if (!existsSync(p)) return null;
  const j = readJsonObject(p);
  for (const k of Object.keys(j)) if (!META_KEYS.includes(k)) throw new LogolabError(`${p}: field '${k}': unknown key`);
  if (j.format !== FORMAT_NAME) throw new LogolabError(`${p}: field 'format': expected '${FORMAT_NAME}', got ${JSON.stringify(j.format)}`);
  if (j.version !== FORMAT_VERSION) throw new LogolabError(`${p}: field 'version': unsupported version ${JSON.stringify(j.version)} (this logolab reads ${FORMAT_VERSION})`);
  if (j.dtype !== 'float32' && j.dtype !== 'float16') throw new LogolabError(`${p}: field 'dtype': expected float32|float16, got ${JSON.stringify(j.dtype)}`);
  const vision_config = validateVisionConfig(j.vision_config, `${p}: vision_config`);
  if (j.family !== vision_config.family) throw new LogolabError(`${p}: field 'family': ${JSON.stringify(j.family)} differs from vision_config.family '${vision_config.family}'`);
  if (j[PREPROCESS_MODE_KEY] !== undefined) checkRecordedMode(j[PREPROCESS_MODE_KEY], p);
  return { ...(j as unknown as LogolabMeta), vision_config };
}

/**
 * The preprocess mode a model folder was trained under, as its export recorded it
 * (export_metadata.json, or logolab.json when the export was converted), or null when the folder
 * records none (HF checkpoints, exports made before the mode was recorded, the shipped baseline):
 * such a model is read with the processor as configured ('default'). The one reader of that record.
 */
export function readRecordedPreprocessMode(dir: string): RecordedPreprocessMode | null {
  const found: RecordedPreprocessMode[] = [];
  for (const name of ['logolab.json', EXPORT_METADATA_FILE]) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    const j = readJsonObject(p);
    if (j[PREPROCESS_MODE_KEY] !== undefined) found.push({ mode: checkRecordedMode(j[PREPROCESS_MODE_KEY], p), source: p });
  }
  // both are written from the same fact; a disagreement means one was edited, and either choice
  // would silently embed differently from what the other promises
  if (found.length === 2 && found[0]!.mode !== found[1]!.mode)
    throw new LogolabError(`${dir}: '${PREPROCESS_MODE_KEY}' is '${found[0]!.mode}' in ${found[0]!.source} but '${found[1]!.mode}' in ${found[1]!.source}; make them agree`);
  return found[0] ?? null;
}

/**
 * The vision config fields that decide what a loaded model computes, in the order they are compared.
 * layerscale_value is not one: it only seeds a random init, a loaded model's layer scales are weights.
 */
const COMPUTED_FIELDS = [
  'family', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'patch_size', 'image_size', 'num_channels',
  'layer_norm_eps', 'hidden_act', 'projection_dim', 'qkv_bias', 'use_head', 'use_swiglu_ffn',
] as const satisfies readonly (keyof VisionConfig)[];

/** How config.json spells a field where its HF name differs from ours (the message names what to edit). */
function hfSpelling(field: (typeof COMPUTED_FIELDS)[number], family: VisionFamily): string {
  if (field === 'family') return ' (from model_type)';
  if (field === 'intermediate_size' && family === 'dinov2') return ' (from mlp_ratio and use_swiglu_ffn)';
  if (field === 'projection_dim') return ' (from architectures and projection_dim)';
  if (field === 'use_head') return ' (vision_use_head)';
  return '';
}

/**
 * A converted folder is also an HF checkpoint folder: transformers builds its model from config.json,
 * logolab from logolab.json. convert writes both from one config, so a field that differs means one
 * was edited, and loading would silently give a model other than the one transformers gives for the
 * same folder. Compares what each file makes the model compute; the first difference is an error.
 */
function checkConfigJsonAgrees(dir: string, meta: LogolabMeta): void {
  const hfPath = join(dir, 'config.json');
  if (!existsSync(hfPath)) return;
  const hf = visionConfigFromHf(readJsonFile(hfPath), hfPath);
  const projected = hasProjection(hf);
  const theirs: VisionConfig = { ...hf.config, projection_dim: hf.config.family === 'clip' && projected ? hf.config.projection_dim : null };
  const ours = meta.vision_config;
  for (const f of COMPUTED_FIELDS) {
    // use_swiglu_ffn: absent means false (VisionConfig)
    const a = f === 'use_swiglu_ffn' ? ours[f] === true : ours[f];
    const b = f === 'use_swiglu_ffn' ? theirs[f] === true : theirs[f];
    if (a !== b)
      throw new LogolabError(`${dir}: '${f}' is ${JSON.stringify(a)} in ${join(dir, 'logolab.json')} (vision_config) but ${JSON.stringify(b)} in ${hfPath}${hfSpelling(f, ours.family)}; transformers builds the model from config.json and logolab from logolab.json, make them agree`);
  }
}

/**
 * transformers builds the CLIP projection for CLIPModel and CLIPVisionModelWithProjection only; a
 * clip_vision_model config naming no such class loads as CLIPVisionModel, which has none.
 */
function hasProjection(hf: HfVisionConfig): boolean {
  return hf.modelType === 'clip' || /WithProjection$/.test(hf.architecture ?? '');
}

/**
 * Reads the vision config of a model folder: logolab.json's of a converted folder (after checking
 * that its config.json describes the same model), else config.json's.
 */
export function readModelConfig(dir: string): { config: VisionConfig; architecture: string; converted: boolean; requireProjection: boolean } {
  const meta = readLogolabMeta(dir);
  if (meta) {
    checkConfigJsonAgrees(dir, meta);
    return { config: meta.vision_config, architecture: `logolab (${meta.source_architecture ?? 'unknown source'})`, converted: true, requireProjection: meta.vision_config.projection_dim !== null };
  }
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new LogolabError(`${dir}: not a model folder (no config.json)`);
  const raw = readJsonFile(p);
  const hf = visionConfigFromHf(raw, p);
  const requireProjection = hasProjection(hf);
  return { config: hf.config, architecture: hf.architecture ?? hf.modelType, converted: false, requireProjection };
}
