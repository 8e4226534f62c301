/**
 * Injecting LoRA adapters into a vision model's encoder layers, merging/unmerging them, and
 * counting trainable parameters. Base weights stay plain tensors; A and B are tf.Variables.
 *
 * Layout (see ../layers.ts): A = lora_Aᵀ [in, r], B = lora_Bᵀ [r, out], so the adapted layer is
 *   y = x·Wᵀ' + b + scaling · dropout(x)·A·B     (Wᵀ' = our pre-transposed [in, out] weight)
 * which equals peft's  y = x·Wᵀ + b + scaling · lora_B(lora_A(dropout(x))).
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../errors.js';
import { makeRng } from '../../util/rng.js';
import type { Linear, LoraAdapter } from '../layers.js';
import type { EncoderLayer } from '../vision/blocks.js';
import type { VisionFamily } from '../vision/config.js';
import { LORA_TARGETS, loraScaling, resolveLayers, validateLoraConfig, type LoraConfig, type LoraTarget } from './config.js';

/** What LoRA needs of a model (a VisionModel satisfies it). */
export interface LoraHost {
  family: VisionFamily;
  layers: EncoderLayer[];
  dir?: string;
  config?: { projection_dim: number | null };
}

/** One adaptable Linear of the model. */
export interface LoraSite {
  layer: number;
  target: LoraTarget;
  linear: Linear;
}

/** Every Linear of the model that can carry an adapter, in layer order then LORA_TARGETS order. */
export function allSites(model: LoraHost): LoraSite[] {
  const out: LoraSite[] = [];
  for (const l of model.layers) for (const t of LORA_TARGETS) out.push({ layer: l.index, target: t, linear: l[t] });
  return out;
}

/** The sites that currently have an active adapter. */
export function activeSites(model: LoraHost): (LoraSite & { lora: LoraAdapter })[] {
  return allSites(model)
    .filter((s) => s.linear.lora !== null)
    .map((s) => ({ ...s, lora: s.linear.lora! }));
}

/** Adapter variables of one layer (for per-block recomputation). */
export function layerLoraVariables(layer: EncoderLayer): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const t of LORA_TARGETS) {
    const a = layer[t].lora;
    if (a) out.push(a.A, a.B);
  }
  return out;
}

export function loraVariables(model: LoraHost): tf.Variable[] {
  return model.layers.flatMap(layerLoraVariables);
}

/** Number of trainable adapter parameters (Σ r·(in + out) over adapted Linears). */
export function loraParameterCount(model: LoraHost): number {
  return loraVariables(model).reduce((s, v) => s + v.size, 0);
}

/** Parameters of the frozen base (all Linears of the layers; the rest of the tower is counted by its owner). */
export function layerParameterCount(model: LoraHost): number {
  let n = 0;
  for (const s of allSites(model)) n += s.linear.weight.size + (s.linear.bias?.size ?? 0);
  return n;
}

/** A trainable variable holding t's values; t itself is disposed (the variable keeps its own reference). */
export function newVariable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** Attaches a fresh adapter to one Linear: A ~ kaiming_uniform(a=√5) as peft (U(±1/√in)), B = 0. */
export function attachAdapter(l: Linear, r: number, scaling: number, dropout: number, rng: ReturnType<typeof makeRng>, where: string): LoraAdapter {
  if (l.lora) throw new LogolabError(`${where}: already has a LoRA adapter (remove or merge it first)`);
  const [inDim, outDim] = l.weight.shape;
  // peft: nn.init.kaiming_uniform_(lora_A.weight [r, in], a=√5) → bound = gain·√(3/fan_in) = 1/√in.
  // Drawn in peft's [r, in] order, stored transposed as A [in, r].
  const bound = 1 / Math.sqrt(inDim);
  const a = new Float32Array(inDim * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < inDim; j++) a[j * r + i] = rng.uniform(-bound, bound);
  const lora: LoraAdapter = { A: newVariable(tf.tensor2d(a, [inDim, r])), B: newVariable(tf.zeros([r, outDim])), scaling, dropout };
  l.lora = lora;
  return lora;
}

export interface AppliedLora {
  config: LoraConfig;
  layers: number[];
  /** trainable adapter parameters */
  trainable: number;
}

/** Adds adapters as the config says (validated here); returns what was adapted. */
export function applyLora(model: LoraHost, cfg: Partial<LoraConfig> | LoraConfig, source = 'lora config'): AppliedLora {
  const c = validateLoraConfig(cfg, source);
  const layers = resolveLayers(c, model.layers.length, source);
  const rng = makeRng(`lora:${c.seed}`);
  const scaling = loraScaling(c.r, c.lora_alpha, c.use_rslora);
  for (const i of layers) {
    const layer = model.layers[i]!;
    for (const t of c.target_modules) {
      const where = `layer ${i} ${t}`;
      if (layer[t].lora) throw new LogolabError(`${where}: already has a LoRA adapter (remove or merge it first)`);
    }
  }
  for (const i of layers) for (const t of c.target_modules) attachAdapter(model.layers[i]![t], c.r, scaling, c.lora_dropout, rng, `layer ${i} ${t}`);
  return { config: c, layers, trainable: loraParameterCount(model) };
}

