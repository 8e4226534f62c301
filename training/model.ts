/**
 * The model as the trainer sees it: a VisionModel plus the named trainable variables.
 *
 *   lora_r > 0  → LoRA adapters (src/models/lora) on layers ≥ freeze_layers; everything else frozen.
 *   lora_r = 0  → full training: the tensors of layers ≥ freeze_layers, the final norm and the
 *                 projection become tf.Variables (plus the embeddings when freeze_layers = 0, as the
 *                 reference's _freeze_layers left them trainable then). This is how a model is
 *                 trained from random init (`base_model: preset:<name>`, freeze_layers: 0).
 *
 * Training embeds with image_embeds (CLIP visual_projection of the pooled output), L2-normalised —
 * exactly what `logolab embed` and the matcher use, so an exported model reproduces the
 * in-trainer embeddings. (The reference trained an extra Linear+LayerNorm head on pooler_output
 * that its HF-style export could not express; we train the projection itself instead.)
 */
import * as tf from '@tensorflow/tfjs';
import { basename } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { l2Normalize } from '../src/models/heads.js';
import type { ForwardContext } from '../src/models/layers.js';
import { activeSites, applyLora, mergeLora } from '../src/models/lora/apply.js';
import { log } from '../src/util/log.js';
import { baseFingerprint, baseModelRepoId, resolveBaseModel } from './provenance.js';
import { buildVisionModel, loadVisionModel, modelFromTensors, type VisionModel } from '../src/models/vision/index.js';
import type { VisionConfig, VisionFamily } from '../src/models/vision/config.js';
import { presetConfig } from '../src/models/vision/presets.js';
import { parseBaseModel, presetFamilyClash } from './base-model-spec.js';
import type { TrainingConfig } from './config.js';
import type { ModelDescription } from './checkpoint.js';

export interface TrainableModel {
  model: VisionModel;
  /** trainable variables by stable name (checkpoint keys) */
  params: Map<string, tf.Variable>;
  description: ModelDescription;
  dispose(): void;
}

export async function loadBaseModel(cfg: Pick<TrainingConfig, 'base_model' | 'seed' | 'preprocess_mode' | 'vision_config'> & { image_processor?: Record<string, unknown>; random_init?: TrainingConfig['random_init'] }, overrides?: Partial<VisionConfig>): Promise<VisionModel> {
  const { preset, dir } = parseBaseModel(cfg.base_model);
  const modelOverrides = { ...(cfg.vision_config ?? {}), ...(overrides ?? {}) } as Partial<VisionConfig>;
  if (!preset && Object.keys(cfg.vision_config ?? {}).length) throw new LogolabError(`vision_config: only applies to base_model preset:… (got a model folder '${cfg.base_model}')`);
  // build-time too: --base-model or --vision-config on the command line may clash with the file's
  const clash = presetFamilyClash(cfg.base_model, modelOverrides.family);
  if (clash) throw new LogolabError(clash);
  // a model folder brings its own preprocessor_config.json; silently overriding it would make the
  // adapter disagree with the base model it is applied to
  if (!preset && Object.keys(cfg.image_processor ?? {}).length) throw new LogolabError(`image_processor: only applies to base_model preset:… (got a model folder '${cfg.base_model}'; edit its preprocessor_config.json)`);
  if (!preset && cfg.random_init === 'clip') throw new LogolabError(`random_init: only applies to base_model preset:… (got a model folder '${cfg.base_model}')`);
  if (preset) {
    const conf = Object.keys(modelOverrides).length ? { ...presetConfigOf(preset.family, preset.name), ...modelOverrides } : preset.name;
    return buildVisionModel(preset.family, conf as never, 'random', cfg.seed, { preprocessMode: cfg.preprocess_mode, processorOverrides: cfg.image_processor, init: cfg.random_init });
  }
  const model = await loadVisionModel(dir!, { preprocessMode: cfg.preprocess_mode, quiet: true });
  // a logolab export (base + adapter/) loads with its adapter applied: training continues from
  // that model, so the adapter becomes part of the frozen base
  const merged = activeSites(model).length ? mergeLora(model) : 0;
  if (merged) log('info', `base_model ${cfg.base_model}: its LoRA adapter (${merged} modules) is merged into the base weights`);
  return model;
}

function presetConfigOf(family: VisionFamily, name: string): VisionConfig {
  return presetConfig(family, name);
}

/** Is a canonical tensor name trainable under full training with `freeze` frozen layers? */
export function fullTrainable(name: string, freeze: number): boolean {
  const m = /^encoder\.layers?\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) >= freeze;
  if (name.startsWith('embeddings.') || name.startsWith('pre_layrnorm.')) return freeze === 0;
  return true; // post_layernorm, visual_projection, heads
}

