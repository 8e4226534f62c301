/**
 * Training configuration: every field of the reference's TrainingConfig (training/config.py), with
 * the same names and defaults, plus the fields this trainer adds (marked "ours"). One place for
 * types, defaults and validation: YAML files and CLI overrides both go through `parseConfig`, and
 * unknown keys or wrong types are errors naming the key.
 *
 * Batch semantics (the reference's, made explicit):
 *   micro-batch      = logos_per_batch × samples_per_logo images (one P×K batch from the sampler)
 *   optimizer step   = gradient_accumulation_steps micro-batches
 *   effective batch  = logos_per_batch × samples_per_logo × gradient_accumulation_steps images
 *   batch_size       = the reference never used it (its comment says "Not used directly"); here it
 *                      is the most images put through one forward pass (evaluation, and the
 *                      chunks of `contrastive_batch: cached`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { resolve } from 'node:path';
import { LogolabError, UsageError } from '../src/errors.js';
import { isWithin } from '../src/io/output-dir.js';
import { notRegularFile } from '../src/io/file-kind.js';

export interface TrainingConfig {
  // Base model: a model folder (HF or converted), or `preset:<name>` = a randomly initialised
  // preset of buildVisionModel (full training from scratch, tests, the demo's baseline).
  base_model: string;
  // Dataset paths
  dataset_dir: string;
  reference_dir: string;
  db_path: string;
  // Data split configuration
  split_level: 'logo' | 'image';
  train_split: number;
  val_split: number;
  test_split: number;
  // Batch construction
  batch_size: number;
  logos_per_batch: number;
  samples_per_logo: number;
  gradient_accumulation_steps: number;
  num_workers: number;
  /** (ours) batches the loader builds ahead of the trainer */
  prefetch_batches: number;
  // Model architecture
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  freeze_layers: number;
  use_gradient_checkpointing: boolean;
  // Training hyperparameters
  learning_rate: number;
  weight_decay: number;
  warmup_steps: number;
  max_epochs: number;
  /** end the run after this epoch (0 = never), keeping the learning-rate schedule of max_epochs */
  stop_after_epochs: number;
  mixed_precision: boolean;
  // Loss function
  temperature: number;
  loss_type: 'infonce' | 'supcon' | 'triplet' | 'combined';
  triplet_margin: number;
  // Early stopping
  patience: number;
  min_delta: number;
  // Checkpoints and output
  checkpoint_dir: string;
  output_dir: string;
  save_every_n_epochs: number;
  // Logging
  log_every_n_steps: number;
  eval_every_n_epochs: number;
  // Reproducibility
  seed: number;
  // Hard negative mining (declared by the reference but never implemented there)
  use_hard_negatives: boolean;
  hard_negative_start_epoch: number;
  hard_negatives_per_logo: number;
  // Data augmentation
  use_augmentation: boolean;
  augmentation_strength: 'none' | 'light' | 'medium' | 'strong' | 'logo';

  // ---- ours ----
  /** micro-batches per training epoch (the reference hard-coded 1000 in create_dataloaders) */
  batches_per_epoch: number;
  /** validation micro-batches (the reference used batches_per_epoch // 10) */
  val_batches: number;
  /** 'standard': loss per micro-batch (the reference); 'cached': one loss over the whole
   *  effective batch (GradCache), so accumulation adds negatives */
  contrastive_batch: 'standard' | 'cached';
  /** clip the global gradient norm to this (0 = off) */
  max_grad_norm: number;
  /** stop with an error after this many skipped (non-finite loss or gradient) optimizer steps */
  max_nonfinite_steps: number;
  /** cosine floor as a fraction of learning_rate */
  min_lr_ratio: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  /** LoRA target modules (peft names) */
  lora_target_modules: string[];
  /** preprocessing mode of the model's image processor */
  preprocess_mode: 'default' | 'letterbox' | 'stretch';
  /** with base_model preset:…: overrides of the preset's vision config (e.g. image_size, hidden_size) */
  vision_config: Record<string, unknown>;
  /** validation metric that picks the best checkpoint and drives early stopping (val_loss: lower is better) */
  best_metric: 'separation' | 'precision_at_1' | 'map_at_r' | 'val_loss';
  /** with base_model preset:…: preprocessor_config.json overrides (HF field names), exported with the model */
  image_processor: Record<string, unknown>;
  /** with base_model preset:…: how the random weights are drawn (src/models/vision/init.ts) */
  random_init: 'uniform' | 'clip';
}

