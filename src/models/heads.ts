/**
 * Embedding heads and L2 normalisation.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { makeRng } from '../util/rng.js';
import { layerNorm } from './layers.js';
import { readJsonObject } from '../util/json.js';

/**
 * Row-wise L2 normalisation, value-identical to torch's F.normalize(x, dim=-1) = x / max(‖x‖, eps).
 * Written as x / sqrt(max(Σx², eps²)) so a zero row gets a finite (zero) gradient instead of NaN.
 */
export function l2Normalize<T extends tf.Tensor>(x: T, eps = 1e-12): T {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), eps * eps))) as T);
}


/**
 * `clip`: the model's own image_embeds (CLIP visual_projection; the pooler output for DINOv2/SigLIP)
 *         — what the baseline matches with; no trainable weights.
 * `projection`: the Python original's trainable head over the pooled output, Linear(D, D) → LayerNorm(D)
 *         (it bypasses visual_projection).
 * Both return L2-normalised embeddings for matching.
 */
export type HeadKind = 'clip' | 'projection';
export const HEAD_KINDS: readonly HeadKind[] = ['clip', 'projection'];
export const HEAD_CONFIG = 'head_config.json';
export const HEAD_WEIGHTS = 'projection_head.safetensors';

export interface HeadHost {
  config: { hidden_size: number; projection_dim: number | null };
  project(pooler: tf.Tensor2D): tf.Tensor2D;
}

export interface EmbeddingHead {
  kind: HeadKind;
  outDim: number;
  /** pooler_output [B, D] → L2-normalised embeddings [B, outDim] */
  apply(model: HeadHost, pooled: tf.Tensor2D): tf.Tensor2D;
  /** trainable weights (none for `clip`) */
  variables: tf.Variable[];
  dispose(): void;
}

class ClipHead implements EmbeddingHead {
  readonly kind = 'clip';
  readonly variables: tf.Variable[] = [];
  constructor(readonly outDim: number) {}
  apply(model: HeadHost, pooled: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(model.project(pooled)));
  }
  dispose(): void {}
}