/**
 * Turns the chosen frozen tensors of `model` into tf.Variables by rebuilding the tower from its
 * named tensors (the old model is disposed; frozen tensors are shared, not copied).
 */
export function makeFullyTrainable(model: VisionModel, isTrainable: (name: string) => boolean): { model: VisionModel; params: Map<string, tf.Variable> } {
  const named = model.namedTensors();
  const weights = new Map<string, tf.Tensor>();
  const params = new Map<string, tf.Variable>();
  for (const [name, t] of named) {
    if (isTrainable(name)) {
      const v = tf.variable(t, true); // shares t's data (ref-counted)
      weights.set(name, v);
      params.set(name, v);
    } else {
      weights.set(name, tf.clone(t));
    }
  }
  const rebuilt = modelFromTensors(model.config, weights, model.processor, model.dir);
  model.dispose();
  return { model: rebuilt, params };
}

export function loraParamName(layer: number, target: string, which: 'A' | 'B'): string {
  return `layers.${layer}.${target}.lora_${which}`;
}

export async function buildTrainableModel(cfg: TrainingConfig, modelOverrides?: Partial<VisionConfig>): Promise<TrainableModel> {
  // resolved once (an HF repo id → its cached snapshot, logged): the folder loaded is the one recorded
  const repoId = baseModelRepoId(cfg.base_model);
  const baseDir = resolveBaseModel(cfg.base_model, { quiet: false });
  const base = await loadBaseModel({ ...cfg, base_model: baseDir }, modelOverrides);
  if (cfg.freeze_layers > base.config.num_hidden_layers) {
    base.dispose();
    throw new LogolabError(`freeze_layers (${cfg.freeze_layers}) > the model's ${base.config.num_hidden_layers} layers`);
  }
  // before any adapter or variable: what export and resume verify (training/provenance.ts)
  const base_fingerprint = baseFingerprint(base);
  let model = base;
  const params = new Map<string, tf.Variable>();
  let lora: Record<string, unknown> | null = null;
  try {
    if (cfg.lora_r > 0) {
      const applied = applyLora(model, {
        r: cfg.lora_r,
        lora_alpha: cfg.lora_alpha,
        lora_dropout: cfg.lora_dropout,
        target_modules: cfg.lora_target_modules as never,
        freeze_layers: cfg.freeze_layers,
        seed: cfg.seed,
      }, 'training config');
      lora = { ...applied.config };
      for (const s of activeSites(model)) {
        params.set(loraParamName(s.layer, s.target, 'A'), s.lora.A);
        params.set(loraParamName(s.layer, s.target, 'B'), s.lora.B);
      }
    } else {
      const r = makeFullyTrainable(model, (n) => fullTrainable(n, cfg.freeze_layers));
      model = r.model;
      for (const [k, v] of r.params) params.set(k, v);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (params.size === 0) {
    model.dispose();
    throw new LogolabError('training config: nothing to train (lora_r 0 and every layer frozen)');
  }
  const description: ModelDescription = {
    base_model: baseDir,
    base_fingerprint,
    ...(repoId ? { base_model_hub: { ref: repoId, commit: basename(baseDir) } } : {}),
    family: model.family,
    vision_config: { ...model.config } as Record<string, unknown>,
    lora,
    trainable: [...params.keys()],
    head: 'none',
  };
  return {
    model,
    params,
    description,
    dispose: () => model.dispose(),
  };
}

/** L2-normalised image embeddings [B, E] (the training and evaluation output). */
export function embed(model: VisionModel, pixels: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
  return tf.tidy(() => {
    const out = model.forward(pixels, ctx);
    return l2Normalize(out.imageEmbeds);
  });
}

/** Copies host values into the trainable variables (resume, export). */
export function assignParams(params: Map<string, tf.Variable>, values: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
  for (const name of params.keys()) if (!values.has(name)) throw new LogolabError(`${source}: missing trainable tensor '${name}'`);
  for (const name of values.keys()) if (!params.has(name)) throw new LogolabError(`${source}: tensor '${name}' is not a trainable variable of this model`);
  for (const [name, v] of params) {
    const src = values.get(name)!;
    if (src.shape.length !== v.shape.length || src.shape.some((d, i) => d !== v.shape[i]))
      throw new LogolabError(`${source}: '${name}' has shape ${JSON.stringify(src.shape)}, model expects ${JSON.stringify(v.shape)}`);
    tf.tidy(() => v.assign(tf.tensor(src.data, v.shape)));
  }
}

export function paramsToHost(params: Map<string, tf.Variable>): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of params) out.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
  return out;
}
