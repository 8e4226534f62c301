/**
 * One canonical layout per family for the encoder layers: where each part of an EncoderLayer sits
 * in the family's checkpoints (`encoder.layers.3.self_attn.q_proj` for CLIP / SigLIP,
 * `encoder.layer.3.attention.attention.query` for DINOv2). The key map entries, the loaded layers,
 * their peft module paths (`hfModules`) and the canonical names of `named()` all derive from it, so
 * a module name is written once per family.
 */
import type * as tf from '@tensorflow/tfjs';
import { EncoderLayer } from './blocks.js';
import type { VisionConfig } from './config.js';
import { linear, norm, take } from './tower.js';
import { entry, layerNormEntries, linearEntries, type KeyEntry } from './weights.js';

export type LinearPart = 'q_proj' | 'k_proj' | 'v_proj' | 'out_proj' | 'fc1' | 'fc2';
export type LayerPart = LinearPart | 'layer_norm1' | 'layer_norm2' | 'layer_scale1' | 'layer_scale2';
const LINEAR_PARTS: readonly LinearPart[] = ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'];

export interface LayerLayout {
  /** module path of the layer list inside the tower; layer i is `${root}.${i}` */
  root: string;
  /** our part → its module path inside a layer (LayerScale only where the family has it) */
  paths: Record<Exclude<LayerPart, 'layer_scale1' | 'layer_scale2'>, string> & Partial<Record<'layer_scale1' | 'layer_scale2', string>>;
  /** the parts in the order the family's key map lists them */
  order: readonly LayerPart[];
  /** whether q/k/v have biases */
  qkvBias: boolean;
}

const layerPath = (lay: LayerLayout, i: number, part: LayerPart): string => `${lay.root}.${i}.${lay.paths[part]}`;

/** Key map entries of every encoder layer (checkpoint prefix `p`). */
export function layerEntries(c: VisionConfig, p: string, lay: LayerLayout): KeyEntry[] {
  const d = c.hidden_size;
  // SwiGLU (DINOv2-giant): weights_in projects to both halves [x1; x2] (2·intermediate), weights_out from one
  const fc1Out = c.use_swiglu_ffn ? 2 * c.intermediate_size : c.intermediate_size;
  const out: KeyEntry[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    for (const part of lay.order) {
      const m = layerPath(lay, i, part);
      if (part === 'q_proj' || part === 'k_proj' || part === 'v_proj') out.push(...linearEntries(m, p, d, d, lay.qkvBias));
      else if (part === 'out_proj') out.push(...linearEntries(m, p, d, d));
      else if (part === 'fc1') out.push(...linearEntries(m, p, d, fc1Out));
      else if (part === 'fc2') out.push(...linearEntries(m, p, c.intermediate_size, d));
      else if (part === 'layer_norm1' || part === 'layer_norm2') out.push(...layerNormEntries(m, p, d));
      else out.push(entry(m, `${p}${m}`, [d], 'none', { constant: c.layerscale_value ?? 1 }));
    }
  }
  return out;
}

/** The encoder layers from canonical-named tensors. */
export function buildLayers(c: VisionConfig, w: Map<string, tf.Tensor>, lay: LayerLayout): EncoderLayer[] {
  const layers: EncoderLayer[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const path = (part: LayerPart) => layerPath(lay, i, part);
    const lin = (f: LinearPart) => linear(w, path(f), f === 'out_proj' || f === 'fc1' || f === 'fc2' || lay.qkvBias);
    const scale = (s: 'layer_scale1' | 'layer_scale2') => (lay.paths[s] ? take<tf.Tensor1D>(w, path(s)) : null);
    const hfModules = Object.fromEntries(LINEAR_PARTS.map((f) => [path(f), f])) as EncoderLayer['hfModules'];
    layers.push(
      new EncoderLayer(
        {
          q_proj: lin('q_proj'), k_proj: lin('k_proj'), v_proj: lin('v_proj'), out_proj: lin('out_proj'), fc1: lin('fc1'), fc2: lin('fc2'),
          layer_norm1: norm(w, path('layer_norm1'), c.layer_norm_eps),
          layer_norm2: norm(w, path('layer_norm2'), c.layer_norm_eps),
          layer_scale1: scale('layer_scale1'),
          layer_scale2: scale('layer_scale2'),
        },
        { index: i, numHeads: c.num_attention_heads, act: c.use_swiglu_ffn ? 'swiglu' : c.hidden_act, hfModules },
      ),
    );
  }
  return layers;
}

/** Tensors of the layers under their canonical names (`${root}.i.<module path>.<tensor>`). */
export function layerNamed(layers: EncoderLayer[], lay: LayerLayout): [string, tf.Tensor][] {
  const out: [string, tf.Tensor][] = [];
  for (const l of layers) {
    for (const [n, t] of l.named()) {
      // EncoderLayer.named(): '<part>.<tensor>' ('q_proj.weight') or '<part>' (layer_scale1)
      const dot = n.indexOf('.');
      const part = (dot < 0 ? n : n.slice(0, dot)) as LayerPart;
      out.push([`${layerPath(lay, l.index, part)}${dot < 0 ? '' : n.slice(dot)}`, t]);
    }
  }
  return out;
}

/**
 * A tower's `named()`: its key map's canonical names in order, the tower-level tensors from `top`
 * and, where the layers' entries are, each layer's tensors from the layer objects (LoRA and full
 * training act on those).
 */
export function namedFromKeyMap(entries: KeyEntry[], top: Map<string, tf.Tensor>, layers: EncoderLayer[], lay: LayerLayout): [string, tf.Tensor][] {
  const out: [string, tf.Tensor][] = [];
  let layersDone = false;
  for (const e of entries) {
    if (e.name.startsWith(`${lay.root}.`)) {
      if (!layersDone) out.push(...layerNamed(layers, lay));
      layersDone = true;
    } else {
      const t = top.get(e.name);
      if (t) out.push([e.name, t]);
      else throw new Error(`internal: weight '${e.name}' not loaded`);
    }
  }
  return out;
}

/** The tower-level tensors (everything outside the layers), by canonical name. */
export function towerTensors(w: Map<string, tf.Tensor>, lay: LayerLayout): Map<string, tf.Tensor> {
  return new Map([...w].filter(([n]) => !n.startsWith(`${lay.root}.`)));
}
