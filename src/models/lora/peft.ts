/**
 * peft interop: the key mapping between our adapter sites and peft's saved state dict, and the
 * adapter_config.json fields we read and write.
 *
 * peft saves `base_model.model.<module path>.lora_A.weight` [r, in] and `…lora_B.weight` [out, r]
 * (adapter name stripped). Module paths are those of the model peft wrapped:
 *   CLIPVisionModel(WithProjection) / CLIPModel → vision_model.encoder.layers.i.self_attn.q_proj
 *   SiglipVisionModel                            → vision_model.encoder.layers.i.self_attn.q_proj
 *   Dinov2Model                                  → encoder.layer.i.attention.attention.query
 * The reference wrapped CLIPModel.vision_model (a CLIPVisionTransformer) itself, so its adapters
 * lack the `vision_model.` root: loading accepts that root too.
 */
import { LogolabError } from '../../errors.js';
import type { VisionFamily } from '../vision/config.js';
import { LORA_TARGETS, type LoraTarget } from './config.js';
import type { LoraHost } from './apply.js';

/** Root of the vision tower's module paths in the HF model class a converted folder is. */
export const PEFT_ROOT: Record<VisionFamily, string> = { clip: 'vision_model.', siglip: 'vision_model.', dinov2: '' };
const KEY_PREFIX = 'base_model.model.';

export interface PeftKeyEntry {
  key: string;
  layer: number;
  target: LoraTarget;
  which: 'A' | 'B';
  /** full module path under the root this entry was built for */
  module: string;
}

export interface PeftKeyTable {
  root: string;
  entries: PeftKeyEntry[];
  byKey: Map<string, PeftKeyEntry>;
  /** module path of a site */
  moduleOf(layer: number, target: LoraTarget): string;
}

/**
 * THE mapping between adapter sites (layer, target, A|B) and peft keys, used in both directions:
 * saveAdapter walks `entries` (site → key), loadAdapter looks keys up in `byKey` (key → site).
 * `root` defaults to the canonical root of the family; loaders also try `alternativeRoots`.
 */
export function peftKeyTable(model: LoraHost, root = PEFT_ROOT[model.family]): PeftKeyTable {
  const entries: PeftKeyEntry[] = [];
  const modules = new Map<string, string>();
  const canonical = PEFT_ROOT[model.family];
  for (const layer of model.layers) {
    const inv = new Map<LoraTarget, string>();
    for (const [path, t] of Object.entries(layer.hfModules)) inv.set(t, path);
    for (const target of LORA_TARGETS) {
      const rel0 = inv.get(target);
      if (!rel0) throw new Error(`internal: layer ${layer.index} has no HF module name for ${target}`);
      // hfModules may or may not include the canonical root: normalise to "relative to the root"
      const rel = canonical && rel0.startsWith(canonical) ? rel0.slice(canonical.length) : rel0;
      const module = root + rel;
      modules.set(`${layer.index}:${target}`, module);
      for (const which of ['A', 'B'] as const) entries.push({ key: `${KEY_PREFIX}${module}.lora_${which}.weight`, layer: layer.index, target, which, module });
    }
  }
  return {
    root,
    entries,
    byKey: new Map(entries.map((e) => [e.key, e])),
    moduleOf: (layer, target) => modules.get(`${layer}:${target}`)!,
  };
}

/** Roots a peft adapter for this family may use besides the canonical one. */
export function alternativeRoots(family: VisionFamily): string[] {
  return PEFT_ROOT[family] ? [''] : [];
}

/** Keys of other towers (a CLIPModel/SiglipModel-wide adapter also adapts the text tower): ignored, reported. */
export function isOtherTowerKey(key: string): boolean {
  return key.startsWith(`${KEY_PREFIX}text_model.`) || key.startsWith(`${KEY_PREFIX}text_projection.`);
}

// ---------- adapter_config.json ----------

