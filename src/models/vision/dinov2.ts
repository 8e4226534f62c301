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
import { EncoderLayer } from './blocks.js';
import type { VisionConfig } from './config.js';
import { PositionInterpolator } from './interpolate.js';
import { checkPixels, firstToken, linear, norm, patchify, take, type FamilyDef, type VisionTower } from './tower.js';
import { entry, layerNormEntries, linearEntries, type KeyEntry } from './weights.js';

const PREFIXES = ['', 'dinov2.', 'model.'];

/** Our Linear field → DINOv2's module path inside `encoder.layer.i`. */
const LAYER_MODULES = {
  q_proj: 'attention.attention.query',
  k_proj: 'attention.attention.key',
  v_proj: 'attention.attention.value',
  out_proj: 'attention.output.dense',
  fc1: 'mlp.fc1',
  fc2: 'mlp.fc2',
} as const;

/** The module paths of a config: the SwiGLU MLP (Dinov2SwiGLUFFN) names its linears weights_in/out. */
function layerModules(c: VisionConfig): Record<keyof typeof LAYER_MODULES, string> {
  return c.use_swiglu_ffn ? { ...LAYER_MODULES, fc1: 'mlp.weights_in', fc2: 'mlp.weights_out' } : LAYER_MODULES;
}

export const dinov2Family: FamilyDef = {
  detect(keys) {
    const prefix = PREFIXES.find((p) => keys.has(`${p}embeddings.cls_token`));
    return prefix === undefined ? null : { prefix };
  },

  canonicalLayout() {
    return { prefix: '' };
  },

  keyMap(c, layout) {
    const p = layout.prefix;
    const d = c.hidden_size;
    const grid = Math.floor(c.image_size / c.patch_size);
    const out: KeyEntry[] = [
      entry('embeddings.cls_token', `${p}embeddings.cls_token`, [1, 1, d]),
      entry('embeddings.position_embeddings', `${p}embeddings.position_embeddings`, [1, grid * grid + 1, d]),
      entry('embeddings.patch_embeddings.projection.weight', `${p}embeddings.patch_embeddings.projection.weight`, [d, c.num_channels, c.patch_size, c.patch_size], 'conv'),
      entry('embeddings.patch_embeddings.projection.bias', `${p}embeddings.patch_embeddings.projection.bias`, [d], 'none', 'zeros'),
    ];
    const mods = layerModules(c);
    // SwiGLU: weights_in projects to both halves [x1; x2] (2·intermediate), weights_out from one
    const fc1Out = c.use_swiglu_ffn ? 2 * c.intermediate_size : c.intermediate_size;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const l = `encoder.layer.${i}`;
      out.push(...layerNormEntries(`${l}.norm1`, p, d));
      for (const f of ['q_proj', 'k_proj', 'v_proj'] as const) out.push(...linearEntries(`${l}.${mods[f]}`, p, d, d, c.qkv_bias));
      out.push(...linearEntries(`${l}.${mods.out_proj}`, p, d, d));
      out.push(entry(`${l}.layer_scale1.lambda1`, `${p}${l}.layer_scale1.lambda1`, [d], 'none', { constant: c.layerscale_value ?? 1 }));
      out.push(...layerNormEntries(`${l}.norm2`, p, d));
      out.push(...linearEntries(`${l}.${mods.fc1}`, p, d, fc1Out));
      out.push(...linearEntries(`${l}.${mods.fc2}`, p, c.intermediate_size, d));
      out.push(entry(`${l}.layer_scale2.lambda1`, `${p}${l}.layer_scale2.lambda1`, [d], 'none', { constant: c.layerscale_value ?? 1 }));
    }
    out.push(...layerNormEntries('layernorm', p, d));
    return out;
  },

  build(c, w) {
    return new Dinov2Tower(c, w);
  },
};

class Dinov2Tower implements VisionTower {
  layers: EncoderLayer[] = [];
  private readonly clsToken: tf.Tensor3D;
  private readonly positionEmbeddings: tf.Tensor3D;
  private readonly patchWeight: tf.Tensor4D;
  private readonly patchBias: tf.Tensor1D;
  private readonly layernorm: LayerNormParams;
  /** the position table, bicubic-resized for inputs other than image_size (kept per size) */
  private readonly positions: PositionInterpolator;
  private readonly modules: Record<keyof typeof LAYER_MODULES, string>;

  constructor(private readonly c: VisionConfig, w: Map<string, tf.Tensor>) {
    this.clsToken = take(w, 'embeddings.cls_token');
    this.positionEmbeddings = take(w, 'embeddings.position_embeddings');
    this.patchWeight = take(w, 'embeddings.patch_embeddings.projection.weight');
    this.patchBias = take(w, 'embeddings.patch_embeddings.projection.bias');
    this.layernorm = norm(w, 'layernorm', c.layer_norm_eps);
    this.positions = new PositionInterpolator(this.positionEmbeddings, 1, 'dinov2');
    const mods = (this.modules = layerModules(c));
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const l = `encoder.layer.${i}`;
      const lin = (f: keyof typeof LAYER_MODULES) => linear(w, `${l}.${mods[f]}`, f === 'out_proj' || f === 'fc1' || f === 'fc2' || c.qkv_bias);
      const hfModules = Object.fromEntries(Object.entries(mods).map(([f, m]) => [`${l}.${m}`, f])) as EncoderLayer['hfModules'];
      this.layers.push(
        new EncoderLayer(
          {
            q_proj: lin('q_proj'), k_proj: lin('k_proj'), v_proj: lin('v_proj'), out_proj: lin('out_proj'), fc1: lin('fc1'), fc2: lin('fc2'),
            layer_norm1: norm(w, `${l}.norm1`, c.layer_norm_eps),
            layer_norm2: norm(w, `${l}.norm2`, c.layer_norm_eps),
            layer_scale1: take<tf.Tensor1D>(w, `${l}.layer_scale1.lambda1`),
            layer_scale2: take<tf.Tensor1D>(w, `${l}.layer_scale2.lambda1`),
          },
          { index: i, numHeads: c.num_attention_heads, act: c.use_swiglu_ffn ? 'swiglu' : c.hidden_act, hfModules },
        ),
      );
    }
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
    const out: [string, tf.Tensor][] = [
      ['embeddings.cls_token', this.clsToken],
      ['embeddings.position_embeddings', this.positionEmbeddings],
      ['embeddings.patch_embeddings.projection.weight', this.patchWeight],
      ['embeddings.patch_embeddings.projection.bias', this.patchBias],
    ];
    const m = this.modules;
    const rename: Record<string, string> = {
      q_proj: m.q_proj, k_proj: m.k_proj, v_proj: m.v_proj, out_proj: m.out_proj,
      fc1: m.fc1, fc2: m.fc2, layer_norm1: 'norm1', layer_norm2: 'norm2',
      layer_scale1: 'layer_scale1.lambda1', layer_scale2: 'layer_scale2.lambda1',
    };
    for (const l of this.layers) {
      for (const [n, t] of l.named()) {
        const dot = n.indexOf('.');
        const head = dot < 0 ? n : n.slice(0, dot);
        out.push([`encoder.layer.${l.index}.${rename[head]}${dot < 0 ? '' : n.slice(dot)}`, t]);
      }
    }
    out.push(['layernorm.weight', this.layernorm.weight], ['layernorm.bias', this.layernorm.bias]);
    return out;
  }

  dispose(): void {
    for (const [, t] of this.named()) t.dispose();
    for (const l of this.layers) l.dispose();
    this.positions.dispose();
  }
}
