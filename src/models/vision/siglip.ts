/**
 * SigLIP vision tower (HF SiglipVisionTransformer):
 *   embeddings = patch_conv(pixels) (with bias) + position_embedding   (no class token; positions
 *                bicubic-interpolated for other input sizes: interpolate.ts)
 *   encoder    = pre-LN layers (CLIP naming), gelu tanh approximation
 *   last_hidden_state = post_layernorm(encoder output)
 *   pooler_output = attention-pool head (`head.*`): probe attends over last_hidden_state through
 *     torch nn.MultiheadAttention (packed in_proj [3D, D]), then h + mlp(layernorm(h)), token 0.
 *   No projection: image_embeds = pooler_output.
 */
import * as tf from '@tensorflow/tfjs';
import { applyLinear, layerNorm, type LayerNormParams, type Linear } from '../layers.js';
import { activation, multiHeadAttention, type EncoderLayer } from './blocks.js';
import { CLIP_LAYER } from './clip.js';
import { buildLayers, layerEntries, namedFromKeyMap, towerTensors } from './layer-layout.js';
import type { VisionConfig } from './config.js';
import { PositionInterpolator } from './interpolate.js';
import { checkPixels, firstToken, linear, norm, patchify, take, type FamilyDef, type Layout, type VisionTower } from './tower.js';
import { entry, layerNormEntries, linearEntries, type KeyEntry } from './weights.js';

const PREFIXES = ['', 'vision_model.', 'model.vision_model.'];

export const siglipFamily: FamilyDef = {
  detect(keys) {
    const prefix = PREFIXES.find((p) => keys.has(`${p}embeddings.patch_embedding.weight`) && keys.has(`${p}post_layernorm.weight`) && !keys.has(`${p}embeddings.class_embedding`));
    return prefix === undefined ? null : { prefix };
  },

  canonicalLayout() {
    return { prefix: 'vision_model.' };
  },

  keyMap: siglipKeyMap,

  build(c, w) {
    return new SiglipTower(c, w);
  },
};

/** SigLIP's key map (canonical name ← checkpoint key under `layout`); the layers are CLIP's. */
function siglipKeyMap(c: VisionConfig, layout: Layout): KeyEntry[] {
  const p = layout.prefix;
  const d = c.hidden_size;
  const n = Math.floor(c.image_size / c.patch_size) ** 2;
  const out: KeyEntry[] = [
    entry('embeddings.patch_embedding.weight', `${p}embeddings.patch_embedding.weight`, [d, c.num_channels, c.patch_size, c.patch_size], 'conv'),
    entry('embeddings.patch_embedding.bias', `${p}embeddings.patch_embedding.bias`, [d], 'none', 'zeros'),
    entry('embeddings.position_embedding.weight', `${p}embeddings.position_embedding.weight`, [n, d]),
    ...layerEntries(c, p, CLIP_LAYER),
    ...layerNormEntries('post_layernorm', p, d),
  ];
  if (c.use_head) {
    out.push(
      entry('head.probe', `${p}head.probe`, [1, 1, d]),
      // packed q/k/v of torch MultiheadAttention: [3D, D] → [D, 3D]
      entry('head.attention.in_proj_weight', `${p}head.attention.in_proj_weight`, [3 * d, d], 'linear'),
      entry('head.attention.in_proj_bias', `${p}head.attention.in_proj_bias`, [3 * d], 'none', 'zeros'),
      ...linearEntries('head.attention.out_proj', p, d, d),
      ...layerNormEntries('head.layernorm', p, d),
      ...linearEntries('head.mlp.fc1', p, d, c.intermediate_size),
      ...linearEntries('head.mlp.fc2', p, c.intermediate_size, d),
    );
  }
  return out;
}

interface Head {
  probe: tf.Tensor3D;
  inProjWeight: tf.Tensor2D; // [D, 3D]
  inProjBias: tf.Tensor1D; // [3D]
  q: Linear; // slices of the packed projection (views for the forward pass)
  k: Linear;
  v: Linear;
  outProj: Linear;
  layernorm: LayerNormParams;
  fc1: Linear;
  fc2: Linear;
}

