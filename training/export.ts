/**
 * Export a training checkpoint (the Python original's export_model.py, in HF formats):
 *
 *   hf      model.safetensors in the HF class's own layout (CLIP: CLIPVisionModelWithProjection,
 *           `vision_model.*` + `visual_projection.weight`, torch [out, in] Linear weights) +
 *           config.json + preprocessor_config.json. LoRA is always merged (an HF model has no
 *           adapters). transformers loads it; so does `logolab embed --model <dir>`.
 *   peft    the LoRA adapter only (adapter_config.json + adapter_model.safetensors, peft key names);
 *           base_model_name_or_path (and revision) = the training base model as peft fetches it
 *           (adapterBase: a hub id at its commit, a folder's path; null for a preset).
 *   logolab the hf folder of the BASE weights plus the adapter in `adapter/` (unmerged), or merged
 *           weights with --merge-lora; load with loadVisionModel(dir, { adapter: dir/adapter }).
 * Every format writes export_metadata.json (base model, epochs, best separation, merged, head, and
 * `preprocess_mode`: the mode the model was trained and validated under, which loadVisionModel
 * applies when its caller names none — preprocessor_config.json cannot say it) and the output
 * marker (src/io/output-dir.ts). The folder is written atomically (temp folder + rename) and only
 * replaces an earlier export, an empty folder, or — with --overwrite — a foreign one; never a
 * folder holding the checkpoint or the base model.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { checkOutputDir, OUTPUT_MARKER, replaceOutputDir, type OutputGuard } from '../src/io/output-dir.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { mergeLora } from '../src/models/lora/apply.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, saveAdapter } from '../src/models/lora/io.js';
import { FAMILIES, type VisionModel } from '../src/models/vision/index.js';
import { onDiskTensors } from '../src/models/vision/weights.js';
import { hfVisionConfig, type VisionConfig } from '../src/models/vision/config.js';
import { EXPORT_METADATA_FILE, PREPROCESS_MODE_KEY } from '../src/models/vision/meta.js';
import { EXPORT_ADAPTER_DIR } from '../src/models/export-folder.js';
import { parseRepoRef } from '../src/models/hub.js';
import { log } from '../src/util/log.js';
import { loadCheckpoint, type Checkpoint, type ModelDescription } from './checkpoint.js';
import { assignParams, buildTrainableModel, type TrainableModel } from './model.js';
import { checkpointBaseModel, isPreset, verifyBaseModel } from './provenance.js';
import type { TrainingConfig } from './config.js';
import { outputDirClash, trainingInputs } from './config-checks.js';

export type ExportFormat = 'logolab' | 'hf' | 'peft';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['logolab', 'hf', 'peft'];

/**
 * Rebuilds the trained model of a checkpoint: its base model (the absolute path recorded at
 * training start, verified against the recorded fingerprint) + the trained values.
 */
export async function modelFromCheckpoint(ck: Checkpoint, source: string): Promise<TrainableModel> {
  const cfg = { ...ck.state.config, base_model: checkpointBaseModel(ck.state.model, source) };
  const tm = await buildTrainableModel(cfg, ck.state.model.vision_config as Partial<VisionConfig>);
  try {
    verifyBaseModel(ck.state.model, tm.description, source);
    assignParams(tm.params, ck.params, source);
  } catch (e) {
    tm.dispose();
    throw e;
  }
  return tm;
}

/** Writes the model's tower in its HF class layout (inverse of the loader's key map). */
export function writeHfModel(model: VisionModel, dir: string): string[] {
  const fam = FAMILIES[model.family];
  const entries = fam.keyMap(model.config, fam.canonicalLayout(model.config));
  const tensors = onDiskTensors(entries, new Map(model.namedTensors()));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeJsonAtomic(join(dir, 'config.json'), { ...hfVisionConfig(model.config), torch_dtype: 'float32' });
  writeJsonAtomic(join(dir, 'preprocessor_config.json'), model.processor.config);
  return [...tensors.keys()];
}

