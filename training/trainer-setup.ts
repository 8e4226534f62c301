/**
 * What a Trainer builds from its config and model: the check that the backend can train the
 * parameters asked for, the AdamW optimizer, the learning-rate schedule and its record in every
 * checkpoint (side by side, so the two cannot disagree), the loss, and the trainer RNG (whose
 * state a checkpoint holds: a resume continues its stream, see trainer.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../src/errors.js';
import { makeRng, type Rng } from '../src/util/rng.js';
import type { TrainState } from './checkpoint.js';
import { totalSteps, type TrainingConfig } from './config.js';
import { getLoss, type LossFn } from './losses/index.js';
import { AdamW } from './optim/adamw.js';
import { cosineWithWarmup } from './optim/schedule.js';

/** Refuses a run that trains the patch embedding on a backend without its gradient kernel. */
export function checkTrainable(params: Map<string, tf.Variable>): void {
  if (params.has('embeddings.patch_embedding.weight') && !tf.getKernel('Conv2DBackpropFilter', tf.getBackend()))
    throw new LogolabError(
      `freeze_layers 0 with lora_r 0 trains the patch embedding, whose gradient (Conv2DBackpropFilter) the '${tf.getBackend()}' backend lacks; use --backend cpu or tensorflow, or freeze_layers ≥ 1`,
    );
}

export function optimizerFor(config: TrainingConfig, params: Map<string, tf.Variable>): AdamW {
  return new AdamW(params, { beta1: config.adam_beta1, beta2: config.adam_beta2, epsilon: config.adam_epsilon, weightDecay: config.weight_decay });
}

/** The learning rate of each optimizer step (optim/schedule.ts). */
export function lrScheduleFor(config: TrainingConfig): (step: number) => number {
  return cosineWithWarmup({ baseLr: config.learning_rate, warmupSteps: config.warmup_steps, totalSteps: totalSteps(config), minLrRatio: config.min_lr_ratio });
}

/** lrScheduleFor's schedule as a checkpoint records it. */
export function schedulerRecord(c: TrainingConfig): TrainState['scheduler'] {
  return { kind: 'cosine_with_warmup', base_lr: c.learning_rate, warmup_steps: c.warmup_steps, total_steps: totalSteps(c), min_lr_ratio: c.min_lr_ratio };
}

export function lossFor(config: TrainingConfig): LossFn {
  return getLoss(config.loss_type, { temperature: config.temperature, margin: config.triplet_margin });
}

/** The trainer RNG: fresh from the seed, or continued from a checkpoint's state. */
export function trainerRng(config: TrainingConfig, state?: object): Rng {
  return makeRng(`train:${config.seed}`, state);
}
