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
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../../errors.js';
import { openCheckpoint } from '../../io/checkpoint.js';
import { log } from '../../util/log.js';
import { INFERENCE, type ForwardContext } from '../layers.js';
import type { EncoderLayer } from './blocks.js';
import { clipFamily } from './clip.js';
import { validateVisionConfig, visionConfigFromHf, type VisionConfig, type VisionFamily } from './config.js';
import { dinov2Family } from './dinov2.js';
import { makeProcessor, processorConfigFor, type ImageProcessor, type PreprocessMode } from './processor.js';
import { siglipFamily } from './siglip.js';
import type { FamilyDef, Layout, VisionTower } from './tower.js';
import { checkKeyMap, loadTensors, parameterCount, randomTensors, summariseKeys, unusedKeys, type KeyEntry } from './weights.js';
import { readLogolabMeta } from '../format.js';
import { adapterFor, assertNotAdapterOnly, checkAdapterBase, EXPORT_ADAPTER_DIR } from '../export-folder.js';
import { presetConfig, type PresetName } from './presets.js';
import { loadAdapter } from '../lora/io.js';
import { resolveModelPath } from '../hub.js';
import { readJsonFile } from '../../util/json.js';

export type { VisionConfig, VisionFamily } from './config.js';
export type { EncoderLayer } from './blocks.js';
export type { ImageProcessor, PreprocessMode } from './processor.js';

export const FAMILIES: Record<VisionFamily, FamilyDef> = { clip: clipFamily, dinov2: dinov2Family, siglip: siglipFamily };

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
  /** sha256 over config + processor config/mode + weights (+ active LoRA adapters): a cache key */
  fingerprint(): string;
  /** every frozen tensor under its canonical HF name (model layout: linear weights [in, out]) */
  namedTensors(): [string, tf.Tensor][];
  dispose(): void;
}

/** Applies a peft-format LoRA adapter folder (src/models/lora checks every key, shape and config field). */
function applyAdapter(model: VisionModel, dir: string): void {
  const r = loadAdapter(model, dir);
  log('info', `adapter ${dir}: LoRA on ${r.sites.length} modules (${r.trainable.toLocaleString('en-US')} parameters)${r.ignored.length ? `; ignored ${r.ignored.length} text-tower keys` : ''}`);
}

class Model implements VisionModel {
  readonly layers: EncoderLayer[];
  private readonly digestCache = new Map<number, string>();