/**
 * The base an adapter names in adapter_config.json, as peft reads it: AutoPeftModel loads
 * `base_model_name_or_path` at `revision`. A base given as an HF repo id is that id at the snapshot
 * commit trained on, not the snapshot's path in this machine's cache; a local folder is its path; a
 * preset (random weights that exist only inside logolab) has no name a loader could fetch: null,
 * and export_metadata.json's base_model says which preset it was.
 */
export function adapterBase(m: Pick<ModelDescription, 'base_model' | 'base_model_hub'>): { baseModel: string | null; revision: string | null } {
  if (isPreset(m.base_model)) return { baseModel: null, revision: null };
  const hub = m.base_model_hub ? parseRepoRef(m.base_model_hub.ref) : null;
  if (hub && m.base_model_hub) return { baseModel: hub.repoId, revision: m.base_model_hub.commit };
  return { baseModel: m.base_model, revision: null };
}

export interface ExportOptions {
  format?: ExportFormat;
  mergeLora?: boolean;
  /** replace a non-empty folder that is not an earlier export */
  overwrite?: boolean;
  /** how the output folder was named, for messages ('--out', 'output_dir') */
  flag?: string;
}

/** Every file an export writes, in any format: all that a folder from before the marker may hold to be replaced. */
export const EXPORT_FILES: readonly string[] = [
  'model.safetensors', 'config.json', 'preprocessor_config.json', EXPORT_METADATA_FILE, ADAPTER_CONFIG, ADAPTER_WEIGHTS,
  `${EXPORT_ADAPTER_DIR}/${ADAPTER_CONFIG}`, `${EXPORT_ADAPTER_DIR}/${ADAPTER_WEIGHTS}`,
];

/**
 * The rules for an export folder (src/io/output-dir.ts): a checkpoint, base model or training data
 * (`data`: the run's config; config-checks.ts trainingInputs) inside it is never replaced, not even with
 * --overwrite. (An export folder inside the data or base model: exportCheckpoint, validateConfig.)
 */
export function exportGuard(checkpoint: string, opts: ExportOptions = {}, baseModel?: string, data?: Pick<TrainingConfig, 'db_path' | 'dataset_dir' | 'reference_dir'>): OutputGuard {
  const protect = [{ path: resolve(checkpoint), what: 'checkpoint being exported' }];
  if (baseModel && !baseModel.startsWith('preset:')) protect.push({ path: resolve(baseModel), what: 'base model' });
  if (data) for (const p of trainingInputs({ ...data, base_model: 'preset:' })) protect.push({ path: p.path, what: `training data (${p.key})` });
  return { command: 'export', flag: opts.flag ?? '--out', legacyMarkers: [EXPORT_METADATA_FILE], ownFiles: EXPORT_FILES, overwrite: opts.overwrite, protect };
}

export interface ExportResult {
  dir: string;
  format: ExportFormat;
  merged: boolean;
  files: string[];
}