/** Disposes and removes every adapter (base weights stay as they are, merged ones included). */
export function removeLora(model: LoraHost): void {
  for (const s of allSites(model)) {
    const a = s.linear.lora ?? merged.get(s.linear);
    if (!a) continue;
    a.A.dispose();
    a.B.dispose();
    s.linear.lora = null;
    merged.delete(s.linear);
  }
}

/** Adapters folded into the base weight by mergeLora, kept to undo it. */
const merged = new WeakMap<Linear, LoraAdapter>();

function delta(l: LoraAdapter): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(l.A, l.B), l.scaling) as tf.Tensor2D); // [in, out]
}

function assertFinite(t: tf.Tensor, what: string): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))).dataSync()[0]);
  if (bad) throw new LogolabError(`${what}: non-finite values; refusing to merge/unmerge`);
}

/**
 * W ← W + scaling·(B·A) for every active adapter (our layout: Wᵀ ← Wᵀ + scaling·A·B). The adapter
 * is detached (forward no longer adds it) but kept for unmergeLora. Refuses (before changing
 * anything) when an adapter or a merged weight would be non-finite. Returns how many were merged.
 */
export function mergeLora(model: LoraHost): number {
  return swapWeights(activeSites(model), (s) => tf.add(s.linear.weight, delta(s.lora)), 'merged', (s) => {
    merged.set(s.linear, s.lora);
    s.linear.lora = null;
  });
}

/** Undoes mergeLora: W ← W − scaling·(B·A) and re-attaches the adapters. Returns how many. */
export function unmergeLora(model: LoraHost): number {
  const sites = allSites(model).filter((s) => merged.has(s.linear));
  return swapWeights(sites, (s) => tf.sub(s.linear.weight, delta(merged.get(s.linear)!)), 'unmerged', (s) => {
    s.linear.lora = merged.get(s.linear)!;
    merged.delete(s.linear);
  });
}

/**
 * All-or-nothing weight replacement for merge/unmerge: every new weight is computed and checked
 * finite before any old one is touched, so a non-finite result leaves the model unchanged.
 */
function swapWeights<S extends LoraSite>(
  sites: S[],
  compute: (s: S) => tf.Tensor,
  what: string,
  after: (s: S) => void,
): number {
  const next: tf.Tensor2D[] = [];
  try {
    for (const s of sites) {
      const w = tf.tidy(() => compute(s) as tf.Tensor2D);
      next.push(w);
      assertFinite(w, `layer ${s.layer} ${s.target}: ${what} weight`);
    }
  } catch (e) {
    for (const t of next) t.dispose();
    throw e;
  }
  sites.forEach((s, k) => {
    s.linear.weight.dispose();
    s.linear.weight = next[k]!;
    after(s);
  });
  return sites.length;
}

/** True when some adapter of the model is merged into its base weight. */
export function hasMergedLora(model: LoraHost): boolean {
  return allSites(model).some((s) => merged.has(s.linear));
}

export interface LoraSummary {
  /** trainable adapter parameters */
  trainable: number;
  /** frozen parameters of the tower (when the model lists its tensors) */
  frozen: number | null;
  layers: number[];
  targets: LoraTarget[];
  text: string;
}

/** What is adapted and how many parameters train — for logs and reports. */
export function loraSummary(model: LoraHost & { namedTensors?(): [string, tf.Tensor][] }): LoraSummary {
  const sites = activeSites(model);
  const trainable = loraParameterCount(model);
  const frozen = model.namedTensors ? model.namedTensors().reduce((s, [, t]) => s + t.size, 0) : null;
  const layers = [...new Set(sites.map((s) => s.layer))];
  const targets = LORA_TARGETS.filter((t) => sites.some((s) => s.target === t));
  const ranks = [...new Set(sites.map((s) => s.lora.A.shape[1]))];
  const pct = frozen ? ` = ${((100 * trainable) / frozen).toFixed(3)}% of ${frozen.toLocaleString('en-US')} frozen` : '';
  const text = sites.length
    ? `LoRA r=${ranks.join('/')} on ${targets.join(',')} of layers ${layers.join(',')} (${sites.length} modules): ${trainable.toLocaleString('en-US')} trainable parameters${pct}`
    : 'no LoRA adapter';
  return { trainable, frozen, layers, targets, text };
}
