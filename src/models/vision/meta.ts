/**
 * What a model folder says about itself: logolab.json of a converted folder (format in
 * src/models/format.ts), else the HF config.json. Read before any weight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../../errors.js';
import { readJsonFile, readJsonObject } from '../../util/json.js';
import { validateVisionConfig, visionConfigFromHf, type VisionConfig, type VisionFamily } from './config.js';

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
  created: string;
}

const META_KEYS = ['format', 'version', 'family', 'dtype', 'vision_config', 'parameters', 'source', 'source_architecture', 'unused_source_keys', 'merged_adapter', 'created'];

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
  return { ...(j as unknown as LogolabMeta), vision_config };
}

/** Reads config.json (and logolab.json when present) of a model folder. */
export function readModelConfig(dir: string): { config: VisionConfig; architecture: string; converted: boolean; requireProjection: boolean } {
  const meta = readLogolabMeta(dir);
  if (meta) return { config: meta.vision_config, architecture: `logolab (${meta.source_architecture ?? 'unknown source'})`, converted: true, requireProjection: meta.vision_config.projection_dim !== null };
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new LogolabError(`${dir}: not a model folder (no config.json)`);
  const raw = readJsonFile(p);
  const hf = visionConfigFromHf(raw, p);
  const requireProjection = hf.modelType === 'clip' || /WithProjection$/.test(hf.architecture ?? '');
  return { config: hf.config, architecture: hf.architecture ?? hf.modelType, converted: false, requireProjection };
}
