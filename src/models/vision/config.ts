/**
 * Vision-tower configuration: one typed object for the three families, validated in one place.
 *
 * Field names are HF's (`hidden_size`, `num_hidden_layers`, ...) so a reader can compare with a
 * `config.json`. Two entry points:
 *   - `validateVisionConfig(obj)`: OUR config (presets, logolab.json). Strict: unknown keys and
 *     wrong types are errors; missing optional fields get the family's defaults.
 *   - `visionConfigFromHf(configJson)`: an HF `config.json` (CLIPModel, CLIPVisionModel[WithProjection],
 *     Dinov2Model, SiglipVisionModel, SiglipModel). HF configs carry dozens of generic
 *     PretrainedConfig fields (id2label, torch_dtype, ...) that vary between transformers versions,
 *     so there only the fields we use are read (with HF's class defaults when absent) and checked.
 */
import { LogolabError } from '../../errors.js';

export type VisionFamily = 'clip' | 'dinov2' | 'siglip';
export const VISION_FAMILIES: readonly VisionFamily[] = ['clip', 'dinov2', 'siglip'];

export type HiddenAct = 'quick_gelu' | 'gelu' | 'gelu_pytorch_tanh' | 'gelu_new';
export const HIDDEN_ACTS: readonly HiddenAct[] = ['quick_gelu', 'gelu', 'gelu_pytorch_tanh', 'gelu_new'];

export interface VisionConfig {
  family: VisionFamily;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  patch_size: number;
  /** the size the position embeddings were trained for (dinov2 interpolates for other sizes) */
  image_size: number;
  num_channels: number;
  layer_norm_eps: number;
  hidden_act: HiddenAct;
  /** CLIP `visual_projection` output size; null = no projection (image_embeds = pooler_output) */
  projection_dim: number | null;
  /** DINOv2 LayerScale init value (weights come from the checkpoint); null = no layer scale */
  layerscale_value: number | null;
  /** q/k/v projections have biases (all three families: true) */
  qkv_bias: boolean;
  /** SigLIP multihead attention-pool head (`vision_use_head`); false for the other families */
  use_head: boolean;
  /**
   * DINOv2 SwiGLU MLP (`use_swiglu_ffn`, dinov2-giant): weights_in [2·intermediate_size, D],
   * weights_out [D, intermediate_size], where intermediate_size is HF's
   * (int(int(D·mlp_ratio)·2/3) + 7) // 8 · 8. Present only when true, so the config (and the
   * model fingerprint hashed from it) of every other model is what it was before this field.
   */
  use_swiglu_ffn?: true;
}

type Defaults = Omit<VisionConfig, 'family'>;

/** HF class defaults (CLIPVisionConfig, Dinov2Config, SiglipVisionConfig). */
export const FAMILY_DEFAULTS: Record<VisionFamily, Defaults> = {
  clip: {
    hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, patch_size: 32, image_size: 224,
    num_channels: 3, layer_norm_eps: 1e-5, hidden_act: 'quick_gelu', projection_dim: 512, layerscale_value: null, qkv_bias: true, use_head: false,
  },
  dinov2: {
    hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, patch_size: 14, image_size: 224,
    num_channels: 3, layer_norm_eps: 1e-6, hidden_act: 'gelu', projection_dim: null, layerscale_value: 1.0, qkv_bias: true, use_head: false,
  },
  siglip: {
    hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, patch_size: 16, image_size: 224,
    num_channels: 3, layer_norm_eps: 1e-6, hidden_act: 'gelu_pytorch_tanh', projection_dim: null, layerscale_value: null, qkv_bias: true, use_head: true,
  },
};

/**
 * The keys validateVisionConfig accepts (every family has the same fields; `use_swiglu_ffn` is
 * optional). Also what a training config's `vision_config:` overrides may name.
 */
export const VISION_CONFIG_KEYS: readonly string[] = ['family', ...Object.keys(FAMILY_DEFAULTS.clip), 'use_swiglu_ffn'];

const INT_FIELDS = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'patch_size', 'image_size', 'num_channels'] as const;

function bad(source: string, field: string, why: string): never {
  throw new LogolabError(`${source}: field '${field}': ${why}`);
}

