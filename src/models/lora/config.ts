/**
 * LoRA configuration: one typed object, validated in one place. Field names are peft's LoraConfig
 * names (r, lora_alpha, lora_dropout, target_modules, layers_to_transform, use_rslora) so a reader
 * can compare; `freeze_layers` is the Python original's "adapt only layers ≥ N" knob.
 *
 * Unlike the reference (which passed no layers_to_transform to peft and so adapted EVERY layer
 * while freezing the lower ones' base weights — a no-op for LoRA), the layers adapted here are
 * exactly those the config names.
 */
import { LogolabError } from '../../errors.js';

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  /** rank */
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: LoraTarget[];
  /** explicit layer indices; when null, layers ≥ freeze_layers */
  layers_to_transform: number[] | null;
  /** adapt layers with index ≥ freeze_layers (used when layers_to_transform is null) */
  freeze_layers: number;
  /** scaling alpha/√r instead of alpha/r */
  use_rslora: boolean;
  /** seed of the A initialisation */
  seed: number;
}

/** The Python original's defaults (training/config.py / model.py). */
export const LORA_DEFAULTS: LoraConfig = {
  r: 16,
  lora_alpha: 32,
  lora_dropout: 0.1,
  target_modules: ['q_proj', 'v_proj'],
  layers_to_transform: null,
  freeze_layers: 12,
  use_rslora: false,
  seed: 0,
};

function bad(source: string, field: string, why: string): never {
  throw new LogolabError(`${source}: field '${field}': ${why}`);
}

export function validateLoraConfig(obj: unknown, source = 'lora config'): LoraConfig {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new LogolabError(`${source}: must be an object`);
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in LORA_DEFAULTS)) bad(source, k, `unknown key (known: ${Object.keys(LORA_DEFAULTS).join(', ')})`);
  const c = { ...LORA_DEFAULTS, ...o } as LoraConfig;
  if (!Number.isInteger(c.r) || c.r <= 0) bad(source, 'r', `must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (typeof c.lora_alpha !== 'number' || !(c.lora_alpha > 0)) bad(source, 'lora_alpha', `must be a positive number, got ${JSON.stringify(c.lora_alpha)}`);
  if (typeof c.lora_dropout !== 'number' || !(c.lora_dropout >= 0 && c.lora_dropout < 1)) bad(source, 'lora_dropout', `must be in [0, 1), got ${JSON.stringify(c.lora_dropout)}`);
  if (!Array.isArray(c.target_modules) || c.target_modules.length === 0) bad(source, 'target_modules', 'must be a non-empty list');
  for (const t of c.target_modules) if (!LORA_TARGETS.includes(t)) bad(source, 'target_modules', `unknown target ${JSON.stringify(t)} (known: ${LORA_TARGETS.join(', ')})`);
  if (new Set(c.target_modules).size !== c.target_modules.length) bad(source, 'target_modules', 'duplicate entries');
  if (c.layers_to_transform !== null) {
    if (!Array.isArray(c.layers_to_transform) || c.layers_to_transform.length === 0) bad(source, 'layers_to_transform', 'must be a non-empty list of layer indices or null');
    for (const i of c.layers_to_transform) if (!Number.isInteger(i) || i < 0) bad(source, 'layers_to_transform', `bad layer index ${JSON.stringify(i)}`);
  }
  if (!Number.isInteger(c.freeze_layers) || c.freeze_layers < 0) bad(source, 'freeze_layers', `must be an integer ≥ 0, got ${JSON.stringify(c.freeze_layers)}`);
  if (typeof c.use_rslora !== 'boolean') bad(source, 'use_rslora', 'must be a boolean');
  if (!Number.isInteger(c.seed)) bad(source, 'seed', 'must be an integer');
  return { ...c, target_modules: [...c.target_modules], layers_to_transform: c.layers_to_transform ? [...c.layers_to_transform] : null };
}

/** peft: scaling = alpha / r, or alpha / √r with rsLoRA. */
export function loraScaling(r: number, alpha: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** The layer indices a config adapts on a model with `numLayers` layers (sorted; errors when none or out of range). */
export function resolveLayers(c: LoraConfig, numLayers: number, source = 'lora config'): number[] {
  if (c.layers_to_transform) {
    for (const i of c.layers_to_transform) if (i >= numLayers) bad(source, 'layers_to_transform', `layer ${i} does not exist (model has ${numLayers} layers)`);
    return [...new Set(c.layers_to_transform)].sort((a, b) => a - b);
  }
  if (c.freeze_layers >= numLayers) bad(source, 'freeze_layers', `${c.freeze_layers} freezes every layer of a ${numLayers}-layer model: no layer would get an adapter`);
  return Array.from({ length: numLayers - c.freeze_layers }, (_, k) => c.freeze_layers + k);
}
