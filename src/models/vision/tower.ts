/**
 * What each family (clip.ts, dinov2.ts, siglip.ts) provides: a key map for its checkpoints and a
 * tower built from canonical-named tensors. index.ts wraps a tower into the public VisionModel.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../errors.js';
import type { LayerNormParams, Linear } from '../layers.js';
import { EncoderLayer } from './blocks.js';
import type { VisionConfig } from './config.js';
import type { KeyEntry } from './weights.js';

export interface VisionTower {
  /** pixels [B, C, H, W] (NCHW, as HF pixel_values) → tokens [B, T, D] */
  embeddings(pixels: tf.Tensor4D): tf.Tensor3D;
  layers: EncoderLayer[];
  pool(hidden: tf.Tensor3D): { lastHiddenState: tf.Tensor3D; poolerOutput: tf.Tensor2D };
  project(pooler: tf.Tensor2D): tf.Tensor2D;
  /** every frozen tensor under its canonical name (model layout), in a fixed order */
  named(): [string, tf.Tensor][];
  dispose(): void;
}

/** Where a family's tensors sit in a checkpoint: detected from the keys present. */
export interface Layout {
  /** prefix of the vision tower keys, e.g. 'vision_model.' or '' */
  prefix: string;
  /** CLIP only: full key of visual_projection.weight, or null when the checkpoint has none */
  projectionKey?: string | null;
}

export interface FamilyDef {
  /** finds the prefix from the checkpoint's keys; null when this family's keys are not there */
  detect(keys: Set<string>): Layout | null;
  keyMap(c: VisionConfig, layout: Layout): KeyEntry[];
  build(c: VisionConfig, w: Map<string, tf.Tensor>): VisionTower;
  /** the layout a converted folder (and a random model) uses */
  canonicalLayout(c: VisionConfig): Layout;
}

/** Takes a tensor out of the loaded map (internal: the key map guarantees presence). */
export function take<T extends tf.Tensor = tf.Tensor>(w: Map<string, tf.Tensor>, name: string): T {
  const t = w.get(name);
  if (!t) throw new Error(`internal: weight '${name}' not loaded`);
  return t as T;
}

export function linear(w: Map<string, tf.Tensor>, mod: string, bias = true): Linear {
  return { weight: take<tf.Tensor2D>(w, `${mod}.weight`), bias: bias ? take<tf.Tensor1D>(w, `${mod}.bias`) : null, lora: null };
}

export function norm(w: Map<string, tf.Tensor>, mod: string, eps: number): LayerNormParams {
  return { weight: take<tf.Tensor1D>(w, `${mod}.weight`), bias: take<tf.Tensor1D>(w, `${mod}.bias`), eps };
}

/** NCHW pixels → patch tokens [B, N, D] through the patch conv (filter [p, p, C, D]). */
export function patchify(pixels: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | null, patch: number): tf.Tensor3D {
  return tf.tidy(() => {
    let y: tf.Tensor4D = tf.conv2d(pixels.transpose([0, 2, 3, 1]) as tf.Tensor4D, filter, patch, 'valid'); // [B, h, w, D]
    if (bias) y = tf.add(y, bias);
    const [b, h, wd, d] = y.shape;
    return y.reshape([b, h * wd, d]);
  });
}

/** Token 0 of each sequence: [B, T, D] → [B, D] */
export function firstToken(x: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => x.slice([0, 0, 0], [-1, 1, -1]).reshape([x.shape[0], x.shape[2]]));
}

export function checkPixels(pixels: tf.Tensor4D, c: VisionConfig, exactSize: boolean): void {
  const [, ch, h, w] = pixels.shape;
  if (ch !== c.num_channels) throw new LogolabError(`pixel_values must be [B, ${c.num_channels}, H, W] (NCHW), got ${JSON.stringify(pixels.shape)}`);
  if (exactSize && (h !== c.image_size || w !== c.image_size)) {
    throw new LogolabError(`${c.family}: input image size (${h}*${w}) doesn't match model (${c.image_size}*${c.image_size})`);
  }
  if (h < c.patch_size || w < c.patch_size) throw new LogolabError(`${c.family}: input ${h}×${w} is smaller than one patch (${c.patch_size})`);
}
