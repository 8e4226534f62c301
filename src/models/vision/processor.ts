/**
 * The image processor of a vision model: from the folder's preprocessor_config.json, or, when the
 * folder has none (e.g. the test fixtures, random presets), the family's HF default processor
 * config, said on stderr. CLIP and SigLIP defaults use the model's image_size (= HF's 224 for the
 * real checkpoints; other sizes run on interpolated position embeddings); DINOv2 keeps HF's
 * default (shortest edge 256, crop 224) whatever its config image_size.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../util/log.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig, type ImageProcessor, type PreprocessMode } from '../../preprocess/processors.js';
import type { VisionConfig, VisionFamily } from './config.js';
import { readJsonObject } from '../../util/json.js';

export type { ImageProcessor, PreprocessMode };

/**
 * HF's default preprocessor_config.json for a family. CLIP/SigLIP: scaled to the model's image_size
 * (= the reference checkpoints' 224). DINOv2: always HF's shortest edge 256 / crop 224 (dinov2-base's
 * config says image_size 518, but its processor crops 224 and the position grid is interpolated).
 */
export function defaultProcessorConfig(family: VisionFamily, c: Pick<VisionConfig, 'image_size'>): Record<string, unknown> {
  return defaultPreprocessorConfig(family, family === 'dinov2' ? 224 : c.image_size);
}

/** Reads `<dir>/preprocessor_config.json` (raw), or null when absent. */
export function readProcessorConfig(dir: string): Record<string, unknown> | null {
  const p = join(dir, 'preprocessor_config.json');
  if (!existsSync(p)) return null;
  return readJsonObject(p);
}

/** The processor config a model folder uses (its own, or the family default with a note on stderr). */
export function processorConfigFor(dir: string | null, family: VisionFamily, c: VisionConfig, opts: { quiet?: boolean } = {}): { cfg: Record<string, unknown>; source: string } {
  const own = dir ? readProcessorConfig(dir) : null;
  if (own) return { cfg: own, source: join(dir!, 'preprocessor_config.json') };
  const cfg = defaultProcessorConfig(family, c);
  if (dir && !opts.quiet) log('warn', `${dir}: no preprocessor_config.json; using the ${family} default ${cfg.image_processor_type as string} (${describe(cfg)})`);
  return { cfg, source: `${family} default processor` };
}

function describe(cfg: Record<string, unknown>): string {
  return `size ${JSON.stringify(cfg.size)}${cfg.do_center_crop ? `, crop ${JSON.stringify(cfg.crop_size)}` : ''}, mean ${JSON.stringify(cfg.image_mean)}`;
}

export function makeProcessor(cfg: Record<string, unknown>, source: string, mode?: PreprocessMode): ImageProcessor {
  return imageProcessorFromConfig(cfg, { mode, source });
}