type Kind = 'int' | 'float' | 'string' | 'bool' | 'string[]' | 'object' | { enum: readonly string[] };

interface FieldSpec {
  kind: Kind;
  default: unknown;
  help: string;
  /** inclusive lower bound (numbers) */
  min?: number;
  /** exclusive lower bound (numbers) */
  gt?: number;
  max?: number;
}

/** Every field: type, default (the reference's), help. Record<keyof …> keeps this complete. */
export const CONFIG_FIELDS: Record<keyof TrainingConfig, FieldSpec> = {
  base_model: { kind: 'string', default: 'openai/clip-vit-large-patch14', help: 'model folder, HF repo id in the local HF cache (org/name[@revision]), or preset:<name> (random init)' },
  dataset_dir: { kind: 'string', default: 'LogoDet-3K', help: 'source dataset folder' },
  reference_dir: { kind: 'string', default: 'reference_logos', help: 'folder of reference logo crops' },
  db_path: { kind: 'string', default: 'test_data_mapping.db', help: 'prepared SQLite database' },
  split_level: { kind: { enum: ['logo', 'image'] }, default: 'logo', help: 'split brands (logo) or images within brands (image)' },
  train_split: { kind: 'float', default: 0.7, min: 0, max: 1, help: 'train fraction' },
  val_split: { kind: 'float', default: 0.15, min: 0, max: 1, help: 'validation fraction' },
  test_split: { kind: 'float', default: 0.15, min: 0, max: 1, help: 'test fraction' },
  batch_size: { kind: 'int', default: 16, min: 1, help: 'most images per forward pass (eval, cached chunks)' },
  logos_per_batch: { kind: 'int', default: 32, min: 1, help: 'P: brands per micro-batch' },
  samples_per_logo: { kind: 'int', default: 4, min: 1, help: 'K: images per brand per micro-batch' },
  gradient_accumulation_steps: { kind: 'int', default: 8, min: 1, help: 'micro-batches per optimizer step' },
  num_workers: { kind: 'int', default: 4, min: 0, help: 'loader worker threads (decode + augment + preprocess); 0 = on the training thread. Same pixels either way' },
  prefetch_batches: { kind: 'int', default: 2, min: 1, help: 'micro-batches the loader builds ahead of the trainer' },
  lora_r: { kind: 'int', default: 16, min: 0, help: 'LoRA rank (0 = no LoRA: train unfrozen weights)' },
  lora_alpha: { kind: 'float', default: 32, gt: 0, help: 'LoRA scaling numerator' },
  lora_dropout: { kind: 'float', default: 0.1, min: 0, max: 0.99, help: 'dropout on LoRA inputs' },
  freeze_layers: { kind: 'int', default: 12, min: 0, help: 'encoder layers frozen from the bottom' },
  use_gradient_checkpointing: { kind: 'bool', default: true, help: 'per-block recomputation (memory for compute)' },
  learning_rate: { kind: 'float', default: 1e-5, gt: 0, help: 'peak learning rate' },
  weight_decay: { kind: 'float', default: 0.01, min: 0, help: 'AdamW decoupled weight decay' },
  warmup_steps: { kind: 'int', default: 500, min: 0, help: 'linear warmup, in optimizer steps' },
  max_epochs: { kind: 'int', default: 20, min: 1, help: 'epochs' },
  stop_after_epochs: { kind: 'int', default: 0, min: 0, help: 'end the run after this epoch (0 = never) with the schedule of max_epochs unchanged: a time-budget cut that a from-scratch run reproduces exactly' },
  mixed_precision: { kind: 'bool', default: true, help: 'accepted; tfjs computes float32' },
  temperature: { kind: 'float', default: 0.07, gt: 0, help: 'contrastive temperature' },
  loss_type: { kind: { enum: ['infonce', 'supcon', 'triplet', 'combined'] }, default: 'infonce', help: 'loss' },
  triplet_margin: { kind: 'float', default: 0.3, min: 0, help: 'triplet margin' },
  patience: { kind: 'int', default: 5, min: 1, help: 'evaluations without improvement before stopping' },
  min_delta: { kind: 'float', default: 0.001, min: 0, help: 'separation improvement that counts' },
  checkpoint_dir: { kind: 'string', default: 'checkpoints', help: 'checkpoint folder' },
  output_dir: { kind: 'string', default: 'models/logo_detection/clip_finetuned', help: 'export folder at the end' },
  save_every_n_epochs: { kind: 'int', default: 5, min: 1, help: 'periodic checkpoint interval' },
  log_every_n_steps: { kind: 'int', default: 10, min: 1, help: 'log-file interval (optimizer steps)' },
  eval_every_n_epochs: { kind: 'int', default: 1, min: 1, help: 'validation interval' },
  seed: { kind: 'int', default: 42, min: 0, help: 'random seed' },
  use_hard_negatives: { kind: 'bool', default: false, help: 'not implemented (nor in the reference)' },
  hard_negative_start_epoch: { kind: 'int', default: 5, min: 0, help: 'unused' },
  hard_negatives_per_logo: { kind: 'int', default: 10, min: 0, help: 'unused' },
  use_augmentation: { kind: 'bool', default: true, help: 'augment training images' },
  augmentation_strength: { kind: { enum: ['none', 'light', 'medium', 'strong', 'logo'] }, default: 'medium', help: "augmentation strength (logo: no flips, any hue, inversion; for pre-training on logo crops)" },
  batches_per_epoch: { kind: 'int', default: 1000, min: 1, help: 'micro-batches per epoch' },
  val_batches: { kind: 'int', default: 100, min: 1, help: 'validation micro-batches' },
  contrastive_batch: { kind: { enum: ['standard', 'cached'] }, default: 'standard', help: 'standard | cached (GradCache over the effective batch)' },
  max_grad_norm: { kind: 'float', default: 0, min: 0, help: 'clip global grad norm (0 = off)' },
  max_nonfinite_steps: { kind: 'int', default: 10, min: 1, help: 'stop after this many non-finite steps' },
  min_lr_ratio: { kind: 'float', default: 0, min: 0, max: 1, help: 'cosine floor / learning_rate' },
  adam_beta1: { kind: 'float', default: 0.9, min: 0, max: 0.999999, help: 'AdamW β1' },
  adam_beta2: { kind: 'float', default: 0.999, min: 0, max: 0.99999999, help: 'AdamW β2' },
  adam_epsilon: { kind: 'float', default: 1e-8, gt: 0, help: 'AdamW ε' },
  lora_target_modules: { kind: 'string[]', default: ['q_proj', 'v_proj'], help: 'LoRA targets' },
  preprocess_mode: { kind: { enum: ['default', 'letterbox', 'stretch'] }, default: 'default', help: 'image preprocessing mode' },
  vision_config: { kind: 'object', default: {}, help: 'preset vision-config overrides (JSON on the command line)' },
  best_metric: { kind: { enum: ['separation', 'precision_at_1', 'map_at_r', 'val_loss'] }, default: 'separation', help: 'best-checkpoint / early-stopping metric (reference: separation)' },
  image_processor: { kind: 'object', default: {}, help: 'preset preprocessor_config.json overrides, e.g. {do_center_crop: false, size: {height: 64, width: 64}}' },
  random_init: { kind: { enum: ['uniform', 'clip'] }, default: 'uniform', help: "preset random weights: uniform (std 0.02 everywhere) | clip (HF CLIP's per-layer init; training from scratch)" },
};