export async function exportCheckpoint(checkpoint: string, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const format = opts.format ?? 'logolab';
  if (!EXPORT_FORMATS.includes(format)) throw new LogolabError(`--format: '${format}' is not one of ${EXPORT_FORMATS.join(', ')}`);
  const ck = loadCheckpoint(checkpoint);
  const isLora = ck.state.model.lora !== null;
  if (format === 'peft' && !isLora) throw new LogolabError(`${checkpoint}: --format peft needs a LoRA checkpoint, this one is full training (lora_r 0); use --format hf`);
  if (format === 'peft' && opts.mergeLora) throw new LogolabError('--merge-lora cannot be combined with --format peft (an adapter is unmerged by definition)');
  // a flag that would change nothing is refused rather than ignored: the user expected a merge
  if (opts.mergeLora && !isLora) throw new LogolabError(`${checkpoint}: --merge-lora needs a LoRA checkpoint, this one is full training (lora_r 0) and has no adapter to merge; export it without --merge-lora`);
  // trained on a logolab export (base + adapter/): the model loaded it with its adapter merged
  // (training/model.ts loadBaseModel), so the base the fingerprint and the new adapter belong to
  // is that merged model, while the folder's model.safetensors holds the un-merged weights, which
  // is what a peft loader (base_model_name_or_path) would load: wrong embeddings, silently
  const base = ck.state.model.base_model;
  if (format === 'peft' && !base.startsWith('preset:') && existsSync(join(resolve(base), EXPORT_ADAPTER_DIR, 'adapter_config.json')))
    throw new LogolabError(
      `${checkpoint}: --format peft cannot be used: it was trained on ${base}, a logolab export whose ${EXPORT_ADAPTER_DIR}/ was merged into the weights it trained on, but a peft loader would load that folder's un-merged weights; use --format hf (merged) or --format logolab (for a peft adapter, train on a merged copy of the base: export it with --merge-lora)`,
    );
  const guard = exportGuard(checkpoint, opts, base, ck.state.config);
  // an export folder inside the training data or the base model would replace part of it
  const clash = outputDirClash(outDir, { ...ck.state.config, base_model: base }, opts.flag ?? '--out');
  if (clash) throw new LogolabError(clash);
  checkOutputDir(outDir, guard); // before the (slow) model build
  if (format === 'peft' && isPreset(base))
    log('warn', `${checkpoint}: trained on ${base}, random weights no peft or transformers loader can fetch: adapter_config.json's base_model_name_or_path is null; load the adapter onto the base yourself (PeftModel.from_pretrained(base, dir)), e.g. the base weights of an --format logolab export of this checkpoint`);
  const tm = await modelFromCheckpoint(ck, checkpoint);
  const merged = isLora && (format === 'hf' || !!opts.mergeLora);
  const files: string[] = [];
  try {
    await replaceOutputDir(outDir, guard, (tmp) => {
      if (format === 'peft') {
        saveAdapter(tm.model, tmp, { ...adapterBase(ck.state.model), config: ck.state.model.lora as never });
        files.push('adapter_config.json', 'adapter_model.safetensors');
      } else if (format === 'hf' || merged || !isLora) {
        if (isLora) mergeLora(tm.model);
        writeHfModel(tm.model, tmp);
        files.push('model.safetensors', 'config.json', 'preprocessor_config.json');
      } else {
        // logolab, unmerged LoRA: base weights + adapter/
        saveAdapter(tm.model, join(tmp, 'adapter'), { ...adapterBase(ck.state.model), config: ck.state.model.lora as never });
        // named tensors are the frozen base (adapters live beside the Linear weights)
        writeHfModel(tm.model, tmp);
        files.push('model.safetensors', 'config.json', 'preprocessor_config.json', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors');
      }
      const s = ck.state;
      writeJsonAtomic(join(tmp, EXPORT_METADATA_FILE), {
        base_model: s.model.base_model,
        // given as an HF repo id: the id and the snapshot commit trained on
        ...(s.model.base_model_hub ? { base_model_hub: s.model.base_model_hub } : {}),
        // the adapter's base: loading this adapter onto another model is refused (src/models/export-folder.ts)
        base_fingerprint: s.model.base_fingerprint ?? null,
        source_checkpoint: checkpoint,
        format,
        family: s.model.family,
        training_epochs: s.epoch,
        global_step: s.global_step,
        best_val_separation: s.best_separation,
        best_epoch: s.best_epoch,
        lora_merged: merged,
        lora: s.model.lora,
        trainable_tensors: s.model.trainable.length,
        head: s.model.head,
        // the rebuilt model's own mode (the checkpoint's config, as training applied it): the
        // exported weights only reproduce validation under it
        [PREPROCESS_MODE_KEY]: tm.model.processor.mode ?? 'default',
        embedding: 'image_embeds (L2-normalised)',
        exported_at: new Date().toISOString(),
      });
      files.push(EXPORT_METADATA_FILE, OUTPUT_MARKER);
    });
  } finally {
    tm.dispose();
  }
  return { dir: outDir, format, merged, files };
}