class ProjectionHead implements EmbeddingHead {
  readonly kind = 'projection';
  readonly outDim: number;
  constructor(
    /** W^T [in, out] */
    readonly weight: tf.Variable,
    readonly bias: tf.Variable,
    readonly lnWeight: tf.Variable,
    readonly lnBias: tf.Variable,
    readonly eps: number,
  ) {
    this.outDim = weight.shape[1]!;
  }
  get variables(): tf.Variable[] {
    return [this.weight, this.bias, this.lnWeight, this.lnBias];
  }
  apply(_model: HeadHost, pooled: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const y = tf.add(tf.matMul(pooled, this.weight as tf.Tensor2D), this.bias);
      return l2Normalize(layerNorm(y, { weight: this.lnWeight as tf.Tensor1D, bias: this.lnBias as tf.Tensor1D, eps: this.eps }) as tf.Tensor2D);
    });
  }
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function variableOf(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** A new head for the model. `projection` is initialised as torch's nn.Linear (U(±1/√in) weight and bias), LayerNorm 1/0. */
export function createHead(kind: string, model: HeadHost, seed = 0): EmbeddingHead {
  const d = model.config.hidden_size;
  if (kind === 'clip') return new ClipHead(model.config.projection_dim ?? d);
  if (kind !== 'projection') throw new LogolabError(`head: unknown kind '${kind}' (expected one of ${HEAD_KINDS.join(', ')})`);
  const rng = makeRng(`head:${seed}`);
  const bound = 1 / Math.sqrt(d);
  const w = new Float32Array(d * d);
  // torch draws weight [out, in]; stored transposed [in, out]
  for (let o = 0; o < d; o++) for (let i = 0; i < d; i++) w[i * d + o] = rng.uniform(-bound, bound);
  const b = Float32Array.from({ length: d }, () => rng.uniform(-bound, bound));
  return new ProjectionHead(variableOf(tf.tensor2d(w, [d, d])), variableOf(tf.tensor1d(b)), variableOf(tf.ones([d])), variableOf(tf.zeros([d])), 1e-5);
}

/** Writes head_config.json (+ projection_head.safetensors in torch's nn.Sequential names '0.weight' [out,in], '0.bias', '1.weight', '1.bias'). */
export function saveHead(head: EmbeddingHead, dir: string): void {
  if (head instanceof ProjectionHead) {
    const get = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
    const wT = tf.tidy(() => head.weight.transpose());
    const tensors = {
      '0.weight': { shape: wT.shape, data: get(wT) },
      '0.bias': { shape: head.bias.shape, data: get(head.bias) },
      '1.weight': { shape: head.lnWeight.shape, data: get(head.lnWeight) },
      '1.bias': { shape: head.lnBias.shape, data: get(head.lnBias) },
    };
    wT.dispose();
    for (const [k, t] of Object.entries(tensors)) if (!t.data.every(Number.isFinite)) throw new LogolabError(`saveHead: '${k}' has non-finite values; refusing to save`);
    writeSafetensors(join(dir, HEAD_WEIGHTS), tensors, { format: 'pt' });
    writeJsonAtomic(join(dir, HEAD_CONFIG), { kind: 'projection', in_dim: head.weight.shape[0], out_dim: head.outDim, layer_norm_eps: head.eps });
  } else {
    writeJsonAtomic(join(dir, HEAD_CONFIG), { kind: head.kind, out_dim: head.outDim });
  }
}

/** Loads a head saved by saveHead; every key, shape and field checked. */
export function loadHead(dir: string, model: HeadHost): EmbeddingHead {
  const p = join(dir, HEAD_CONFIG);
  if (!existsSync(p)) throw new LogolabError(`${dir}: no ${HEAD_CONFIG}`);
  const cfg = readJsonObject(p);
  const known = cfg.kind === 'projection' ? ['kind', 'in_dim', 'out_dim', 'layer_norm_eps'] : ['kind', 'out_dim'];
  for (const k of Object.keys(cfg)) if (!known.includes(k)) throw new LogolabError(`${p}: field '${k}': unknown key`);
  const d = model.config.hidden_size;
  if (cfg.kind === 'clip') {
    // the CLIP head is the model's own projection (no weights): a recorded out_dim must be its width
    const h = createHead('clip', model);
    if (cfg.out_dim !== undefined && cfg.out_dim !== h.outDim) throw new LogolabError(`${p}: field 'out_dim': ${JSON.stringify(cfg.out_dim)} does not match this model's embedding size ${h.outDim}`);
    return h;
  }
  if (cfg.kind !== 'projection') throw new LogolabError(`${p}: field 'kind': expected one of ${HEAD_KINDS.join(', ')}, got ${JSON.stringify(cfg.kind)}`);
  if (cfg.in_dim !== d) throw new LogolabError(`${p}: field 'in_dim': ${JSON.stringify(cfg.in_dim)} does not match the model's hidden_size ${d}`);
  const out = cfg.out_dim;
  if (!Number.isInteger(out) || (out as number) <= 0) throw new LogolabError(`${p}: field 'out_dim': must be a positive integer`);
  const eps = cfg.layer_norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) throw new LogolabError(`${p}: field 'layer_norm_eps': must be a positive finite number, got ${JSON.stringify(eps) ?? String(eps)}`);
  const wPath = join(dir, HEAD_WEIGHTS);
  const w = readSafetensors(wPath);
  const want: Record<string, number[]> = { '0.weight': [out as number, d], '0.bias': [out as number], '1.weight': [out as number], '1.bias': [out as number] };
  for (const k of w.keys()) if (!(k in want)) throw new LogolabError(`${wPath}: unexpected tensor '${k}'`);
  const vals: Record<string, Float32Array> = {};
  for (const [k, shape] of Object.entries(want)) {
    const t = w.get(k);
    if (!t) throw new LogolabError(`${wPath}: missing tensor '${k}'`);
    if (JSON.stringify(t.shape) !== JSON.stringify(shape)) throw new LogolabError(`${wPath}: tensor '${k}': shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw new LogolabError(`${wPath}: tensor '${k}' holds ${nonFiniteName(t.data[bad]!)} at index ${bad}; refusing to load a broken head`);
    vals[k] = t.data as Float32Array;
  }
  const weight = variableOf(tf.tidy(() => tf.tensor2d(vals['0.weight']!, [out as number, d]).transpose()));
  return new ProjectionHead(weight, variableOf(tf.tensor1d(vals['0.bias']!)), variableOf(tf.tensor1d(vals['1.weight']!)), variableOf(tf.tensor1d(vals['1.bias']!)), eps);
}