export const CONFIG_KEYS = Object.keys(CONFIG_FIELDS) as (keyof TrainingConfig)[];

export function defaultConfig(): TrainingConfig {
  const c: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const d = CONFIG_FIELDS[k].default as unknown;
    c[k] = Array.isArray(d) ? [...d] : d !== null && typeof d === 'object' ? { ...d } : d;
  }
  return c as unknown as TrainingConfig;
}

function kindName(k: Kind): string {
  return typeof k === 'string' ? { int: 'an integer', float: 'a number', string: 'a string', bool: 'true or false', 'string[]': 'a list of strings', object: 'a mapping' }[k] : `one of ${k.enum.join('|')}`;
}

/** Checks one value against its spec; `fromCli` lets strings stand for numbers/booleans. */
export function coerceField(key: string, value: unknown, where: string, fromCli = false): unknown {
  const spec = CONFIG_FIELDS[key as keyof TrainingConfig];
  if (!spec) {
    throw new LogolabError(`${where}: unknown key '${key}'${suggest(key)}`);
  }
  const bad = (): never => {
    throw new LogolabError(`${where}: key '${key}' must be ${kindName(spec.kind)}, got ${JSON.stringify(value)}`);
  };
  let v = value;
  const k = spec.kind;
  if (k === 'int' || k === 'float') {
    if (fromCli && typeof v === 'string' && v.trim() !== '') v = Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) bad();
    if (k === 'int' && !Number.isInteger(v)) bad();
    const n = v as number;
    if (spec.min !== undefined && n < spec.min) throw new LogolabError(`${where}: key '${key}' must be ≥ ${spec.min}, got ${n}`);
    if (spec.gt !== undefined && !(n > spec.gt)) throw new LogolabError(`${where}: key '${key}' must be > ${spec.gt}, got ${n}`);
    if (spec.max !== undefined && n > spec.max) throw new LogolabError(`${where}: key '${key}' must be ≤ ${spec.max}, got ${n}`);
  } else if (k === 'bool') {
    if (fromCli && (v === 'true' || v === 'false')) v = v === 'true';
    if (typeof v !== 'boolean') bad();
  } else if (k === 'object') {
    if (fromCli && typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        bad();
      }
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) bad();
    v = { ...(v as Record<string, unknown>) };
  } else if (k === 'string') {
    if (typeof v !== 'string') bad();
  } else if (k === 'string[]') {
    if (fromCli && typeof v === 'string') v = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad();
    v = [...(v as string[])];
  } else {
    if (typeof v !== 'string' || !k.enum.includes(v)) bad();
  }
  return v;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

