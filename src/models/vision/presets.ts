/**
 * Shapes of real checkpoints for random-weight models (bench, tests, demo). 'vit-l14' is
 * openai/clip-vit-large-patch14's vision tower (303,966,208 parameters with the projection),
 * 'vit-b16' clip-vit-base-patch16, 'tiny' the test fixtures' size. For DINOv2/SigLIP the same
 * transformer dims are used with the family's own parts (layer scale / attention-pool head).
 */
import { LogolabError } from '../../errors.js';
import { validateVisionConfig, type VisionConfig, type VisionFamily } from './config.js';

export const PRESET_NAMES = ['tiny', 'vit-b16', 'vit-l14'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const DIMS: Record<PresetName, Partial<VisionConfig>> = {
  tiny: { hidden_size: 64, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 128, patch_size: 8, image_size: 32 },
  'vit-b16': { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, patch_size: 16, image_size: 224 },
  'vit-l14': { hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096, patch_size: 14, image_size: 224 },
};

const PROJECTION: Record<PresetName, number> = { tiny: 24, 'vit-b16': 512, 'vit-l14': 768 };

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

export function presetConfig(family: VisionFamily, name: string): VisionConfig {
  if (!isPresetName(name)) throw new LogolabError(`unknown model preset '${name}' (presets: ${PRESET_NAMES.join(', ')})`);
  const extra: Partial<VisionConfig> = family === 'clip' ? { projection_dim: PROJECTION[name] } : {};
  return validateVisionConfig({ family, ...DIMS[name], ...extra }, `preset ${name}`);
}
