/**
 * DETR weights: checkpoint → device tensors, nanoGPT `from_pretrained` style. The checkpoint is
 * asserted against the explicit key map (spec.ts): every key present with its exact shape; unused
 * keys are reported as leftovers. Transforms at load:
 *  - frozen BatchNorm folded into the preceding conv: W' = W·γ/√(σ²+1e-5), b' = β − μ·γ/√(σ²+1e-5)
 *    (DetrFrozenBatchNorm2d, eps 1e-5), conv filters transposed [out,in,kh,kw] → [kh,kw,in,out] (NHWC);
 *  - Linear weights pre-transposed [out,in] → [in,out] (plain matmul, the fast wasm path);
 *  - input_projection (a 1×1 conv) becomes a Linear [C, d].
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../errors.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';
import type { Linear, LayerNormParams } from '../models/layers.js';
import { disposeLinear } from '../models/layers.js';
import type { DetrConfig } from './config.js';
import {
  ATTENTION_PROJECTIONS, BBOX_LAYERS, DECODER_LAYER, DECODER_LAYERS, ENCODER_LAYER, ENCODER_LAYERS, backboneSpec, detrKeySpec, isIgnorableKey,
  type ConvBnSpec, type ModuleKind,
} from './spec.js';
import { makeRng } from '../util/rng.js';

/** Where tensors come from: a checkpoint (TensorStore) or synthesised (random/zeros). */
export interface WeightSource {
  readonly source: string;
  keys(): string[];
  shape(key: string): number[];
  read(key: string): Float32Array;
}

export interface ConvBn {
  filter: tf.Tensor4D; // [k, k, in, out], BN folded in
  bias: tf.Tensor1D; // [out]
  stride: number;
  pad: number;
}
export interface Bottleneck {
  c1: ConvBn;
  c2: ConvBn;
  c3: ConvBn;
  down: ConvBn | null;
}
export interface Attention {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
}
export interface EncoderLayerW {
  self_attn: Attention;
  self_attn_layer_norm: LayerNormParams;
  fc1: Linear;
  fc2: Linear;
  final_layer_norm: LayerNormParams;
}
export interface DecoderLayerW extends EncoderLayerW {
  encoder_attn: Attention;
  encoder_attn_layer_norm: LayerNormParams;
}
export interface DetrWeights {
  stem: ConvBn;
  stages: Bottleneck[][];
  input_projection: Linear; // [C_backbone, d]
  query_position_embeddings: tf.Tensor2D; // [Q, d]
  encoder: EncoderLayerW[];
  decoder: DecoderLayerW[];
  decoder_layernorm: LayerNormParams;
  class_labels_classifier: Linear;
  bbox_predictor: Linear[]; // 3 layers
}

export interface LoadReport {
  /** checkpoint keys the model does not use */
  leftovers: string[];
}

const LN_EPS = 1e-5;
const BN_EPS = 1e-5;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Asserts `src` against the key map; returns the leftovers. Throws on the first missing/misshapen key. */
export function checkAgainstSpec(cfg: DetrConfig, src: WeightSource): LoadReport {
  const spec = detrKeySpec(cfg);
  const have = new Set(src.keys());
  for (const [k, shape] of spec) {
    if (!have.has(k)) {
      const hint = k.startsWith('model.backbone') ? ` (backbone naming: ${cfg.backbone.kind === 'timm' ? "timm 'conv1/layerN'" : "HF ResNet 'embedder/encoder.stages'"})` : '';
      throw new LogolabError(`${src.source}: missing tensor '${k}'${hint}`);
    }
    const got = src.shape(k);
    if (!sameShape(got, shape)) throw new LogolabError(`${src.source}: tensor '${k}' has shape [${got.join(',')}], expected [${shape.join(',')}]`);
  }
  const leftovers = [...have].filter((k) => !spec.has(k)).sort();
  // a layer beyond the config's depth is not a spare tensor: dropping it runs another, shallower
  // detector (the vision loader refuses the same)
  for (const [part, depth] of [['encoder', cfg.encoderLayers], ['decoder', cfg.decoderLayers]] as const) {
    const layer = new RegExp(`(?:^|\\.)${part}\\.layers\\.(\\d+)\\.`);
    const extra = leftovers.map((k) => layer.exec(k)).filter((m) => m !== null);
    if (extra.length === 0) continue;
    const top = Math.max(...extra.map((m) => Number(m[1])));
    throw new LogolabError(`${src.source}: holds ${part} layer ${top} (${extra.length} tensors beyond the config), but config ${part}_layers is ${depth}; the detector would silently run without them`);
  }
  return { leftovers };
}