function suggest(key: string): string {
  const norm = key.replace(/-/g, '_').toLowerCase();
  let best: string | null = null;
  let bestD = 3; // suggest only close matches (≤ 2 edits)
  for (const k of CONFIG_KEYS) {
    const dist = k.replace(/_/g, '') === norm.replace(/_/g, '') ? 0 : editDistance(k, norm);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best && best !== key ? ` (did you mean '${best}'?)` : '';
}

/** Builds a config from a parsed object (e.g. YAML) on top of the defaults; `where` names the source. */
export function parseConfig(obj: unknown, where: string, base: TrainingConfig = defaultConfig()): TrainingConfig {
  if (obj === null || obj === undefined) return { ...base };
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new LogolabError(`${where}: expected a mapping of keys to values`);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) out[k] = coerceField(k, v, where);
  return out as unknown as TrainingConfig;
}

export function loadConfigFile(path: string): TrainingConfig {
  let text: string;
  const why = notRegularFile(path); // a FIFO would block the read
  if (why) throw new LogolabError(`config ${path}: cannot read: ${why.slice(path.length + 2)}`);
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LogolabError(`config ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (e) {
    throw new LogolabError(`config ${path}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseConfig(obj, `config ${path}`);
}

/** Applies overrides (CLI: values may be strings); keys may be snake_case or kebab-case. */
export function applyOverrides(cfg: TrainingConfig, overrides: Record<string, unknown>, where = 'command line'): { config: TrainingConfig; applied: string[] } {
  const out: Record<string, unknown> = { ...cfg };
  const applied: string[] = [];
  for (const [raw, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const k = raw.replace(/-/g, '_');
    try {
      out[k] = coerceField(k, v, `${where} --${k.replace(/_/g, '-')}`, true);
    } catch (e) {
      // a bad value typed on the command line is a usage error (exit 2), like any bad option value
      if (where === 'command line' && e instanceof LogolabError) throw new UsageError(e.message);
      throw e;
    }
    applied.push(`${k} = ${JSON.stringify(out[k])}`);
  }
  return { config: out as unknown as TrainingConfig, applied };
}

export function configToYaml(cfg: TrainingConfig): string {
  return stringifyYaml(cfg);
}

export const effectiveBatchSize = (c: TrainingConfig): number => c.logos_per_batch * c.samples_per_logo * c.gradient_accumulation_steps;
export const microBatchSize = (c: TrainingConfig): number => c.logos_per_batch * c.samples_per_logo;
export const stepsPerEpoch = (c: TrainingConfig): number => Math.floor(c.batches_per_epoch / c.gradient_accumulation_steps);
export const totalSteps = (c: TrainingConfig): number => stepsPerEpoch(c) * c.max_epochs;

/**
 * The reference's validate() warnings (same checks), plus ours. Impossible values (e.g.
 * temperature ≤ 0, negative freeze_layers), which the reference only warned about, are rejected
 * earlier by parseConfig; cross-field impossibilities throw here.
 */
export function validateConfig(c: TrainingConfig): string[] {
  const w: string[] = [];
  const total = c.train_split + c.val_split + c.test_split;
  if (Math.abs(total - 1) > 0.01) w.push(`Split ratios sum to ${+total.toFixed(6)}, expected 1.0`);
  // The reference computed batch_size × accumulation, but its batch_size was unused: the real
  // effective batch is P × K × accumulation.
  const eff = effectiveBatchSize(c);
  if (eff < 64)
    w.push(`Effective batch size (${eff}) is small for contrastive learning. Consider increasing logos_per_batch, samples_per_logo or gradient_accumulation_steps.`);
  if (c.lora_r > 0 && c.lora_alpha < c.lora_r) w.push(`lora_alpha (${c.lora_alpha}) < lora_r (${c.lora_r}). This may reduce LoRA effectiveness.`);
  if (c.temperature > 1) w.push(`temperature (${c.temperature}) is high. Typical values are 0.05-0.1.`);
  if (c.samples_per_logo < 2) w.push('samples_per_logo < 2: micro-batches have no positive pairs, so the contrastive loss is zero');
  if (c.use_hard_negatives) w.push('use_hard_negatives is not implemented (the reference declared it but never used it); ignored');
  if (c.batches_per_epoch % c.gradient_accumulation_steps !== 0)
    w.push(`batches_per_epoch (${c.batches_per_epoch}) is not a multiple of gradient_accumulation_steps (${c.gradient_accumulation_steps}): each epoch runs ${stepsPerEpoch(c)} optimizer steps`);
  if (c.warmup_steps >= totalSteps(c)) w.push(`warmup_steps (${c.warmup_steps}) ≥ total optimizer steps (${totalSteps(c)}): the learning rate never reaches its peak`);
  if (c.contrastive_batch === 'cached' && c.gradient_accumulation_steps === 1 && c.batch_size >= microBatchSize(c))
    w.push("contrastive_batch 'cached' with one micro-batch per step and batch_size ≥ P×K is the same as 'standard'");
  if (stepsPerEpoch(c) < 1) throw new LogolabError(`config: batches_per_epoch (${c.batches_per_epoch}) < gradient_accumulation_steps (${c.gradient_accumulation_steps}): no optimizer step per epoch`);
  // the export at the end replaces output_dir as a whole: it must not hold the checkpoints
  if (isWithin(c.checkpoint_dir, c.output_dir))
    throw new LogolabError(
      `config: output_dir ${c.output_dir} ${resolve(c.output_dir) === resolve(c.checkpoint_dir) ? 'equals' : 'contains'} checkpoint_dir ${c.checkpoint_dir}; the export at the end replaces output_dir and would delete the checkpoints — use separate folders (e.g. run/model and run/checkpoints)`,
    );
  return w;
}

/** The one-time note about mixed_precision (tfjs has no float16 compute). */
export function mixedPrecisionNote(c: TrainingConfig): string | null {
  return c.mixed_precision
    ? 'mixed_precision: true accepted, but tfjs computes in float32 (under tfjs-node-gpu, TensorFlow uses TF32 tensor cores on Ampere and newer GPUs); no loss scaling is needed'
    : null;
}