  constructor(
    readonly family: VisionFamily,
    readonly config: VisionConfig,
    readonly dir: string,
    readonly processor: ImageProcessor,
    private readonly tower: VisionTower,
    private readonly preprocessMode: PreprocessMode = 'default',
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

  fingerprint(): string {
    const h = createHash('sha256');
    h.update(JSON.stringify(this.config));
    // the same weights with another preprocessing give other embeddings: part of the cache key
    h.update(JSON.stringify({ processor: this.processor.kind, config: this.processor.config, mode: this.preprocessMode }));
    for (const [name, t] of this.tower.named()) {
      let d = this.digestCache.get(t.id); // frozen tensors never change in place: cache per tensor id
      if (d === undefined) {
        d = createHash('sha256').update(tensorBytes(t)).digest('hex');
        this.digestCache.set(t.id, d);
      }
      h.update(`${name}:${JSON.stringify(t.shape)}:${d};`);
    }
    // adapters are variables (trained in place): hash their current values every time
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
    this.tower.dispose();
  }
}

function tensorBytes(t: tf.Tensor): Uint8Array {
  const d = t.dataSync() as Float32Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export interface LoadReport {
  family: VisionFamily;
  /** the checkpoint file (or index) read */
  source: string;
  /** HF architecture or 'logolab' */
  architecture: string;
  prefix: string;
  parameters: number;
  /** checkpoint keys not used (text tower, buffers, ...) */
  unused: string[];
}

/** Reads config.json (and logolab.json when present) of a model folder. */
export function readModelConfig(dir: string): { config: VisionConfig; architecture: string; converted: boolean; requireProjection: boolean } {
  const meta = readLogolabMeta(dir);
  if (meta) return { config: meta.vision_config, architecture: `logolab (${meta.source_architecture ?? 'unknown source'})`, converted: true, requireProjection: meta.vision_config.projection_dim !== null };
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new LogolabError(`${dir}: not a model folder (no config.json)`);
  const hf = visionConfigFromHf(readJsonFile(p), p);
  const requireProjection = hf.modelType === 'clip' || /WithProjection$/.test(hf.architecture ?? '');
  return { config: hf.config, architecture: hf.architecture ?? hf.modelType, converted: false, requireProjection };
}

/** What a checkpoint's keys map to: the checked key map, the unused keys, the parameter count. */
export interface LoadPlan {
  config: VisionConfig;
  layout: Layout;
  entries: KeyEntry[];
  unused: string[];
  parameters: number;
}

/**
 * Plans loading the vision tower from a checkpoint's key list (no data read): detects the key
 * prefix, drops the CLIP projection when a CLIPVisionModel checkpoint has none, asserts every
 * expected key and shape (error naming `source` and the key), and lists the unused keys.
 */
export function planLoad(config: VisionConfig, keys: string[], info: (k: string) => { shape: number[] }, source: string, opts: { requireProjection?: boolean } = {}): LoadPlan {
  const fam = FAMILIES[config.family];
  const keySet = new Set(keys);
  const layout = fam.detect(keySet);
  if (!layout) {
    const probe = fam.keyMap(config, fam.canonicalLayout(config))[0]!.name;
    throw new LogolabError(`${source}: no ${config.family} vision tower found (no tensor '${probe}' under any known prefix)`);
  }
  let cfg = config;
  if (cfg.family === 'clip' && cfg.projection_dim !== null && layout.projectionKey === null) {
    // CLIPModel / CLIPVisionModelWithProjection must have it; a plain CLIPVisionModel has none
    if (opts.requireProjection) throw new LogolabError(`${source}: missing tensor 'visual_projection.weight'`);
    cfg = { ...cfg, projection_dim: null };
  }
  const entries = fam.keyMap(cfg, layout);
  checkKeyMap(entries, (k) => keySet.has(k), info, source);
  return { config: cfg, layout, entries, unused: unusedKeys(entries, keys), parameters: parameterCount(entries) };
}

/** Loads the vision tower's weights of a folder (see planLoad), reporting unused keys on stderr. */
export function loadTowerWeights(dir: string, config: VisionConfig, opts: { quiet?: boolean; requireProjection?: boolean } = {}): { config: VisionConfig; weights: Map<string, tf.Tensor>; report: LoadReport } {
  const store = openCheckpoint(dir);
  try {
    const plan = planLoad(config, store.keys(), (k) => store.info(k), store.source, { requireProjection: opts.requireProjection });
    const weights = loadTensors(store, plan.entries);
    const report: LoadReport = {
      family: plan.config.family, source: store.source, architecture: '', prefix: plan.layout.prefix, parameters: plan.parameters, unused: plan.unused,
    };
    if (!opts.quiet && plan.unused.length) log('info', `${store.source}: ignored ${plan.unused.length} tensors not in the ${plan.config.family} vision tower: ${summariseKeys(plan.unused)}`);
    return { config: plan.config, weights, report };
  } finally {
    store.close();
  }
}

export interface LoadOptions {
  adapter?: string;
  preprocessMode?: PreprocessMode;
  quiet?: boolean;
  /** filled with what was loaded */
  report?: (r: LoadReport) => void;
}

export async function loadVisionModel(dir: string, opts: LoadOptions = {}): Promise<VisionModel> {
  dir = resolveModelPath(dir, { quiet: opts.quiet }); // a folder, or an HF repo id in the local cache
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new LogolabError(`${dir}: model folder not found`);
  assertNotAdapterOnly(abs);
  // a logolab export (base + adapter/) is the fine-tuned model: its adapter is part of it
  const adapter = adapterFor(abs, opts.adapter);
  const { config: cfg0, architecture, requireProjection } = readModelConfig(abs);
  const { config, weights, report } = loadTowerWeights(abs, cfg0, { quiet: opts.quiet, requireProjection });
  report.architecture = architecture;
  opts.report?.(report);
  const tower = FAMILIES[config.family].build(config, weights);
  let model: VisionModel;
  try {
    const { cfg, source } = processorConfigFor(abs, config.family, config, { quiet: opts.quiet });
    model = new Model(config.family, config, abs, makeProcessor(cfg, source, opts.preprocessMode), tower, opts.preprocessMode);
  } catch (e) {
    tower.dispose();
    throw e;
  }
  if (adapter) {
    try {
      if (adapter !== join(abs, EXPORT_ADAPTER_DIR)) checkAdapterBase(model, adapter);
      applyAdapter(model, adapter);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return model;
}

/**
 * A model with random weights of real shapes (presets 'tiny' | 'vit-b16' | 'vit-l14', or an explicit
 * config), built through the same key map as a checkpoint. Deterministic in `seed`.
 */
export function buildVisionModel(family: VisionFamily, config: PresetName | Partial<VisionConfig> | VisionConfig, weights: 'random' = 'random', seed = 0,
  opts: { preprocessMode?: PreprocessMode; /** merged over the family's default preprocessor_config.json (HF field names) */ processorOverrides?: Record<string, unknown> } = {}): VisionModel {
  if (weights !== 'random') throw new LogolabError(`buildVisionModel: weights must be 'random'`);
  const c = typeof config === 'string' ? presetConfig(family, config) : validateVisionConfig({ ...config, family }, `${family} config`);
  const fam = FAMILIES[family];
  const tower = fam.build(c, randomTensors(fam.keyMap(c, fam.canonicalLayout(c)), seed));
  const { cfg: cfg0, source } = processorConfigFor(null, family, c, { quiet: true });
  const over = opts.processorOverrides ?? {};
  const cfg = Object.keys(over).length ? { ...cfg0, ...over } : cfg0;
  let processor: ImageProcessor;
  try {
    processor = makeProcessor(cfg, Object.keys(over).length ? `${source} + image_processor overrides` : source, opts.preprocessMode);
  } catch (e) {
    tower.dispose();
    throw e;
  }
  return new Model(family, c, '', processor, tower, opts.preprocessMode);
}

/** Wraps already-built parts (used by converters/tests that load weights themselves). */
export function modelFromTensors(config: VisionConfig, weights: Map<string, tf.Tensor>, processor: ImageProcessor, dir = ''): VisionModel {
  return new Model(config.family, config, dir, processor, FAMILIES[config.family].build(config, weights));
}