/** Builds device tensors from a source already checked with checkAgainstSpec. */
export function buildDetrWeights(cfg: DetrConfig, src: WeightSource): DetrWeights {
  const spec = detrKeySpec(cfg);
  const read = (k: string): Float32Array => {
    if (!spec.has(k)) throw new Error(`internal: key '${k}' is not in the DETR key map`);
    return src.read(k);
  };
  const created: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    created.push(t);
    return t;
  };
  const linear = (name: string): Linear => {
    const [outF, inF] = spec.get(`${name}.weight`)!;
    const w = read(`${name}.weight`);
    const wt = new Float32Array(inF! * outF!);
    for (let o = 0; o < outF!; o++) for (let i = 0; i < inF!; i++) wt[i * outF! + o] = w[o * inF! + i]!;
    return { weight: keep(tf.tensor2d(wt, [inF!, outF!])), bias: keep(tf.tensor1d(read(`${name}.bias`))), lora: null };
  };
  const norm = (name: string): LayerNormParams => ({ weight: keep(tf.tensor1d(read(`${name}.weight`))), bias: keep(tf.tensor1d(read(`${name}.bias`))), eps: LN_EPS });
  const convBn = (c: ConvBnSpec): ConvBn => {
    const w = read(c.conv);
    const gamma = read(`${c.bn}.weight`);
    const beta = read(`${c.bn}.bias`);
    const mean = read(`${c.bn}.running_mean`);
    const varr = read(`${c.bn}.running_var`);
    const { inC, outC, k } = c;
    const f = new Float32Array(k * k * inC * outC);
    const b = new Float32Array(outC);
    for (let o = 0; o < outC; o++) {
      // a negative variance gives sqrt(<0) = NaN in every folded weight of the channel
      if (!(varr[o]! + BN_EPS > 0)) throw new LogolabError(`${src.source}: tensor '${c.bn}.running_var' holds ${varr[o]} at index ${o}; a BatchNorm variance must be ≥ 0`);
      const scale = Math.fround(gamma[o]! * Math.fround(1 / Math.sqrt(Math.fround(varr[o]! + BN_EPS))));
      b[o] = beta[o]! - mean[o]! * scale;
      for (let i = 0; i < inC; i++) {
        for (let y = 0; y < k; y++) {
          for (let x = 0; x < k; x++) f[((y * k + x) * inC + i) * outC + o] = w[((o * inC + i) * k + y) * k + x]! * scale;
        }
      }
    }
    return { filter: keep(tf.tensor4d(f, [k, k, inC, outC])), bias: keep(tf.tensor1d(b)), stride: c.stride, pad: c.pad };
  };
  // read in the order q, k, v, out (the synthetic source draws its random values in read order)
  const attention = (p: string): Attention => ({ q_proj: linear(`${p}.q_proj`), k_proj: linear(`${p}.k_proj`), v_proj: linear(`${p}.v_proj`), out_proj: linear(`${p}.out_proj`) });
  const layer = <T>(p: string, layout: readonly (readonly [string, ModuleKind])[]): T =>
    Object.fromEntries(layout.map(([mod, kind]) => [mod, kind === 'attention' ? attention(`${p}.${mod}`) : kind === 'norm' ? norm(`${p}.${mod}`) : linear(`${p}.${mod}`)])) as T;
  try {
    const bb = backboneSpec(cfg);
    const stem = convBn(bb.stem);
    const stages = bb.stages.map((st) => st.map((b) => ({ c1: convBn(b.c1), c2: convBn(b.c2), c3: convBn(b.c3), down: b.down ? convBn(b.down) : null })));
    const [d, lastC] = spec.get('model.input_projection.weight')!;
    const ip = read('model.input_projection.weight'); // [d, C, 1, 1]
    const ipT = new Float32Array(lastC! * d!);
    for (let o = 0; o < d!; o++) for (let i = 0; i < lastC!; i++) ipT[i * d! + o] = ip[o * lastC! + i]!;
    const input_projection: Linear = { weight: keep(tf.tensor2d(ipT, [lastC!, d!])), bias: keep(tf.tensor1d(read('model.input_projection.bias'))), lora: null };
    const query_position_embeddings = keep(tf.tensor2d(read('model.query_position_embeddings.weight'), [cfg.numQueries, cfg.dModel]));
    const encoder: EncoderLayerW[] = [];
    for (let i = 0; i < cfg.encoderLayers; i++) encoder.push(layer<EncoderLayerW>(`${ENCODER_LAYERS}.${i}`, ENCODER_LAYER));
    const decoder: DecoderLayerW[] = [];
    for (let i = 0; i < cfg.decoderLayers; i++) decoder.push(layer<DecoderLayerW>(`${DECODER_LAYERS}.${i}`, DECODER_LAYER));
    return {
      stem,
      stages,
      input_projection,
      query_position_embeddings,
      encoder,
      decoder,
      decoder_layernorm: norm('model.decoder.layernorm'),
      class_labels_classifier: linear('class_labels_classifier'),
      bbox_predictor: Array.from({ length: BBOX_LAYERS }, (_, i) => linear(`bbox_predictor.layers.${i}`)),
    };
  } catch (e) {
    for (const t of created) t.dispose();
    throw e;
  }
}

