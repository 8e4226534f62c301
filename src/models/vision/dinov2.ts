/**
 * DINOv2 (HF Dinov2Model):
 *   embeddings = [cls_token; patch_conv(pixels) (with bias)] + position_embeddings, the patch grid
 *                bicubic-interpolated (interpolate.ts) when the input is not the config image_size
 *   encoder    = pre-LN layers with LayerScale (x + λ1·attn, x + λ2·mlp), gelu; or, with
 *                use_swiglu_ffn (dinov2-giant), the SwiGLU MLP weights_out(silu(x1)·x2) where
 *                [x1, x2] = weights_in(x) split in halves (blocks.ts 'swiglu', in the fc1/fc2 slots)
 *   last_hidden_state = layernorm(encoder output); pooler_output = its CLS token; no projection.
 * `embeddings.mask_token` (masked-image pretraining only) is not used at inference and is reported
 * as unused.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm, type LayerNormParams } from '../layers.js';
import type { EncoderLayer } from './blocks.js';
import type { VisionConfig } from './config.js';
import { PositionInterpolator } from './interpolate.js';
import { buildLayers, layerEntries, namedFromKeyMap, towerTensors, type LayerLayout } from './layer-layout.js';
import { checkPixels, firstToken, norm, patchify, take, type FamilyDef, type Layout, type VisionTower } from './tower.js';
import { entry, layerNormEntries, type KeyEntry } from './weights.js';

const PREFIXES = ['', 'dinov2.', 'model.'];

/** DINOv2's encoder layer: `encoder.layer.i.attention.attention.query`, ..., with LayerScale. */
const DINOV2_LAYER: LayerLayout = {
  root: 'encoder.layer',
  paths: {
    q_proj: 'attention.attention.query', k_proj: 'attention.attention.key', v_proj: 'attention.attention.value', out_proj: 'attention.output.dense',
    fc1: 'mlp.fc1', fc2: 'mlp.fc2', layer_norm1: 'norm1', layer_norm2: 'norm2', layer_scale1: 'layer_scale1.lambda1', layer_scale2: 'layer_scale2.lambda1',
  },
  order: ['layer_norm1', 'q_proj', 'k_proj', 'v_proj', 'out_proj', 'layer_scale1', 'layer_norm2', 'fc1', 'fc2', 'layer_scale2'],
  qkvBias: true,
};

/** The layout of a config: the SwiGLU MLP (Dinov2SwiGLUFFN) names its linears weights_in/out; q/k/v biases as configured. */
function dinov2Layer(c: VisionConfig): LayerLayout {
  const paths = c.use_swiglu_ffn ? { ...DINOV2_LAYER.paths, fc1: 'mlp.weights_in', fc2: 'mlp.weights_out' } : DINOV2_LAYER.paths;
  return { ...DINOV2_LAYER, paths, qkvBias: c.qkv_bias };
}

export const dinov2Family: FamilyDef = {
  detect(keys) {
    const prefix = PREFIXES.find((p) => keys.has(`${p}embeddings.cls_token`));
    return prefix === undefined ? null : { prefix };
  },

  canonicalLayout() {
    return { prefix: '' };
  },

  keyMap: dinov2KeyMap,

  build(c, w) {
    return new Dinov2Tower(c, w);
  },
};

/** DINOv2's key map (canonical name ← checkpoint key under `layout`). */
function dinov2KeyMap(c: VisionConfig, layout: Layout): KeyEntry[] {
  const p = layout.prefix;
  const d = c.hidden_size;
  const grid = Math.floor(c.image_size / c.patch_size);
  return [
    entry('embeddings.cls_token', `${p}embeddings.cls_token`, [1, 1, d]),
    entry('embeddings.position_embeddings', `${p}embeddings.position_embeddings`, [1, grid * grid + 1, d]),
    entry('embeddings.patch_embeddings.projection.weight', `${p}embeddings.patch_embeddings.projection.weight`, [d, c.num_channels, c.patch_size, c.patch_size], 'conv'),
    entry('embeddings.patch_embeddings.projection.bias', `${p}embeddings.patch_embeddings.projection.bias`, [d], 'none', 'zeros'),
    ...layerEntries(c, p, dinov2Layer(c)),
    ...layerNormEntries('layernorm', p, d),
  ];
}

class Dinov2Tower implements VisionTower {
  layers: EncoderLayer[];
  private readonly clsToken: tf.Tensor3D;
  private readonly positionEmbeddings: tf.Tensor3D;
  private readonly patchWeight: tf.Tensor4D;
  private readonly patchBias: tf.Tensor1D;
  private readonly layernorm: LayerNormParams;
  /** the position table, bicubic-resized for inputs other than image_size (kept per size) */
  private readonly positions: PositionInterpolator;
  private readonly layout: LayerLayout;
  /** tensors outside the layers, by canonical name */
  private readonly top: Map<string, tf.Tensor>;

  constructor(private readonly c: VisionConfig, w: Map<string, tf.Tensor>) {
    this.clsToken = take(w, 'embeddings.cls_token');
    this.positionEmbeddings = take(w, 'embeddings.position_embeddings');
    this.patchWeight = take(w, 'embeddings.patch_embeddings.projection.weight');
    this.patchBias = take(w, 'embeddings.patch_embeddings.projection.bias');
    this.layernorm = norm(w, 'layernorm', c.layer_norm_eps);
    this.positions = new PositionInterpolator(this.positionEmbeddings, 1, 'dinov2');
    this.layout = dinov2Layer(c);
    this.top = towerTensors(w, this.layout);
    this.layers = buildLayers(c, w, this.layout);
  }

  embeddings(pixels: tf.Tensor4D): tf.Tensor3D {
    checkPixels(pixels, this.c, false);
    const [, , height, width] = pixels.shape;
    const ph = Math.floor(height / this.c.patch_size);
    const pw = Math.floor(width / this.c.patch_size);
    const pos = this.positions.forGrid(ph, pw, height, width); // [1, 1+h·w, D]
    return tf.tidy(() => {
      const patches = patchify(pixels, this.patchWeight, this.patchBias, this.c.patch_size); // [B, h·w, D]
      const b = patches.shape[0];
      const cls = tf.broadcastTo(this.clsToken, [b, 1, this.c.hidden_size]);
      return tf.add(tf.concat([cls, patches], 1), pos) as tf.Tensor3D;
    });
  }

  pool(hidden: tf.Tensor3D) {
    return tf.tidy(() => {
      const lastHiddenState = layerNorm(hidden, this.layernorm) as tf.Tensor3D;
      return { lastHiddenState, poolerOutput: firstToken(lastHiddenState) };
    });
  }

  project(pooler: tf.Tensor2D): tf.Tensor2D {
    return pooler.clone();
  }

  named(): [string, tf.Tensor][] {
    return namedFromKeyMap(dinov2KeyMap(this.c, { prefix: '' }), this.top, this.layers, this.layout);
  }

  dispose(): void {
    for (const [, t] of this.named()) t.dispose();
    for (const l of this.layers) l.dispose();
    this.positions.dispose();
  }
}
