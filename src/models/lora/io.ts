/**
 * Loading and saving LoRA adapters in peft's format (adapter_model.safetensors +
 * adapter_config.json), so adapters move both ways between this project and Python
 * (`PeftModel.from_pretrained(base, dir)`). Like nanoGPT's from_pretrained: every key is mapped
 * through ONE table (peft.ts: peftKeyTable), every shape asserted, leftovers reported or refused.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../../errors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { SafetensorsFile, writeSafetensors, type WriteTensor } from '../../io/safetensors.js';
import type { LoraAdapter } from '../layers.js';
import { activeSites, newVariable, type LoraHost } from './apply.js';
import { loraScaling, type LoraConfig } from './config.js';
import { alternativeRoots, hfBaseClass, isOtherTowerKey, parsePeftConfig, patternValue, peftKeyTable, siteSelected, PEFT_ROOT, type PeftKeyTable } from './peft.js';
import { readJsonFile } from '../../util/json.js';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

export interface LoadedAdapter {
  dir: string;
  /** adapted sites, e.g. 'layer 2 q_proj' */
  sites: string[];
  trainable: number;
  /** keys of other towers (text) that were ignored */
  ignored: string[];
}

/** Loads a peft LoRA adapter folder onto the model (which must have no adapter yet). */
export function loadAdapter(model: LoraHost, dir: string): LoadedAdapter {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  const wPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(cfgPath)) throw new LogolabError(`${dir}: no ${ADAPTER_CONFIG} (not a peft adapter folder?)`);
  if (!existsSync(wPath)) {
    const bin = existsSync(join(dir, 'adapter_model.bin')) ? ' (adapter_model.bin is a pickle: re-save it with safe_serialization=True)' : '';
    throw new LogolabError(`${dir}: no ${ADAPTER_WEIGHTS}${bin}`);
  }
  const c = parsePeftConfig(readJsonFile(cfgPath), cfgPath);
  if (activeSites(model).length) throw new LogolabError(`${dir}: the model already has a LoRA adapter; load adapters onto a clean model`);
  const file = SafetensorsFile.open(wPath);
  try {
    const keys = file.keys();
    const ignored = keys.filter(isOtherTowerKey);
    const own = keys.filter((k) => !isOtherTowerKey(k));
    // which root were the module paths built on?
    const tables = [PEFT_ROOT[model.family], ...alternativeRoots(model.family)].map((r) => peftKeyTable(model, r));
    const table = tables.find((t) => own.length > 0 && own.every((k) => t.byKey.has(k)));
    if (!table) {
      const t0 = tables[0]!;
      const unknown = own.filter((k) => !tables.some((t) => t.byKey.has(k)));
      if (own.length === 0) throw new LogolabError(`${wPath}: no LoRA weights for the vision tower`);
      throw new LogolabError(`${wPath}: ${unknown.length || own.length} key(s) do not map to this ${model.family} model's layers, e.g. '${(unknown[0] ?? own[0])}' (expected like '${t0.entries[0]!.key}')`);
    }
    // the sites the config selects must be exactly the sites present in the file
    const want = new Set<string>();
    for (const e of table.entries) if (siteSelected(c, e.module)) want.add(e.key);
    const missing = [...want].filter((k) => !file.has(k));
    const extra = own.filter((k) => !want.has(k));
    if (missing.length) throw new LogolabError(`${wPath}: missing '${missing[0]}' (${missing.length} key(s) that ${ADAPTER_CONFIG} selects are absent)`);
    if (extra.length) throw new LogolabError(`${wPath}: '${extra[0]}' is not selected by ${ADAPTER_CONFIG} (target_modules/layers_to_transform); ${extra.length} such key(s)`);
    const created: LoraAdapter[] = [];
    const sites: string[] = [];
    try {
      for (const e of table.entries) {
        if (e.which !== 'A' || !want.has(e.key)) continue;
        const linear = model.layers[e.layer]![e.target];
        const [inDim, outDim] = linear.weight.shape;
        const r = patternValue(e.module, c.rank_pattern, c.r);
        const alpha = patternValue(e.module, c.alpha_pattern, c.lora_alpha);
        const keyB = e.key.replace(/\.lora_A\.weight$/, '.lora_B.weight');
        const a = readChecked(file, e.key, [r, inDim]);
        const b = readChecked(file, keyB, [outDim, r]);
        const lora: LoraAdapter = {
          A: newVariable(tf.tidy(() => tf.tensor2d(a, [r, inDim]).transpose())), // [in, r]
          B: newVariable(tf.tidy(() => tf.tensor2d(b, [outDim, r]).transpose())), // [r, out]
          scaling: loraScaling(r, alpha, c.use_rslora),
          dropout: c.lora_dropout,
        };
        created.push(lora);
        linear.lora = lora;
        sites.push(`layer ${e.layer} ${e.target}`);
      }
    } catch (err) {
      for (const s of activeSites(model)) s.linear.lora = null;
      for (const l of created) {
        l.A.dispose();
        l.B.dispose();
      }
      throw err;
    }
    const trainable = created.reduce((s, l) => s + l.A.size + l.B.size, 0);
    return { dir, sites, trainable, ignored };
  } finally {
    file.close();
  }
}

