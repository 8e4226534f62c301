/**
 * The training graph of a vision model for per-block recomputation (recompute.ts):
 *   stem = embeddings(pixels); blocks = encoder layers; tail = pool → head/projection → L2-normalise → objective.
 * Trainable variables are assigned to the part that uses them: LoRA A/B and (full training) a
 * layer's own tensors to that layer's block, embedding tensors to the stem, everything else
 * (final norm, visual_projection, head, objective) to the tail.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../src/models/layers.js';
import { layerLoraVariables } from '../src/models/lora/apply.js';
import { l2Normalize, type EmbeddingHead, type HeadHost } from '../src/models/heads.js';
import type { EncoderLayer } from '../src/models/vision/blocks.js';
import type { VisionModel } from '../src/models/vision/index.js';
import type { LossFn } from './losses/index.js';
import { recomputeLossAndGrads, type BlockwiseGraph } from './recompute.js';
import { namedGrads, type GradFn } from './grads.js';

export interface TrainableVision extends HeadHost {
  embeddings(pixels: tf.Tensor4D): tf.Tensor3D;
  layers: EncoderLayer[];
  pool(hidden: tf.Tensor3D): { lastHiddenState: tf.Tensor3D; poolerOutput: tf.Tensor2D };
}

function poolOnly(model: TrainableVision, h: tf.Tensor3D): tf.Tensor2D {
  const { lastHiddenState, poolerOutput } = model.pool(h);
  lastHiddenState.dispose();
  return poolerOutput;
}

/** LoRA (+ head) training graph: block variables = each layer's adapters, tail variables = the head's. */
export function visionGraph(model: TrainableVision, head: EmbeddingHead, pixels: tf.Tensor4D, labels: Int32Array, loss: LossFn): BlockwiseGraph {
  return {
    stem: () => model.embeddings(pixels),
    blocks: model.layers.map((l) => ({ forward: (x: tf.Tensor3D, ctx: ForwardContext) => l.forward(x, ctx), variables: layerLoraVariables(l) })),
    tail: (h) => loss(head.apply(model, poolOnly(model, h)), labels),
    tailVariables: head.variables,
  };
}

const STEM_PREFIXES = ['embeddings.', 'pre_layrnorm.'];

/**
 * The trainer's GradFn with per-block recomputation (use_gradient_checkpointing): same inputs and
 * outputs as training/grads.ts lossAndGrads (objective of L2-normalised image_embeds), any mix of
 * LoRA and full-training variables.
 */
export const recomputeGradFn: GradFn = (model: VisionModel, params, pixels, objective, ctx) => {
  const wanted = new Set<tf.Tensor>(params.values());
  const placed = new Set<tf.Tensor>();
  const pick = (ts: tf.Tensor[]): tf.Variable[] => {
    const out: tf.Variable[] = [];
    for (const t of ts) if (wanted.has(t) && !placed.has(t)) {
      placed.add(t);
      out.push(t as tf.Variable);
    }
    return out;
  };
  const blocks = model.layers.map((l) => ({
    forward: (x: tf.Tensor3D, c: ForwardContext) => l.forward(x, c),
    variables: pick([...layerLoraVariables(l), ...l.named().map(([, t]) => t)]),
  }));
  const stemVariables = pick(model.namedTensors().filter(([n]) => STEM_PREFIXES.some((p) => n.startsWith(p))).map(([, t]) => t));
  const tailVariables = pick([...params.values()]);
  const g: BlockwiseGraph = {
    stem: () => model.embeddings(pixels),
    stemVariables,
    blocks,
    tail: (h) => objective(tf.tidy(() => l2Normalize(model.project(poolOnly(model, h))))),
    tailVariables,
  };
  const { loss, grads } = recomputeLossAndGrads(g, ctx);
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return { loss: value, grads: namedGrads(params, grads) };
};
