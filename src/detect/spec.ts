/**
 * The explicit key map of a DetrForObjectDetection checkpoint: every tensor name (as stored by HF
 * `save_pretrained`) with its shape, derived from the config alone. The loader asserts a checkpoint
 * against it (missing keys, shape mismatches, leftovers) and the model builder reads only these keys.
 *
 * Backbone naming differs by flavour (see config.ts); everything after the backbone is shared.
 */
import type { DetrConfig } from './config.js';

export const BACKBONE_PREFIX = 'model.backbone.conv_encoder.model.';
export const BN_SUFFIXES = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** One convolution followed by a frozen BatchNorm (folded into the conv at load). */
export interface ConvBnSpec {
  conv: string; // weight key, [out, in, k, k], no bias
  bn: string; // key prefix of weight/bias/running_mean/running_var
  inC: number;
  outC: number;
  k: number;
  stride: number;
  pad: number;
}

export interface BottleneckSpec {
  c1: ConvBnSpec; // 1×1 reduce
  c2: ConvBnSpec; // 3×3
  c3: ConvBnSpec; // 1×1 expand (no activation before the residual add)
  down: ConvBnSpec | null; // projection shortcut
}

export interface BackboneSpec {
  stem: ConvBnSpec; // 7×7 stride 2, then relu + 3×3/2 max-pool
  stages: BottleneckSpec[][];
}

function convBn(conv: string, bn: string, inC: number, outC: number, k: number, stride: number): ConvBnSpec {
  return { conv: BACKBONE_PREFIX + conv, bn: BACKBONE_PREFIX + bn, inC, outC, k, stride, pad: Math.floor(k / 2) };
}

export function backboneSpec(cfg: DetrConfig): BackboneSpec {
  const b = cfg.backbone;
  const timm = b.kind === 'timm';
  const stem = timm ? convBn('conv1.weight', 'bn1', 3, b.stemChannels, 7, 2) : convBn('embedder.embedder.convolution.weight', 'embedder.embedder.normalization', 3, b.stemChannels, 7, 2);
  const stages: BottleneckSpec[][] = [];
  let inC = b.stemChannels;
  for (let s = 0; s < b.depths.length; s++) {
    const blocks: BottleneckSpec[] = [];
    const out = b.outChannels[s]!;
    const mid = b.midChannels[s]!;
    for (let i = 0; i < b.depths[s]!; i++) {
      const stride = i === 0 ? b.strides[s]! : 1;
      const s1 = b.strideOnFirst1x1 ? stride : 1;
      const s2 = b.strideOnFirst1x1 ? 1 : stride;
      const needDown = inC !== out || stride !== 1;
      if (timm) {
        const p = `layer${s + 1}.${i}.`;
        blocks.push({
          c1: convBn(`${p}conv1.weight`, `${p}bn1`, inC, mid, 1, s1),
          c2: convBn(`${p}conv2.weight`, `${p}bn2`, mid, mid, 3, s2),
          c3: convBn(`${p}conv3.weight`, `${p}bn3`, mid, out, 1, 1),
          down: needDown ? convBn(`${p}downsample.0.weight`, `${p}downsample.1`, inC, out, 1, stride) : null,
        });
      } else {
        const p = `encoder.stages.${s}.layers.${i}.`;
        blocks.push({
          c1: convBn(`${p}layer.0.convolution.weight`, `${p}layer.0.normalization`, inC, mid, 1, s1),
          c2: convBn(`${p}layer.1.convolution.weight`, `${p}layer.1.normalization`, mid, mid, 3, s2),
          c3: convBn(`${p}layer.2.convolution.weight`, `${p}layer.2.normalization`, mid, out, 1, 1),
          down: needDown ? convBn(`${p}shortcut.convolution.weight`, `${p}shortcut.normalization`, inC, out, 1, stride) : null,
        });
      }
      inC = out;
    }
    stages.push(blocks);
  }
  return { stem, stages };
}

function addConvBn(m: Map<string, number[]>, c: ConvBnSpec): void {
  m.set(c.conv, [c.outC, c.inC, c.k, c.k]);
  for (const s of BN_SUFFIXES) m.set(`${c.bn}.${s}`, [c.outC]);
}

