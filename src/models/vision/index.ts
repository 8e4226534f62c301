/**
 * Vision encoders (CLIP, DINOv2, SigLIP) on tfjs, equal to HF transformers' vision towers.
 *
 *   loadVisionModel(dir)  — an HF checkpoint folder (CLIPModel, CLIPVisionModel[WithProjection],
 *                           Dinov2Model, SiglipVisionModel, SiglipModel) or a converted logolab folder
 *   buildVisionModel(family, preset|config, 'random', seed) — random weights of real shapes
 *
 * Outputs follow HF: lastHiddenState = encoder output (CLIP: no final norm; DINOv2: after the final
 * layernorm; SigLIP: after post_layernorm), poolerOutput (CLIP: post_layernorm(CLS); DINOv2: CLS of
 * lastHiddenState; SigLIP: attention-pool head), imageEmbeds = CLIP visual_projection(pooler), else
 * the pooler output itself (what the matcher uses).
 */
export type { VisionConfig, VisionFamily } from './config.js';
export type { EncoderLayer } from './blocks.js';
export type { ImageProcessor, PreprocessMode } from './processor.js';
export { FAMILIES } from './families.js';
export { readModelConfig } from './meta.js';
export type { VisionModel, VisionOutputs } from './model.js';
export {
  buildVisionModel, loadTowerWeights, loadVisionModel, modelFromTensors, planLoad,
  type LoadOptions, type LoadPlan, type LoadReport,
} from './load.js';