class SiglipTower implements VisionTower {
  layers: EncoderLayer[];
  private readonly patchWeight: tf.Tensor4D;
  private readonly patchBias: tf.Tensor1D;
  private readonly positionEmbedding: tf.Tensor2D;
  private readonly postLayernorm: LayerNormParams;
  private readonly head: Head;
  /** the position table (no CLS row), bicubic-resized for inputs other than image_size */
  private readonly positions: PositionInterpolator;
  /** tensors outside the layers, by canonical name */
  private readonly top: Map<string, tf.Tensor>;

  constructor(private readonly c: VisionConfig, w: Map<string, tf.Tensor>) {
    const d = c.hidden_size;
    this.top = towerTensors(w, CLIP_LAYER);
    this.patchWeight = take(w, 'embeddings.patch_embedding.weight');
    this.patchBias = take(w, 'embeddings.patch_embedding.bias');
    this.positionEmbedding = take(w, 'embeddings.position_embedding.weight');
    this.postLayernorm = norm(w, 'post_layernorm', c.layer_norm_eps);
    this.layers = buildLayers(c, w, CLIP_LAYER);
    this.positions = new PositionInterpolator(this.positionEmbedding, 0, 'siglip');
    const inW = take<tf.Tensor2D>(w, 'head.attention.in_proj_weight');
    const inB = take<tf.Tensor1D>(w, 'head.attention.in_proj_bias');
    const part = (i: number): Linear => ({ weight: inW.slice([0, i * d], [d, d]), bias: inB.slice([i * d], [d]), lora: null });
    this.head = {
      probe: take(w, 'head.probe'),
      inProjWeight: inW,
      inProjBias: inB,
      q: part(0),
      k: part(1),
      v: part(2),
      outProj: linear(w, 'head.attention.out_proj'),
      layernorm: norm(w, 'head.layernorm', c.layer_norm_eps),
      fc1: linear(w, 'head.mlp.fc1'),
      fc2: linear(w, 'head.mlp.fc2'),
    };
  }

  embeddings(pixels: tf.Tensor4D): tf.Tensor3D {
    checkPixels(pixels, this.c, false);
    const [, , height, width] = pixels.shape;
    const pos = this.positions.forGrid(Math.floor(height / this.c.patch_size), Math.floor(width / this.c.patch_size), height, width); // [h·w, D]
    return tf.tidy(() => tf.add(patchify(pixels, this.patchWeight, this.patchBias, this.c.patch_size), pos) as tf.Tensor3D);
  }

  pool(hidden: tf.Tensor3D) {
    return tf.tidy(() => {
      const last = layerNorm(hidden, this.postLayernorm) as tf.Tensor3D;
      const h = this.head;
      const b = last.shape[0];
      const probe = tf.broadcastTo(h.probe, [b, 1, this.c.hidden_size]) as tf.Tensor3D;
      const q = applyLinear(probe, h.q) as tf.Tensor3D;
      const k = applyLinear(last, h.k) as tf.Tensor3D;
      const v = applyLinear(last, h.v) as tf.Tensor3D;
      const attn = applyLinear(multiHeadAttention(q, k, v, this.c.num_attention_heads), h.outProj) as tf.Tensor3D; // [B, 1, D]
      const mlp = applyLinear(activation(applyLinear(layerNorm(attn, h.layernorm), h.fc1), this.c.hidden_act), h.fc2);
      return { lastHiddenState: last, poolerOutput: firstToken(tf.add(attn, mlp) as tf.Tensor3D) };
    });
  }

  project(pooler: tf.Tensor2D): tf.Tensor2D {
    return pooler.clone();
  }

  named(): [string, tf.Tensor][] {
    return namedFromKeyMap(siglipKeyMap(this.c, { prefix: '' }), this.top, this.layers, CLIP_LAYER);
  }

  dispose(): void {
    for (const [, t] of this.named()) t.dispose();
    for (const l of this.layers) l.dispose();
    for (const p of [this.head.q, this.head.k, this.head.v]) {
      p.weight.dispose();
      p.bias?.dispose();
    }
    this.positions.dispose();
  }
}