/** Checks the cross-field invariants every config must satisfy (both entry points end here). */
function checkInvariants(c: VisionConfig, source: string): VisionConfig {
  for (const f of INT_FIELDS) if (!Number.isInteger(c[f]) || c[f] <= 0) bad(source, f, `must be a positive integer, got ${JSON.stringify(c[f])}`);
  if (c.hidden_size % c.num_attention_heads !== 0) bad(source, 'num_attention_heads', `${c.num_attention_heads} does not divide hidden_size ${c.hidden_size}`);
  if (!(typeof c.layer_norm_eps === 'number' && c.layer_norm_eps > 0)) bad(source, 'layer_norm_eps', `must be a positive number, got ${JSON.stringify(c.layer_norm_eps)}`);
  if (!HIDDEN_ACTS.includes(c.hidden_act)) bad(source, 'hidden_act', `unsupported activation ${JSON.stringify(c.hidden_act)} (supported: ${HIDDEN_ACTS.join(', ')})`);
  if (c.projection_dim !== null && (!Number.isInteger(c.projection_dim) || c.projection_dim <= 0)) bad(source, 'projection_dim', 'must be a positive integer or null');
  if (c.projection_dim !== null && c.family !== 'clip') bad(source, 'projection_dim', `only CLIP has a visual projection (family ${c.family})`);
  if (c.layerscale_value !== null && typeof c.layerscale_value !== 'number') bad(source, 'layerscale_value', 'must be a number or null');
  if (c.layerscale_value !== null && c.family !== 'dinov2') bad(source, 'layerscale_value', `only DINOv2 has layer scale (family ${c.family})`);
  if (typeof c.qkv_bias !== 'boolean') bad(source, 'qkv_bias', 'must be a boolean');
  if (typeof c.use_head !== 'boolean') bad(source, 'use_head', 'must be a boolean');
  if (c.family === 'siglip' && !c.use_head) bad(source, 'use_head', 'SigLIP without the attention-pool head (vision_use_head=false) is not supported: it has no pooled output');
  if (c.family !== 'siglip' && c.use_head) bad(source, 'use_head', `only SigLIP has an attention-pool head (family ${c.family})`);
  if (c.use_swiglu_ffn !== undefined && c.use_swiglu_ffn !== true) bad(source, 'use_swiglu_ffn', 'must be true or absent');
  if (c.family !== 'dinov2' && c.use_swiglu_ffn) bad(source, 'use_swiglu_ffn', `only DINOv2 has a SwiGLU MLP option (family ${c.family})`);
  if (c.family === 'siglip' && c.image_size % c.patch_size !== 0) bad(source, 'image_size', `${c.image_size} is not a multiple of patch_size ${c.patch_size}`);
  return c;
}

/** Validates OUR config object (presets, logolab.json): unknown keys are errors; defaults by family. */
export function validateVisionConfig(obj: unknown, source = 'vision config'): VisionConfig {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new LogolabError(`${source}: must be a JSON object`);
  const o = obj as Record<string, unknown>;
  const family = o.family;
  if (typeof family !== 'string' || !VISION_FAMILIES.includes(family as VisionFamily)) {
    bad(source, 'family', `must be one of ${VISION_FAMILIES.join(', ')}, got ${JSON.stringify(family)}`);
  }
  const defaults = FAMILY_DEFAULTS[family as VisionFamily];
  for (const k of Object.keys(o)) if (!VISION_CONFIG_KEYS.includes(k)) bad(source, k, 'unknown key');
  const c = { family, ...defaults, ...o } as VisionConfig;
  if ((c.use_swiglu_ffn as unknown) === false) delete c.use_swiglu_ffn; // absent = false (see VisionConfig)
  return checkInvariants(c, source);
}

/** The result of reading an HF config.json. */
export interface HfVisionConfig {
  config: VisionConfig;
  /** HF `model_type` of the file (e.g. 'clip', 'clip_vision_model') */
  modelType: string;
  /** HF architectures[0] if given */
  architecture: string | null;
  /** the vision part as an HF config object (what a converted folder's config.json holds) */
  hfVision: Record<string, unknown>;
}

function pick<T>(src: Record<string, unknown>, key: string, dflt: T, source: string, type: 'number' | 'string' | 'boolean'): T {
  const v = src[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== type) bad(source, key, `expected a ${type}, got ${JSON.stringify(v)}`);
  return v as T;
}

function asObject(v: unknown, source: string, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(source, field, 'must be a JSON object');
  return v as Record<string, unknown>;
}

/** Supported HF model_type values (top level of config.json). */
export const HF_MODEL_TYPES = ['clip', 'clip_vision_model', 'dinov2', 'siglip', 'siglip_vision_model'] as const;

