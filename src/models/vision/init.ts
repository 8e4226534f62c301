/**
 * Per-tensor standard deviations of HF CLIPPreTrainedModel._init_weights (initializer_factor 1,
 * initializer_range 0.02) for a randomly initialised CLIP vision tower, by canonical tensor name:
 *   class_embedding                 hidden^-0.5
 *   patch / position embedding      0.02
 *   q_proj, k_proj, v_proj          hidden^-0.5 · (2·layers)^-0.5
 *   out_proj                        hidden^-0.5
 *   fc1                             (2·hidden)^-0.5
 *   fc2                             hidden^-0.5 · (2·layers)^-0.5
 *   visual_projection               hidden^-0.5
 * (biases 0 and LayerNorm 1/0 come from the key map). The default random init (0.02 everywhere)
 * is enough for shapes and tests, but for training from scratch it starts with a CLS output that is
 * nearly the same for every image (all cosines ≈ 0.98) and learns very slowly.
 */
import { LogolabError } from '../../errors.js';
import type { VisionConfig } from './config.js';

export type RandomInit = 'uniform' | 'clip';
export const RANDOM_INITS: readonly RandomInit[] = ['uniform', 'clip'];

export function clipInitStd(name: string, c: VisionConfig): number {
  const d = c.hidden_size;
  const deep = (2 * c.num_hidden_layers) ** -0.5;
  if (name === 'embeddings.class_embedding') return d ** -0.5;
  if (name === 'embeddings.patch_embedding.weight' || name === 'embeddings.position_embedding.weight') return 0.02;
  if (/\.self_attn\.(q|k|v)_proj\.weight$/.test(name)) return d ** -0.5 * deep;
  if (/\.self_attn\.out_proj\.weight$/.test(name)) return d ** -0.5;
  if (/\.mlp\.fc1\.weight$/.test(name)) return (2 * d) ** -0.5;
  if (/\.mlp\.fc2\.weight$/.test(name)) return d ** -0.5 * deep;
  if (name === 'visual_projection.weight') return d ** -0.5;
  throw new LogolabError(`clip init: no rule for tensor '${name}'`);
}
