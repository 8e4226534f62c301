/**
 * Loading a vision model: a checkpoint's keys planned against the family's key map (planLoad), the
 * weights read and checked (loadTowerWeights), the tower built and wrapped with its processor and
 * adapter (loadVisionModel); random models of real shapes through the same key map (buildVisionModel).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LogolabError } from '../../errors.js';
import { openCheckpoint } from '../../io/checkpoint.js';
import { log } from '../../util/log.js';
import { adapterFor, assertNotAdapterOnly, checkAdapterBase, EXPORT_ADAPTER_DIR } from '../export-folder.js';
import { resolveModelPath } from '../hub.js';
import { loadAdapter } from '../lora/io.js';
import { validateVisionConfig, type VisionConfig, type VisionFamily } from './config.js';
import { FAMILIES } from './families.js';
import { readModelConfig, readRecordedPreprocessMode, type RecordedPreprocessMode } from './meta.js';
import { Model, type VisionModel } from './model.js';
import { presetConfig, type PresetName } from './presets.js';
import { makeProcessor, processorConfigFor, type ImageProcessor, type PreprocessMode } from './processor.js';
import { PREPROCESS_MODES } from '../../preprocess/processors.js';
import type { Layout } from './tower.js';
import { checkKeyMap, loadTensors, parameterCount, randomTensors, summariseKeys, unusedKeys, type KeyEntry } from './weights.js';
import { clipInitStd, type RandomInit } from './init.js';

/** Applies a peft-format LoRA adapter folder (src/models/lora checks every key, shape and config field). */
function applyAdapter(model: VisionModel, dir: string, quiet?: boolean): void {
  const r = loadAdapter(model, dir);
  // a note like loadTowerWeights' "ignored N tensors": `quiet` (the API's LogoLab.load) silences it
  if (!quiet) log('info', `adapter ${dir}: LoRA on ${r.sites.length} modules (${r.trainable.toLocaleString('en-US')} parameters)${r.ignored.length ? `; ignored ${r.ignored.length} text-tower keys` : ''}`);
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
  const unused = unusedKeys(entries, keys);
  // an unused tensor inside the tower's encoder is a layer beyond config.json's depth, or a part of a
  // layer this architecture lacks: the model would run without it — a different model, silently
  const stray = unused.filter((k) => k.startsWith(layout.prefix) && /^encoder\.layers?\.\d+\./.test(k.slice(layout.prefix.length)));
  if (stray.length) {
    const depth = Math.max(...stray.map((k) => Number(/\.layers?\.(\d+)\./.exec(k.slice(layout.prefix.length))![1])));
    throw new LogolabError(
      depth >= cfg.num_hidden_layers
        ? `${source}: holds encoder layer ${depth} (${stray.length} tensors beyond the config), but config num_hidden_layers is ${cfg.num_hidden_layers}; the model would silently run without them`
        : `${source}: tensor '${stray[0]}' (${stray.length} in all) is not part of the ${cfg.family} encoder layer this config describes; refusing to drop it`,
    );
  }
  return { config: cfg, layout, entries, unused, parameters: parameterCount(entries) };
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
  /**
   * undefined (the usual case): the mode the model was trained under, as its export recorded it
   * (readRecordedPreprocessMode), else 'default'. A mode given here is used as given; when it
   * differs from the recorded one a warning names both.
   */
  preprocessMode?: PreprocessMode;
  quiet?: boolean;
  /** filled with what was loaded */
  report?: (r: LoadReport) => void;
}

/**
 * The recorded training mode of the model being loaded: an adapter from elsewhere (a peft export,
 * or another export's adapter/) was trained last, so its export's record describes the model
 * (base + adapter); else the model folder's own record.
 */