function readChecked(file: SafetensorsFile, key: string, shape: number[]): Float32Array {
  const t = file.read(key);
  if (t.dtype !== 'float32') throw new LogolabError(`${file.path}: tensor '${key}': expected a float tensor`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new LogolabError(`${file.path}: tensor '${key}': shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)} (rank from ${ADAPTER_CONFIG} r/rank_pattern)`);
  }
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) throw new LogolabError(`${file.path}: tensor '${key}': non-finite value at index ${i}`);
  return d;
}

export interface SaveAdapterOptions {
  /** base_model_name_or_path (default: the model's folder); null where no loader could fetch the base */
  baseModel?: string | null;
  /** revision: the base's hub commit, which peft passes to from_pretrained with base_model_name_or_path */
  revision?: string | null;
  /** the config the adapters were created with: writes its lora_alpha/use_rslora verbatim */
  config?: LoraConfig;
}

const mostCommon = (xs: number[]) => {
  const n = new Map<number, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0]![0];
};

/** The adapter_config.json peft needs to rebuild exactly these adapters. */
export function peftConfigFor(model: LoraHost, table: PeftKeyTable, opts: SaveAdapterOptions = {}): Record<string, unknown> {
  const sites = activeSites(model);
  if (!sites.length) throw new LogolabError('saveAdapter: the model has no LoRA adapter');
  const rs = opts.config?.use_rslora ?? false;
  const info = sites.map((s) => {
    const r = s.lora.A.shape[1]!;
    const module = table.moduleOf(s.layer, s.target);
    // alpha that reproduces the scaling exactly (alpha = scaling·r, or ·√r with rsLoRA)
    const alpha = opts.config && loraScaling(opts.config.r, opts.config.lora_alpha, rs) === s.lora.scaling && opts.config.r === r ? opts.config.lora_alpha : rs ? s.lora.scaling * Math.sqrt(r) : s.lora.scaling * r;
    return { ...s, r, module, alpha, leaf: module.slice(module.lastIndexOf('.') + 1) };
  });
  const r = mostCommon(info.map((i) => i.r));
  const alpha = mostCommon(info.map((i) => i.alpha));
  const rank_pattern: Record<string, number> = {};
  const alpha_pattern: Record<string, number> = {};
  for (const i of info) {
    if (i.r !== r) rank_pattern[i.module] = i.r;
    if (i.alpha !== alpha) alpha_pattern[i.module] = i.alpha;
  }
  // Prefer peft's usual form (leaf names × layer list); fall back to full module paths when the
  // adapted sites are not such a product (or leaf names would select more modules than adapted).
  const layers = [...new Set(info.map((i) => i.layer))].sort((a, b) => a - b);
  const leaves = [...new Set(info.map((i) => i.leaf))].sort();
  const adapted = new Set(info.map((i) => i.module));
  const product = table.entries
    .filter((e) => e.which === 'A' && layers.includes(e.layer) && leaves.some((t) => e.module.endsWith(`.${t}`)))
    .every((e) => adapted.has(e.module));
  const m = /\.([^.]+)\.\d+\./.exec(info[0]!.module);
  return {
    alpha_pattern,
    auto_mapping: hfBaseClass(model),
    base_model_name_or_path: opts.baseModel !== undefined ? opts.baseModel : model.dir ?? null,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: product ? (m ? m[1] : null) : null,
    layers_to_transform: product ? layers : null,
    loftq_config: {},
    lora_alpha: alpha,
    lora_dropout: Math.max(...sites.map((s) => s.lora.dropout)),
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern,
    revision: opts.revision ?? null,
    target_modules: product ? leaves : [...adapted].sort(),
    task_type: null,
    use_dora: false,
    use_rslora: rs,
  };
}

/**
 * Writes the model's active adapters as a peft adapter folder (each file atomically; the
 * config last, so a folder with a config always has its weights).
 */
export function saveAdapter(model: LoraHost, dir: string, opts: SaveAdapterOptions = {}): { keys: string[]; trainable: number } {
  const table = peftKeyTable(model);
  const config = peftConfigFor(model, table, opts);
  const tensors = new Map<string, WriteTensor>();
  let trainable = 0;
  for (const e of table.entries) {
    const l = model.layers[e.layer]![e.target].lora;
    if (!l) continue;
    // A [in, r] → lora_A.weight [r, in]; B [r, out] → lora_B.weight [out, r]
    const v = e.which === 'A' ? l.A : l.B;
    const t = tf.tidy(() => v.transpose());
    const data = t.dataSync() as Float32Array;
    tensors.set(e.key, { shape: t.shape, data: Float32Array.from(data) });
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) {
      t.dispose();
      throw new LogolabError(`saveAdapter: layer ${e.layer} ${e.target} lora_${e.which} has non-finite values; refusing to save`);
    }
    t.dispose();
    trainable += data.length;
  }
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  writeJsonAtomic(join(dir, ADAPTER_CONFIG), config);
  return { keys: [...tensors.keys()].sort(), trainable };
}
