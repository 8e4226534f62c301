/**
 * What a training config's `base_model` names: `preset:<name>` (a CLIP preset) or
 * `preset:<family>/<name>` (random weights built from src/models/vision/presets.ts), else a model
 * folder or HF repo id (training/provenance.ts resolves those).
 */
import { LogolabError } from '../src/errors.js';
import { VISION_FAMILIES, type VisionFamily } from '../src/models/vision/config.js';

/** `preset:<name>` (CLIP) or `preset:<family>/<name>` → buildVisionModel; else a model folder. */
export function parseBaseModel(base: string): { preset: { family: VisionFamily; name: string } | null; dir: string | null } {
  if (!base.startsWith('preset:')) return { preset: null, dir: base };
  const spec = base.slice('preset:'.length);
  const [a, b] = spec.includes('/') ? spec.split('/', 2) : ['clip', spec];
  if (!VISION_FAMILIES.includes(a as VisionFamily)) throw new LogolabError(`base_model '${base}': unknown family '${a}' (${VISION_FAMILIES.join(', ')})`);
  return { preset: { family: a as VisionFamily, name: b! }, dir: null };
}

/**
 * Why `vision_config.family` cannot apply to base_model, or null. A preset's family is the one
 * base_model names: the override may repeat it, never change it (buildVisionModel builds
 * base_model's family whatever the override says, so another would be silently ignored; the other
 * family's preset is `preset:<family>/<name>`). A model folder's family is its own: vision_config
 * does not apply to one at all (model.ts loadBaseModel).
 */
export function presetFamilyClash(baseModel: string, family: unknown): string | null {
  if (family === undefined || !baseModel.startsWith('preset:')) return null;
  if (!VISION_FAMILIES.includes(family as VisionFamily)) return `vision_config.family: must be one of ${VISION_FAMILIES.join(', ')}, got ${JSON.stringify(family)}`;
  let preset: ReturnType<typeof parseBaseModel>['preset'];
  try {
    preset = parseBaseModel(baseModel).preset;
  } catch (e) {
    if (e instanceof LogolabError) return e.message; // an unknown family in base_model itself
    throw e;
  }
  if (family === preset!.family) return null;
  return `vision_config.family '${family as string}' differs from base_model '${baseModel}' (a ${preset!.family} preset); a preset's family is named in base_model: preset:${family as string}/${preset!.name}`;
}
