/** The public VisionModel: a family's tower with its processor, forward pass and fingerprint. */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { INFERENCE, type ForwardContext } from '../layers.js';
import { removeLora } from '../lora/apply.js';
import type { EncoderLayer } from './blocks.js';
import type { VisionConfig, VisionFamily } from './config.js';
import type { ImageProcessor } from './processor.js';
import type { VisionTower } from './tower.js';

export interface VisionOutputs {
  lastHiddenState: tf.Tensor3D;
  poolerOutput: tf.Tensor2D;
  imageEmbeds: tf.Tensor2D;
  /** embeddings output, then the output of each layer (only with outputHiddenStates) */
  hiddenStates?: tf.Tensor3D[];
}

export interface VisionModel {
  family: VisionFamily;
  config: VisionConfig;
  /** the folder it was loaded from ('' for a built model) */
  dir: string;
  processor: ImageProcessor;
  /** patch + cls + position embeddings (+ CLIP pre_layrnorm): [B,C,H,W] → [B,T,D] */
  embeddings(pixels: tf.Tensor4D): tf.Tensor3D;
  /** layer i: forward(x [B,T,D], ctx) → [B,T,D]; q_proj, k_proj, v_proj, out_proj, fc1, fc2 are Linear */
  layers: EncoderLayer[];
  /** final norm + pooling */
  pool(hidden: tf.Tensor3D): { lastHiddenState: tf.Tensor3D; poolerOutput: tf.Tensor2D };
  /** CLIP visual_projection (no bias); identity (a clone) for DINOv2/SigLIP */
  project(pooler: tf.Tensor2D): tf.Tensor2D;
  forward(pixels: tf.Tensor4D, ctx?: ForwardContext & { outputHiddenStates?: boolean }): VisionOutputs;
  /**
   * sha256 over config + processor config/mode + weights (+ active LoRA adapters): a cache key.
   * `{ lora: false }` leaves the adapters out: the fingerprint this model had before they were applied.
   */
  fingerprint(opts?: { lora?: boolean }): string;
  /** every frozen tensor under its canonical HF name (model layout: linear weights [in, out]) */
  namedTensors(): [string, tf.Tensor][];
  dispose(): void;
}

export class Model implements VisionModel {
  readonly layers: EncoderLayer[];
  private readonly digestCache = new Map<number, string>();

  constructor(
    readonly family: VisionFamily,
    readonly config: VisionConfig,
    readonly dir: string,
    readonly processor: ImageProcessor,
    private readonly tower: VisionTower,
  ) {
    this.layers = tower.layers;
  }

  embeddings(pixels: tf.Tensor4D): tf.Tensor3D {
    return this.tower.embeddings(pixels);
  }
  pool(hidden: tf.Tensor3D) {
    return this.tower.pool(hidden);
  }
  project(pooler: tf.Tensor2D): tf.Tensor2D {
    return this.tower.project(pooler);
  }

  forward(pixels: tf.Tensor4D, ctx: ForwardContext & { outputHiddenStates?: boolean } = INFERENCE): VisionOutputs {
    return tf.tidy(() => {
      let h = this.tower.embeddings(pixels);
      const hs: tf.Tensor3D[] = ctx.outputHiddenStates ? [h] : [];
      for (const l of this.layers) {
        h = l.forward(h, ctx);
        if (ctx.outputHiddenStates) hs.push(h);
      }
      const { lastHiddenState, poolerOutput } = this.tower.pool(h);
      const imageEmbeds = this.tower.project(poolerOutput);
      return ctx.outputHiddenStates ? { lastHiddenState, poolerOutput, imageEmbeds, hiddenStates: hs } : { lastHiddenState, poolerOutput, imageEmbeds };
    }) as VisionOutputs;
  }

  namedTensors(): [string, tf.Tensor][] {
    return this.tower.named();
  }

  fingerprint(opts: { lora?: boolean } = {}): string {
    const h = createHash('sha256');
    h.update(JSON.stringify(this.config));
    // the same weights with another preprocessing give other embeddings: part of the cache key. The
    // mode is the processor's own — the one that runs — not a copy passed beside it, which a model
    // rebuilt around the same processor (modelFromTensors) or a mode resolved from the folder's
    // record (loadVisionModel) would leave stale
    h.update(JSON.stringify({ processor: this.processor.kind, config: this.processor.config, mode: this.processor.mode ?? 'default' }));
    for (const [name, t] of this.tower.named()) {
      let d = this.digestCache.get(t.id); // frozen tensors never change in place: cache per tensor id
      if (d === undefined) {
        d = createHash('sha256').update(tensorBytes(t)).digest('hex');
        this.digestCache.set(t.id, d);
      }
      h.update(`${name}:${JSON.stringify(t.shape)}:${d};`);
    }
    // adapters are variables (trained in place): hash their current values every time
    if (opts.lora === false) return h.digest('hex');
    for (const l of this.layers) {
      for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] as const) {
        const lora = l[n].lora;
        if (!lora) continue;
        h.update(`lora:${l.index}.${n}:${lora.scaling}:`);
        h.update(tensorBytes(lora.A));
        h.update(tensorBytes(lora.B));
      }
    }
    return h.digest('hex');
  }

  dispose(): void {
    // a merged adapter is held aside by mergeLora (to undo it), not by its Linear
    removeLora(this);
    this.tower.dispose();
  }
}

function tensorBytes(t: tf.Tensor): Uint8Array {
  const d = t.dataSync() as Float32Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