export function disposeDetrWeights(w: DetrWeights): void {
  const conv = (c: ConvBn | null) => {
    c?.filter.dispose();
    c?.bias.dispose();
  };
  const ln = (n: LayerNormParams) => {
    n.weight.dispose();
    n.bias.dispose();
  };
  const attn = (a: Attention) => ATTENTION_PROJECTIONS.forEach((p) => disposeLinear(a[p]));
  const layer = (l: EncoderLayerW | DecoderLayerW, layout: readonly (readonly [string, ModuleKind])[]) => {
    for (const [mod, kind] of layout) {
      const m = (l as unknown as Record<string, Attention | LayerNormParams | Linear>)[mod]!;
      if (kind === 'attention') attn(m as Attention);
      else if (kind === 'norm') ln(m as LayerNormParams);
      else disposeLinear(m as Linear);
    }
  };
  conv(w.stem);
  for (const st of w.stages) for (const b of st) [b.c1, b.c2, b.c3, b.down].forEach(conv);
  disposeLinear(w.input_projection);
  w.query_position_embeddings.dispose();
  for (const l of w.encoder) layer(l, ENCODER_LAYER);
  for (const l of w.decoder) layer(l, DECODER_LAYER);
  ln(w.decoder_layernorm);
  disposeLinear(w.class_labels_classifier);
  w.bbox_predictor.forEach(disposeLinear);
}

/**
 * Synthetic weights of the right shapes (benchmarks, tests, the `detr-r50` preset): normal(0, 0.02)
 * for matrices, conv weights He-scaled so activations stay O(1) through 50 layers, BatchNorm
 * identity (γ=1, β=0, μ=0, σ²=1), LayerNorm identity, biases 0. `zeros` gives all-zero tensors
 * (shape checks without caring about values).
 */
export function syntheticSource(cfg: DetrConfig, opts: { seed?: number; zeros?: boolean; name?: string } = {}): WeightSource {
  const spec = detrKeySpec(cfg);
  const rng = makeRng(opts.seed ?? 0);
  return {
    source: opts.name ?? (opts.zeros ? 'zeros' : `random(seed=${opts.seed ?? 0})`),
    keys: () => [...spec.keys()],
    shape: (k) => {
      const s = spec.get(k);
      if (!s) throw new LogolabError(`synthetic weights: no key '${k}'`);
      return s;
    },
    read: (k) => {
      const shape = spec.get(k);
      if (!shape) throw new LogolabError(`synthetic weights: no key '${k}'`);
      const n = shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      if (opts.zeros) return out;
      const leaf = k.slice(k.lastIndexOf('.') + 1);
      const isBn = /\.(bn\d|downsample\.1|normalization)\.(weight|bias|running_mean|running_var)$/.test(k);
      const isNorm = /(layer_norm|layernorm)\.(weight|bias)$/.test(k);
      if (isBn || isNorm) {
        if (leaf === 'weight' || leaf === 'running_var') out.fill(1);
        return out;
      }
      if (leaf === 'bias') return out;
      // conv [out,in,k,k]: std = sqrt(2 / fan_in) (He); linear / embeddings: 0.02 — except the last
      // conv of each block (std scaled down) so the residual stream does not blow up over depth.
      let std = 0.02;
      if (shape.length === 4) std = Math.sqrt(2 / (shape[1]! * shape[2]! * shape[3]!)) * (/conv3|layer\.2\./.test(k) ? 0.2 : 1);
      if (k === 'model.query_position_embeddings.weight') std = 1;
      for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
      return out;
    },
  };
}

/** A WeightSource view of a loaded tensor store (safetensors). */
export function storeSource(store: { source: string; keys(): string[]; info(k: string): { shape: number[] }; read(k: string): { data: Float32Array | Int32Array; dtype: string } }): WeightSource {
  return {
    source: store.source,
    keys: () => store.keys(),
    shape: (k) => store.info(k).shape,
    read: (k) => {
      const t = store.read(k);
      if (t.dtype !== 'float32') throw new LogolabError(`${store.source}: tensor '${k}' is ${t.dtype}, expected a float tensor`);
      const i = firstNonFinite(t.data);
      if (i >= 0) throw new LogolabError(`${store.source}: tensor '${k}' holds ${nonFiniteName(t.data[i]!)} at index ${i}; refusing to load a broken checkpoint`);
      return t.data as Float32Array;
    },
  };
}

export { isIgnorableKey };
