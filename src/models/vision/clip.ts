/**
 * CLIP vision tower (HF CLIPVisionTransformer + visual_projection):
 *   embeddings = [class_embedding; patch_conv(pixels) (no bias)] + position_embedding → pre_layrnorm
 *                (positions bicubic-interpolated for other input sizes: interpolate.ts)
 *   encoder    = pre-LN layers (quick_gelu or as config says)
 *   last_hidden_state = encoder output (no final norm); pooler_output = post_layernorm(token 0)
 *   image_embeds = pooler_output · visual_projectionᵀ (no bias), or pooler_output if absent.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm, type LayerNormParams } from '../layers.js';
import type { EncoderLayer } from './blocks.js';
import type { VisionConfig } from './config.js';
import { PositionInterpolator } from './interpolate.js';
import { buildLayers, layerEntries, namedFromKeyMap, towerTensors, type LayerLayout } from './layer-layout.js';
import { checkPixels, firstToken, norm, patchify, take, type FamilyDef, type Layout, type VisionTower } from './tower.js';
import { entry, layerNormEntries, type KeyEntry } from './weights.js';

/** CLIP's (and SigLIP's) encoder layer: `encoder.layers.i.self_attn.q_proj`, ... */
export const CLIP_LAYER: LayerLayout = {
  root: 'encoder.layers',
  paths: {
    q_proj: 'self_attn.q_proj', k_proj: 'self_attn.k_proj', v_proj: 'self_attn.v_proj', out_proj: 'self_attn.out_proj',
    fc1: 'mlp.fc1', fc2: 'mlp.fc2', layer_norm1: 'layer_norm1', layer_norm2: 'layer_norm2',
  },
  order: ['k_proj', 'v_proj', 'q_proj', 'out_proj', 'layer_norm1', 'fc1', 'fc2', 'layer_norm2'],
  qkvBias: true,
};

const VISION_PREFIXES = ['vision_model.', '', 'clip.vision_model.', 'model.vision_model.'];

export const clipFamily: FamilyDef = {
  detect(keys) {
    const prefix = VISION_PREFIXES.find((p) => keys.has(`${p}embeddings.class_embedding`));
    if (prefix === undefined) return null;
    const root = prefix.endsWith('vision_model.') ? prefix.slice(0, -'vision_model.'.length) : prefix;
    const projectionKey = keys.has(`${root}visual_projection.weight`) ? `${root}visual_projection.weight` : null;
    return { prefix, projectionKey };
  },

  canonicalLayout(c) {
    return { prefix: 'vision_model.', projectionKey: c.projection_dim !== null ? 'visual_projection.weight' : null };
  },

  keyMap: clipKeyMap,

  build(c, w) {
    return new ClipTower(c, w);
  },
};

/** CLIP's key map (canonical name ← checkpoint key under `layout`). */
function clipKeyMap(c: VisionConfig, layout: Layout): KeyEntry[] {
  const p = layout.prefix;
  const d = c.hidden_size;
  const out: KeyEntry[] = [
    entry('embeddings.class_embedding', `${p}embeddings.class_embedding`, [d]),
    entry('embeddings.patch_embedding.weight', `${p}embeddings.patch_embedding.weight`, [d, c.num_channels, c.patch_size, c.patch_size], 'conv'),
    entry('embeddings.position_embedding.weight', `${p}embeddings.position_embedding.weight`, [Math.floor(c.image_size / c.patch_size) ** 2 + 1, d]),
    ...layerNormEntries('pre_layrnorm', p, d),
    ...layerEntries(c, p, CLIP_LAYER),
    ...layerNormEntries('post_layernorm', p, d),
  ];
  if (c.projection_dim !== null) {
    out.push(entry('visual_projection.weight', layout.projectionKey ?? 'visual_projection.weight', [c.projection_dim, d], 'linear'));
  }
  return out;
}

class ClipTower implements VisionTower {
  layers: EncoderLayer[];
  private readonly classEmbedding: tf.Tensor1D;
  private readonly patchWeight: tf.Tensor4D;
  private readonly positionEmbedding: tf.Tensor2D;
  private readonly preLayrnorm: LayerNormParams;
  private readonly postLayernorm: LayerNormParams;
  private readonly projection: tf.Tensor2D | null;
  /** the position table, bicubic-resized for inputs other than image_size (HF interpolate_pos_encoding) */
  private readonly positions: PositionInterpolator;
  /** tensors outside the layers, by canonical name */
  private readonly top: Map<string, tf.Tensor>;

  constructor(private readonly c: VisionConfig, w: Map<string, tf.Tensor>) {
    this.top = towerTensors(w, CLIP_LAYER);
    this.classEmbedding = take(w, 'embeddings.class_embedding');
    this.patchWeight = take(w, 'embeddings.patch_embedding.weight');
    this.positionEmbedding = take(w, 'embeddings.position_embedding.weight');
    this.preLayrnorm = norm(w, 'pre_layrnorm', c.layer_norm_eps);
    this.postLayernorm = norm(w, 'post_layernorm', c.layer_norm_eps);
    this.projection = c.projection_dim !== null ? take<tf.Tensor2D>(w, 'visual_projection.weight') : null;
    this.layers = buildLayers(c, w, CLIP_LAYER);
    this.positions = new PositionInterpolator(this.positionEmbedding, 1, 'clip');
  }

  embeddings(pixels: tf.Tensor4D): tf.Tensor3D {
    checkPixels(pixels, this.c, false);
    const [, , height, width] = pixels.shape;
    const pos = this.positions.forGrid(Math.floor(height / this.c.patch_size), Math.floor(width / this.c.patch_size), height, width); // [1+h·w, D]
    return tf.tidy(() => {
      const patches = patchify(pixels, this.patchWeight, null, this.c.patch_size); // [B, h·w, D]
      const b = patches.shape[0];
      const cls = tf.broadcastTo(this.classEmbedding.reshape([1, 1, -1]), [b, 1, this.c.hidden_size]);
      const x = tf.add(tf.concat([cls, patches], 1), pos); // [B, 1+h·w, D]
      return layerNorm(x, this.preLayrnorm) as tf.Tensor3D;
    });
  }

  pool(hidden: tf.Tensor3D) {
    return tf.tidy(() => ({ lastHiddenState: hidden.clone(), poolerOutput: layerNorm(firstToken(hidden), this.postLayernorm) as tf.Tensor2D }));
  }

  project(pooler: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => (this.projection ? tf.matMul(pooler, this.projection) : pooler.clone()));
  }

  named(): [string, tf.Tensor][] {
    return namedFromKeyMap(clipKeyMap(this.c, { prefix: '', projectionKey: null }), this.top, this.layers, CLIP_LAYER);
  }

  dispose(): void {
    for (const [, t] of this.named()) t.dispose();
    for (const l of this.layers) l.dispose();
    this.positions.dispose();
  }
}