function addLinear(m: Map<string, number[]>, name: string, inF: number, outF: number): void {
  m.set(`${name}.weight`, [outF, inF]);
  m.set(`${name}.bias`, [outF]);
}

function addNorm(m: Map<string, number[]>, name: string, d: number): void {
  m.set(`${name}.weight`, [d]);
  m.set(`${name}.bias`, [d]);
}

/** The projections of an attention module, in checkpoint order. */
export const ATTENTION_PROJECTIONS = ['k_proj', 'v_proj', 'q_proj', 'out_proj'] as const;

function addAttn(m: Map<string, number[]>, name: string, d: number): void {
  for (const p of ATTENTION_PROJECTIONS) addLinear(m, `${name}.${p}`, d, d);
}

/**
 * The transformer layers' modules, one layout per layer kind, in checkpoint order: module name (HF's,
 * also the field of EncoderLayerW / DecoderLayerW) → kind. The key map, the weight builder and
 * dispose (weights.ts) all walk these, so each module name is written once.
 */
export type ModuleKind = 'attention' | 'norm' | 'ffn_in' | 'ffn_out';
export const ENCODER_LAYERS = 'model.encoder.layers';
export const DECODER_LAYERS = 'model.decoder.layers';
export const ENCODER_LAYER = [
  ['self_attn', 'attention'], ['self_attn_layer_norm', 'norm'], ['fc1', 'ffn_in'], ['fc2', 'ffn_out'], ['final_layer_norm', 'norm'],
] as const satisfies readonly (readonly [string, ModuleKind])[];
export const DECODER_LAYER = [
  ['self_attn', 'attention'], ['self_attn_layer_norm', 'norm'], ['encoder_attn', 'attention'], ['encoder_attn_layer_norm', 'norm'],
  ['fc1', 'ffn_in'], ['fc2', 'ffn_out'], ['final_layer_norm', 'norm'],
] as const satisfies readonly (readonly [string, ModuleKind])[];
/** The heads after the decoder: the classifier and the 3-layer box MLP. */
export const BBOX_LAYERS = 3;

function addLayer(m: Map<string, number[]>, p: string, layout: readonly (readonly [string, ModuleKind])[], d: number, ffn: number): void {
  for (const [mod, kind] of layout) {
    const name = `${p}.${mod}`;
    if (kind === 'attention') addAttn(m, name, d);
    else if (kind === 'norm') addNorm(m, name, d);
    else if (kind === 'ffn_in') addLinear(m, name, d, ffn);
    else addLinear(m, name, ffn, d);
  }
}

/** Every checkpoint key with its shape (PyTorch layout, as on disk). */
export function detrKeySpec(cfg: DetrConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const bb = backboneSpec(cfg);
  addConvBn(m, bb.stem);
  for (const st of bb.stages) for (const b of st) for (const c of [b.c1, b.c2, b.c3, b.down]) if (c) addConvBn(m, c);
  const d = cfg.dModel;
  const lastC = cfg.backbone.outChannels[cfg.backbone.outChannels.length - 1]!;
  m.set('model.query_position_embeddings.weight', [cfg.numQueries, d]);
  m.set('model.input_projection.weight', [d, lastC, 1, 1]);
  m.set('model.input_projection.bias', [d]);
  for (let i = 0; i < cfg.encoderLayers; i++) addLayer(m, `${ENCODER_LAYERS}.${i}`, ENCODER_LAYER, d, cfg.encoderFfn);
  for (let i = 0; i < cfg.decoderLayers; i++) addLayer(m, `${DECODER_LAYERS}.${i}`, DECODER_LAYER, d, cfg.decoderFfn);
  addNorm(m, 'model.decoder.layernorm', d);
  addLinear(m, 'class_labels_classifier', d, cfg.numLabels + 1);
  for (let i = 0; i < BBOX_LAYERS; i++) addLinear(m, `bbox_predictor.layers.${i}`, d, i === BBOX_LAYERS - 1 ? 4 : d);
  return m;
}

/** Keys a checkpoint may hold that the model does not use (ignored silently, still listed). */
export function isIgnorableKey(k: string): boolean {
  return k.endsWith('.num_batches_tracked');
}