/** Reads the vision tower's config from an HF config.json object. `source` names the file in errors. */
export function visionConfigFromHf(raw: unknown, source: string): HfVisionConfig {
  const top = asObject(raw, source, '(root)');
  const modelType = top.model_type;
  if (typeof modelType !== 'string') bad(source, 'model_type', 'missing (not an HF model config?)');
  const architecture = Array.isArray(top.architectures) && typeof top.architectures[0] === 'string' ? (top.architectures[0] as string) : null;
  let family: VisionFamily;
  let v: Record<string, unknown>;
  let projection: number | null = null;
  switch (modelType) {
    case 'clip':
      family = 'clip';
      v = asObject(top.vision_config ?? {}, source, 'vision_config');
      projection = pick(top, 'projection_dim', 512, source, 'number');
      break;
    case 'clip_vision_model':
      family = 'clip';
      v = top;
      // CLIPVisionModel has no projection; CLIPVisionModelWithProjection has one (the loader also
      // accepts a projection found in the weights of a checkpoint that does not name its class).
      projection = pick(top, 'projection_dim', 512, source, 'number');
      break;
    case 'dinov2':
      family = 'dinov2';
      v = top;
      break;
    case 'siglip':
      family = 'siglip';
      v = asObject(top.vision_config ?? {}, source, 'vision_config');
      break;
    case 'siglip_vision_model':
      family = 'siglip';
      v = top;
      break;
    default:
      bad(source, 'model_type', `unsupported model_type '${modelType}' (supported: ${HF_MODEL_TYPES.join(', ')})`);
  }
  const d = FAMILY_DEFAULTS[family];
  const num = (k: keyof Defaults & string, dflt: number) => pick(v, k, dflt, source, 'number');
  let intermediate: number;
  const swiglu = family === 'dinov2' && pick(v, 'use_swiglu_ffn', false, source, 'boolean');
  if (family === 'dinov2') {
    const ratio = pick(v, 'mlp_ratio', 4, source, 'number');
    // Dinov2MLP: int(D·ratio); Dinov2SwiGLUFFN: that, ·2/3, rounded up to a multiple of 8
    intermediate = swiglu ? swigluHidden(num('hidden_size', d.hidden_size), ratio) : Math.round(num('hidden_size', d.hidden_size) * ratio);
  } else {
    intermediate = num('intermediate_size', d.intermediate_size);
  }
  const act = pick(v, 'hidden_act', d.hidden_act, source, 'string');
  const config: VisionConfig = {
    family,
    hidden_size: num('hidden_size', d.hidden_size),
    num_hidden_layers: num('num_hidden_layers', d.num_hidden_layers),
    num_attention_heads: num('num_attention_heads', d.num_attention_heads),
    intermediate_size: intermediate,
    patch_size: num('patch_size', d.patch_size),
    image_size: num('image_size', d.image_size),
    num_channels: num('num_channels', d.num_channels),
    layer_norm_eps: num('layer_norm_eps', d.layer_norm_eps),
    hidden_act: act,
    projection_dim: family === 'clip' ? projection : null,
    layerscale_value: family === 'dinov2' ? pick(v, 'layerscale_value', 1.0, source, 'number') : null,
    qkv_bias: family === 'dinov2' ? pick(v, 'qkv_bias', true, source, 'boolean') : true,
    use_head: family === 'siglip' ? pick(v, 'vision_use_head', true, source, 'boolean') : false,
    ...(swiglu ? { use_swiglu_ffn: true as const } : {}),
  };
  checkInvariants(config, source);
  return { config, modelType, architecture, hfVision: hfVisionConfig(config) };
}

/**
 * The HF config.json of the vision tower alone, as a converted folder stores it (so that folder is
 * also a valid HF checkpoint of CLIPVisionModelWithProjection / CLIPVisionModel / Dinov2Model /
 * SiglipVisionModel).
 */
export function hfVisionConfig(c: VisionConfig): Record<string, unknown> {
  const common = {
    hidden_size: c.hidden_size, num_hidden_layers: c.num_hidden_layers, num_attention_heads: c.num_attention_heads,
    patch_size: c.patch_size, image_size: c.image_size, num_channels: c.num_channels, layer_norm_eps: c.layer_norm_eps, hidden_act: c.hidden_act,
  };
  switch (c.family) {
    case 'clip':
      return {
        architectures: [c.projection_dim !== null ? 'CLIPVisionModelWithProjection' : 'CLIPVisionModel'],
        model_type: 'clip_vision_model', ...common, intermediate_size: c.intermediate_size,
        ...(c.projection_dim !== null ? { projection_dim: c.projection_dim } : {}),
      };
    case 'dinov2': {
      // SwiGLU: a ratio HF maps back to the same hidden size (1.5·h/D: int(1.5·h)·2/3 = h, h a multiple of 8)
      const mlpRatio = c.use_swiglu_ffn ? (1.5 * c.intermediate_size) / c.hidden_size : c.intermediate_size / c.hidden_size;
      if (c.use_swiglu_ffn && swigluHidden(c.hidden_size, mlpRatio) !== c.intermediate_size) throw new LogolabError(`dinov2: SwiGLU intermediate_size ${c.intermediate_size} has no HF mlp_ratio (must be a multiple of 8)`);
      return {
        architectures: ['Dinov2Model'], model_type: 'dinov2', ...common, mlp_ratio: mlpRatio,
        layerscale_value: c.layerscale_value ?? 1.0, qkv_bias: c.qkv_bias, use_swiglu_ffn: c.use_swiglu_ffn === true, apply_layernorm: true,
      };
    }
    case 'siglip':
      return { architectures: ['SiglipVisionModel'], model_type: 'siglip_vision_model', ...common, intermediate_size: c.intermediate_size, vision_use_head: c.use_head };
  }
}

/** Dinov2SwiGLUFFN's hidden size: (int(int(D·mlp_ratio)·2/3) + 7) // 8 · 8 (Python int() truncates). */
export function swigluHidden(hidden: number, mlpRatio: number): number {
  const h = Math.trunc(hidden * mlpRatio);
  return Math.floor((Math.trunc((h * 2) / 3) + 7) / 8) * 8;
}