function recordedModeOf(abs: string, adapter: string | undefined): RecordedPreprocessMode | null {
  if (adapter && resolve(adapter) !== join(abs, EXPORT_ADAPTER_DIR)) {
    const a = resolve(adapter);
    // a peft export keeps export_metadata.json beside the adapter; a logolab export one level up
    const own = readRecordedPreprocessMode(a) ?? (basename(a) === EXPORT_ADAPTER_DIR ? readRecordedPreprocessMode(dirname(a)) : null);
    if (own) return own;
  }
  return readRecordedPreprocessMode(abs);
}

/** The mode to load with: the caller's when given (a differing record is warned about), else the recorded one, else 'default'. */
export function resolvePreprocessMode(asked: PreprocessMode | undefined, recorded: RecordedPreprocessMode | null, model: string): PreprocessMode {
  if (asked === undefined) return recorded?.mode ?? 'default';
  // an unknown mode is refused by the processor (makeProcessor), not warned about here
  if (recorded && asked !== recorded.mode && PREPROCESS_MODES.includes(asked))
    log('warn', `${model}: using preprocess mode '${asked}' as asked, but the model was trained and validated with '${recorded.mode}' (${recorded.source}); its embeddings will differ from the validated ones — leave the mode out to use '${recorded.mode}'`);
  return asked;
}

export async function loadVisionModel(dir: string, opts: LoadOptions = {}): Promise<VisionModel> {
  dir = resolveModelPath(dir, { quiet: opts.quiet }); // a folder, or an HF repo id in the local cache
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new LogolabError(`${dir}: model folder not found`);
  assertNotAdapterOnly(abs);
  // a logolab export (base + adapter/) is the fine-tuned model: its adapter is part of it
  const adapter = adapterFor(abs, opts.adapter);
  // before any weight is read: a bad record fails fast. Not silenced by `quiet`: a mode that
  // contradicts the model's record changes every embedding, whoever loads it
  const mode = resolvePreprocessMode(opts.preprocessMode, recordedModeOf(abs, adapter), dir);
  const { config: cfg0, architecture, requireProjection } = readModelConfig(abs);
  const { config, weights, report } = loadTowerWeights(abs, cfg0, { quiet: opts.quiet, requireProjection });
  report.architecture = architecture;
  opts.report?.(report);
  const tower = FAMILIES[config.family].build(config, weights);
  let model: VisionModel;
  try {
    const { cfg, source } = processorConfigFor(abs, config.family, config, { quiet: opts.quiet });
    model = new Model(config.family, config, abs, makeProcessor(cfg, source, mode), tower);
  } catch (e) {
    tower.dispose();
    throw e;
  }
  if (adapter) {
    try {
      if (adapter !== join(abs, EXPORT_ADAPTER_DIR)) checkAdapterBase(model, adapter);
      applyAdapter(model, adapter, opts.quiet);
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
  opts: { preprocessMode?: PreprocessMode; /** merged over the family's default preprocessor_config.json (HF field names) */ processorOverrides?: Record<string, unknown>;
    /** 'uniform' (default): std 0.02 for every weight; 'clip': HF CLIP's per-layer init (init.ts), for training from scratch */ init?: RandomInit } = {}): VisionModel {
  if (weights !== 'random') throw new LogolabError(`buildVisionModel: weights must be 'random'`);
  const c = typeof config === 'string' ? presetConfig(family, config) : validateVisionConfig({ ...config, family }, `${family} config`);
  const fam = FAMILIES[family];
  if (opts.init === 'clip' && family !== 'clip') throw new LogolabError(`random init 'clip' is for the CLIP family (got ${family})`);
  const tower = fam.build(c, randomTensors(fam.keyMap(c, fam.canonicalLayout(c)), seed, opts.init === 'clip' ? (e) => clipInitStd(e.name, c) : undefined));
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
  return new Model(family, c, '', processor, tower);
}

/** Wraps already-built parts (used by converters/tests that load weights themselves). */
export function modelFromTensors(config: VisionConfig, weights: Map<string, tf.Tensor>, processor: ImageProcessor, dir = ''): VisionModel {
  return new Model(config.family, config, dir, processor, FAMILIES[config.family].build(config, weights));
}