export interface PeftLoraConfig {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  use_rslora: boolean;
  target_modules: string[] | string;
  exclude_modules: string[] | string | null;
  layers_to_transform: number[] | null;
  /** regexes of the layer-list attribute (peft: null = any) */
  layers_pattern: string[] | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

function bad(source: string, field: string, why: string): never {
  throw new LogolabError(`${source}: field '${field}': ${why}`);
}

/** Reads the fields of a peft adapter_config.json that decide the adapted model; rejects what we cannot apply. */
export function parsePeftConfig(raw: unknown, source: string): PeftLoraConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LogolabError(`${source}: must be a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.peft_type !== 'LORA') bad(source, 'peft_type', `expected "LORA", got ${JSON.stringify(o.peft_type)}`);
  const r = o.r;
  if (!Number.isInteger(r) || (r as number) <= 0) bad(source, 'r', `must be a positive integer, got ${JSON.stringify(r)}`);
  const alpha = o.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) bad(source, 'lora_alpha', `must be a positive number, got ${JSON.stringify(alpha)}`);
  const dropout = o.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) bad(source, 'lora_dropout', `must be in [0, 1), got ${JSON.stringify(dropout)}`);
  const rs = o.use_rslora ?? false;
  if (typeof rs !== 'boolean') bad(source, 'use_rslora', 'must be a boolean');
  // features that change the computation in ways this loader does not implement
  if (o.use_dora === true) bad(source, 'use_dora', 'DoRA adapters are not supported');
  if (o.bias !== undefined && o.bias !== 'none') bad(source, 'bias', `only "none" is supported, got ${JSON.stringify(o.bias)}`);
  if (o.lora_bias === true) bad(source, 'lora_bias', 'LoRA biases are not supported');
  if (o.fan_in_fan_out === true) bad(source, 'fan_in_fan_out', 'must be false for the ViT Linear layers');
  if (o.layer_replication != null) bad(source, 'layer_replication', 'not supported');
  if (o.target_parameters != null) bad(source, 'target_parameters', 'not supported');
  if (Array.isArray(o.modules_to_save) ? o.modules_to_save.length > 0 : o.modules_to_save != null) {
    bad(source, 'modules_to_save', `fully trained modules (${JSON.stringify(o.modules_to_save)}) are not supported; only LoRA A/B weights`);
  }
  if (typeof o.init_lora_weights === 'string' && !['gaussian'].includes(o.init_lora_weights)) {
    bad(source, 'init_lora_weights', `"${o.init_lora_weights}" initialisation changes the base weights; not supported`);
  }
  const tm = o.target_modules;
  const strList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!(typeof tm === 'string' || (strList(tm) && (tm as string[]).length > 0))) bad(source, 'target_modules', `must be a regex string or a non-empty list of module names, got ${JSON.stringify(tm)}`);
  const ex = o.exclude_modules ?? null;
  if (!(ex === null || typeof ex === 'string' || strList(ex))) bad(source, 'exclude_modules', 'must be null, a regex string or a list');
  let ltt = o.layers_to_transform ?? null;
  if (typeof ltt === 'number') ltt = [ltt];
  if (ltt !== null && !(Array.isArray(ltt) && ltt.every((i) => Number.isInteger(i) && i >= 0))) bad(source, 'layers_to_transform', `must be null, an index or a list of indices, got ${JSON.stringify(o.layers_to_transform)}`);
  let lp = o.layers_pattern ?? null;
  if (typeof lp === 'string') lp = lp.length ? [lp] : null;
  if (lp !== null && !strList(lp)) bad(source, 'layers_pattern', `must be null, a string or a list of strings, got ${JSON.stringify(o.layers_pattern)}`);
  if (Array.isArray(lp) && lp.length === 0) lp = null;
  const pattern = (field: string, integer: boolean): Record<string, number> => {
    const p = o[field] ?? {};
    if (typeof p !== 'object' || p === null || Array.isArray(p)) bad(source, field, 'must be an object');
    for (const [k, v] of Object.entries(p)) if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v))) bad(source, field, `bad value for '${k}': ${JSON.stringify(v)}`);
    return p as Record<string, number>;
  };
  // every pattern is compiled here, in the form the matchers below use: a bad one is the file's error
  const regex = (field: string, value: string, used: string) => {
    try {
      new RegExp(used);
    } catch {
      bad(source, field, `${JSON.stringify(value)} is not a valid regular expression`);
    }
  };
  if (typeof tm === 'string') regex('target_modules', tm, `^(?:${tm})$`);
  if (typeof ex === 'string') regex('exclude_modules', ex, `^(?:${ex})$`);
  for (const p of (lp as string[] | null) ?? []) regex('layers_pattern', p, `^.*\\.${p}\\.(\\d+)\\.`);
  const rankPattern = pattern('rank_pattern', true);
  const alphaPattern = pattern('alpha_pattern', false);
  for (const [field, pat] of [['rank_pattern', rankPattern], ['alpha_pattern', alphaPattern]] as const) for (const k of Object.keys(pat)) regex(field, k, `^(.*\\.)?(?:${k})$`);
  return {
    r: r as number,
    lora_alpha: alpha,
    lora_dropout: dropout,
    use_rslora: rs,
    target_modules: tm as string[] | string,
    exclude_modules: ex as string[] | string | null,
    layers_to_transform: ltt as number[] | null,
    layers_pattern: lp as string[] | null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
  };
}

/** peft's exclude/target matching: a list entry matches the full name or a dotted suffix; a string is a regex matched in full. */
export function matchesModules(module: string, spec: string[] | string): boolean {
  if (typeof spec === 'string') return new RegExp(`^(?:${spec})$`).test(module);
  return spec.some((t) => module === t || module.endsWith(`.${t}`));
}

/** peft's rank/alpha pattern lookup: first key k with `(.*\.)?(k)$` matching the module. */
export function patternValue(module: string, pattern: Record<string, number>, dflt: number): number {
  for (const [k, v] of Object.entries(pattern)) if (k === module || new RegExp(`^(.*\\.)?(?:${k})$`).test(module)) return v;
  return dflt;
}

/**
 * Does peft put an adapter on this module? Mirrors peft's check_target_module_exists: excluded
 * modules never; a regex target_modules or an exact module name ignores layers_to_transform; a
 * suffix match is then filtered by the layer index found with layers_pattern.
 */
export function siteSelected(c: PeftLoraConfig, module: string): boolean {
  if (c.exclude_modules !== null && matchesModules(module, c.exclude_modules)) return false;
  if (typeof c.target_modules === 'string') return new RegExp(`^(?:${c.target_modules})$`).test(module);
  if (c.target_modules.includes(module)) return true;
  if (!c.target_modules.some((t) => module.endsWith(`.${t}`))) return false;
  if (c.layers_to_transform === null || c.layers_to_transform.length === 0) return true;
  const pats = c.layers_pattern ?? [null];
  for (const p of pats) {
    const m = new RegExp(p === null ? '^.*\\.[^.]*\\.(\\d+)\\.' : `^.*\\.${p}\\.(\\d+)\\.`).exec(module);
    if (m) return c.layers_to_transform.includes(Number(m[1]));
  }
  return false;
}

/** HF class names for adapter_config.json's auto_mapping (as peft writes it). */
export function hfBaseClass(model: LoraHost): { base_model_class: string; parent_library: string } {
  switch (model.family) {
    case 'clip':
      return { base_model_class: model.config?.projection_dim === null ? 'CLIPVisionModel' : 'CLIPVisionModelWithProjection', parent_library: 'transformers.models.clip.modeling_clip' };
    case 'dinov2':
      return { base_model_class: 'Dinov2Model', parent_library: 'transformers.models.dinov2.modeling_dinov2' };
    case 'siglip':
      return { base_model_class: 'SiglipVisionModel', parent_library: 'transformers.models.siglip.modeling_siglip' };
  }
}
