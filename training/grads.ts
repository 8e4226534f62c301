/**
 * Loss and gradients of the trainable variables for one batch of images.
 *
 * `lossAndGrads` is the plain path: one tape over the whole forward pass (backprop.ts: only what
 * depends on the trainable variables is recorded, and freed as the backward pass goes). With
 * use_gradient_checkpointing the trainer passes a recomputing implementation instead (same
 * signature: see GradFn); both return gradients keyed by the trainer's parameter names.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../src/models/layers.js';
import type { VisionModel } from '../src/models/vision/index.js';
import { embed } from './model.js';
import { variableGrads } from './backprop.js';

/** A scalar function of the L2-normalised embeddings [N, E] of the batch. */
export type EmbeddingObjective = (embeddings: tf.Tensor2D) => tf.Scalar;

export interface LossGrads {
  loss: number;
  /** by parameter name; caller disposes */
  grads: Map<string, tf.Tensor>;
}

export type GradFn = (model: VisionModel, params: Map<string, tf.Variable>, pixels: tf.Tensor4D, objective: EmbeddingObjective, ctx: ForwardContext) => LossGrads;

export function namedGrads(params: Map<string, tf.Variable>, byVarName: Record<string, tf.Tensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of params) {
    // a variable the objective does not reach has no gradient: it is zero
    out.set(name, byVarName[v.name] ?? tf.zerosLike(v));
  }
  return out;
}

export const lossAndGrads: GradFn = (model, params, pixels, objective, ctx) => {
  const vars = [...params.values()];
  const { value, grads } = variableGrads(() => objective(embed(model, pixels, ctx)), vars);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads: namedGrads(params, grads) };
};
