/**
 * Training configuration: every field of the reference's TrainingConfig (training/config.py), with
 * the same names and defaults, plus the fields this trainer adds (marked "ours"). One zod schema
 * gives the type, the defaults, the validation and the `--help` text: YAML files and CLI overrides
 * both go through it, and unknown keys or wrong types are errors naming the key.
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
import { stringify as stringifyYaml } from 'yaml';
import { parseConfigYaml } from './config-yaml.js';
import { z } from 'zod';
import { LogolabError, UsageError } from '../src/errors.js';
import { notRegularFile } from '../src/io/file-kind.js';
import { DECIMAL_TEXT } from '../src/util/finite.js';
import { LOSS_NAMES } from './losses/names.js';
import { VISION_CONFIG_KEYS } from '../src/models/vision/config.js';
import { presetFamilyClash } from './base-model-spec.js';
import { PROCESSOR_CONFIG_KEYS } from '../src/preprocess/processor-config.js';

// Field builders: each takes the reference's default and the --help text, so one line says the
// field's type, bounds, default and help.
const int = (d: number, help: string, min = 0) => z.int().min(min).default(d).describe(help);
const float = (d: number, help: string, b: { min?: number; gt?: number; max?: number } = {}) => {
  let n = z.number();
  if (b.min !== undefined) n = n.min(b.min);
  if (b.gt !== undefined) n = n.gt(b.gt);
  if (b.max !== undefined) n = n.max(b.max);
  return n.default(d).describe(help);
};
// every string key names a path or a model: '' would be resolved as the working directory
const str = (d: string, help: string) => z.string().min(1).default(d).describe(help);
const bool = (d: boolean, help: string) => z.boolean().default(d).describe(help);
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, d: T[number], help: string) => z.enum(values).default(d as never).describe(help);
const mapping = (help: string) => z.record(z.string(), z.unknown()).default(() => ({})).describe(help);

/**
 * The training configuration: every field of the reference's TrainingConfig with its name and
 * default, then ours. This one schema gives the type (TrainingConfig), the defaults
 * (defaultConfig), the validation (parseConfig, applyOverrides) and the `train --help` text.
 */
export const TrainingConfigSchema = z.strictObject({
  // Base model: a model folder (HF or converted), or `preset:<name>` = a randomly initialised
  // preset of buildVisionModel (full training from scratch, tests, the demo's baseline).
  base_model: str('openai/clip-vit-large-patch14', 'model folder, HF repo id in the local HF cache (org/name[@revision]), or preset:<name> (random init)'),
  // Dataset paths. Training reads only db_path's prepared crops; dataset_dir and reference_dir (the
  // reference's configs set them) are statements about that data, checked against it
  // (training/data_source.ts checkDataPaths) so a wrong one is an error, not a silent no-op. At
  // their defaults they are not given (unchecked: no config has to name them).
  dataset_dir: str('LogoDet-3K', 'the dataset db_path was prepared from: checked against the one db_path records (training reads db_path only; the default means not given)'),
  reference_dir: str('reference_logos', "db_path's reference_logos folder: checked (training reads the crops there; the default means not given)"),
  db_path: str('test_data_mapping.db', 'prepared SQLite database'),
  // Data split configuration
  split_level: oneOf(['logo', 'image'], 'logo', 'split brands (logo) or images within brands (image)'),
  train_split: float(0.7, 'train fraction', { min: 0, max: 1 }),
  // 0 (or a split with no validation images): no best checkpoint and no early stopping; all
  // max_epochs are trained and the final export is last.ckpt (a warning says so)
  val_split: float(0.15, 'validation fraction (0: no validation, so no best checkpoint or early stopping: every epoch is trained and last.ckpt is exported)', { min: 0, max: 1 }),
  test_split: float(0.15, 'test fraction', { min: 0, max: 1 }),
  // Batch construction
  batch_size: int(16, 'most images per forward pass (eval, cached chunks)', 1),
  logos_per_batch: int(32, 'P: brands per micro-batch', 1),
  samples_per_logo: int(4, 'K: images per brand per micro-batch', 1),
  gradient_accumulation_steps: int(8, 'micro-batches per optimizer step', 1),
  num_workers: int(4, 'loader worker threads (decode + augment + preprocess); 0 = on the training thread. Same pixels either way'),
  // (ours) batches the loader builds ahead of the trainer
  prefetch_batches: int(2, 'micro-batches the loader builds ahead of the trainer', 1),
  // Model architecture
  lora_r: int(16, 'LoRA rank (0 = no LoRA: train unfrozen weights)'),
  lora_alpha: float(32, 'LoRA scaling numerator', { gt: 0 }),
  lora_dropout: float(0.1, 'dropout on LoRA inputs', { min: 0, max: 0.99 }),
  freeze_layers: int(12, 'encoder layers frozen from the bottom'),
  use_gradient_checkpointing: bool(true, 'per-block recomputation (memory for compute)'),
  // Training hyperparameters
  learning_rate: float(1e-5, 'peak learning rate', { gt: 0 }),
  weight_decay: float(0.01, 'AdamW decoupled weight decay', { min: 0 }),
  warmup_steps: int(500, 'linear warmup, in optimizer steps'),
  max_epochs: int(20, 'epochs', 1),
  // end the run after this epoch (0 = never), keeping the learning-rate schedule of max_epochs
  stop_after_epochs: int(0, 'end the run after this epoch (0 = never) with the schedule of max_epochs unchanged: a time-budget cut that a from-scratch run reproduces exactly'),
  mixed_precision: bool(true, 'accepted; tfjs computes float32'),
  // Loss function
  // ≥ 1e-4: logits are cosine / temperature, and below it they swamp the losses' −1e9 masks (a
  // masked pair counted, silently) and overflow float32 (1 / 3e-39 = Inf: NaN losses)
  temperature: float(0.07, 'contrastive temperature', { min: 1e-4 }),
  loss_type: oneOf(LOSS_NAMES, 'infonce', 'loss (milnce: any one positive suffices)'),
  triplet_margin: float(0.3, 'triplet margin', { min: 0 }),
  // Early stopping
  patience: int(5, 'evaluations without improvement before stopping', 1),
  min_delta: float(0.001, 'improvement of best_metric that counts as a new best (and resets patience)', { min: 0 }),
  // Checkpoints and output
  checkpoint_dir: str('checkpoints', 'checkpoint folder'),
  output_dir: str('models/logo_detection/clip_finetuned', 'export folder at the end'),
  save_every_n_epochs: int(5, 'periodic checkpoint interval', 1),
  // Logging
  log_every_n_steps: int(10, 'log-file interval (optimizer steps)', 1),
  eval_every_n_epochs: int(1, 'validation interval', 1),
  // Reproducibility
  seed: int(42, 'random seed'),
  // Hard negative mining (declared by the reference but never implemented there)
  use_hard_negatives: bool(false, 'not implemented (nor in the reference)'),
  hard_negative_start_epoch: int(5, 'unused'),
  hard_negatives_per_logo: int(10, 'unused'),
  // Data augmentation
  use_augmentation: bool(true, 'augment training images'),
  augmentation_strength: oneOf(['none', 'light', 'medium', 'strong', 'logo'], 'medium', 'augmentation strength (logo: no flips, any hue, inversion; for pre-training on logo crops)'),

  // ---- ours ----
  // micro-batches per training epoch (the reference hard-coded 1000 in create_dataloaders)
  batches_per_epoch: int(1000, 'micro-batches per epoch', 1),
  // validation micro-batches (the reference used batches_per_epoch // 10)
  val_batches: int(100, 'validation micro-batches', 1),
  // which val crops when the split holds more than val_batches × P·K: 'spread' (a seeded subset,
  // every logo a pair first: training/data/val-subset.ts); 'first' (the first in logo-name order,
  // as logolab did until 2026-12 and the shipped baseline's configs pin, to stay reproducible)
  val_subset: oneOf(['spread', 'first'], 'spread', 'val crops over the cap: spread over logos (seeded) | first in logo-name order'),
  // 'standard': loss per micro-batch (the reference); 'cached': one loss over the whole effective
  // batch (GradCache), so accumulation adds negatives
  contrastive_batch: oneOf(['standard', 'cached'], 'standard', 'standard | cached (GradCache over the effective batch)'),
  max_grad_norm: float(0, 'clip global grad norm (0 = off)', { min: 0 }),
  // stop with an error after this many skipped (non-finite loss or gradient) optimizer steps
  max_nonfinite_steps: int(10, 'stop after this many non-finite steps', 1),
  min_lr_ratio: float(0, 'cosine floor / learning_rate', { min: 0, max: 1 }),
  adam_beta1: float(0.9, 'AdamW β1', { min: 0, max: 0.999999 }),
  adam_beta2: float(0.999, 'AdamW β2', { min: 0, max: 0.99999999 }),
  adam_epsilon: float(1e-8, 'AdamW ε', { gt: 0 }),
  // LoRA target modules (peft names)
  lora_target_modules: z.array(z.string()).default(() => ['q_proj', 'v_proj']).describe('LoRA targets'),
  preprocess_mode: oneOf(['default', 'letterbox', 'stretch'], 'default', 'image preprocessing mode'),
  // with base_model preset:…: overrides of the preset's vision config (e.g. image_size, hidden_size);
  // family may only repeat base_model's (training/base-model-spec.ts)
  vision_config: mapping('preset vision-config overrides (JSON on the command line)'),
  // validation metric that picks the best checkpoint and drives early stopping (val_loss: lower is better)
  best_metric: oneOf(['separation', 'precision_at_1', 'map_at_r', 'val_loss'], 'separation', 'best-checkpoint / early-stopping metric (reference: separation)'),
  // with base_model preset:…: preprocessor_config.json overrides (HF field names), exported with the model
  image_processor: mapping('preset preprocessor_config.json overrides, e.g. {do_center_crop: false, size: {height: 64, width: 64}}'),
  // with base_model preset:…: how the random weights are drawn (src/models/vision/init.ts)
  random_init: oneOf(['uniform', 'clip'], 'uniform', "preset random weights: uniform (std 0.02 everywhere) | clip (HF CLIP's per-layer init; training from scratch)"),
});

export type TrainingConfig = z.output<typeof TrainingConfigSchema>;
type FieldSchema = (typeof TrainingConfigSchema.shape)[keyof TrainingConfig];

export const CONFIG_KEYS = Object.keys(TrainingConfigSchema.shape) as (keyof TrainingConfig)[];

const field = (key: string): FieldSchema | undefined => (Object.hasOwn(TrainingConfigSchema.shape, key) ? TrainingConfigSchema.shape[key as keyof TrainingConfig] : undefined);
/** The schema type under a field's default: number, boolean, string, enum, array or record. */
const baseType = (f: FieldSchema): string => f._zod.def.innerType._zod.def.type;

export function defaultConfig(): TrainingConfig {
  return TrainingConfigSchema.parse({});
}

/** `train --help` text of a field: its help, its choices (enums), its default. */
export function configHelp(key: keyof TrainingConfig): string {
  const f = TrainingConfigSchema.shape[key];
  const inner = f._zod.def.innerType;
  const choices = inner instanceof z.ZodEnum ? `; one of ${inner.options.join('|')}` : '';
  return `${f.description ?? ''} (default ${JSON.stringify(f.parse(undefined))}${choices})`;
}

/** Whether a field is a switch on the command line (--flag / --no-flag). */
export const isBooleanField = (key: keyof TrainingConfig): boolean => baseType(TrainingConfigSchema.shape[key]) === 'boolean';
/** Whether a field is a list (on the command line: comma-separated, or the flag once per item). */
export const isListField = (key: keyof TrainingConfig): boolean => baseType(TrainingConfigSchema.shape[key]) === 'array';

const TYPE_NAMES: Record<string, string> = { int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list of strings', record: 'a mapping' };

/** A value as the user wrote it: JSON.stringify prints NaN, ±Infinity (YAML .nan, .inf, 1e400) as null. */
const shown = (v: unknown): string => (typeof v === 'number' && !Number.isFinite(v) ? `${v} (not a finite number)` : JSON.stringify(v));

/** A field's first schema issue in our words: "key 'x' must be …, got …". */
function issueMessage(f: FieldSchema, issue: z.core.$ZodIssue, key: string, value: unknown, where: string): string {
  const inner = f._zod.def.innerType;
  if (issue.code === 'too_small' && issue.origin === 'string') return `${where}: key '${key}' must not be empty`;
  if (issue.code === 'too_small') return `${where}: key '${key}' must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}, got ${value as number}`;
  if (issue.code === 'too_big') return `${where}: key '${key}' must be ≤ ${issue.maximum}, got ${value as number}`;
  const isInt = inner instanceof z.ZodNumber && inner.isInt;
  const kind = inner instanceof z.ZodEnum ? `one of ${inner.options.join('|')}` : TYPE_NAMES[isInt ? 'int' : inner._zod.def.type]!;
  return `${where}: key '${key}' must be ${kind}, got ${shown(value)}`;
}

/** Checks one value against its field; `fromCli` lets strings stand for numbers/booleans/lists/mappings. */
export function coerceField(key: string, value: unknown, where: string, fromCli = false): unknown {
  const f = field(key);
  if (!f) throw new LogolabError(`${where}: unknown key '${key}'${suggest(key)}`);
  let v = value;
  if (fromCli && typeof v === 'string') {
    const t = baseType(f);
    // decimal text only: Number() reads '0x20' as 32 and '' as 0 (left a string, the schema names it)
    if (t === 'number' && DECIMAL_TEXT.test(v.trim())) v = Number(v);
    else if (t === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true';
    else if (t === 'array') v = v.split(',').map((s) => s.trim()).filter(Boolean);
    else if (t === 'record') {
      try {
        v = JSON.parse(v);
      } catch {
        // left a string: the schema names the expected mapping
      }
    }
  }
  // undefined would take the default: a key given without a value is an error, as in YAML
  const r = v === undefined ? null : f.safeParse(v);
  if (!r || !r.success) throw new LogolabError(issueMessage(f, r?.error.issues[0] ?? ({ code: 'invalid_type' } as z.core.$ZodIssue), key, value, where));
  checkNestedKeys(key, r.data, where);
  return r.data;
}

/**
 * The keys a mapping field's value may hold: its values are checked when the model is built (they
 * depend on base_model's family), but a typo is caught here, named with the file, like a top-level
 * one, before the backend or the model is started.
 */
const NESTED_KEYS: Record<string, readonly string[]> = { vision_config: VISION_CONFIG_KEYS, image_processor: PROCESSOR_CONFIG_KEYS };

function checkNestedKeys(key: string, value: unknown, where: string): void {
  const known = NESTED_KEYS[key];
  if (!known) return;
  for (const k of Object.keys(value as Record<string, unknown>))
    if (!known.includes(k)) throw new LogolabError(`${where}: unknown key '${key}.${k}'${suggest(k, known, `${key}.`)}`);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

function suggest(key: string, keys: readonly string[] = CONFIG_KEYS, prefix = ''): string {
  const norm = key.replace(/-/g, '_').toLowerCase();
  let best: string | null = null;
  let bestD = 3; // suggest only close matches (≤ 2 edits)
  for (const k of keys) {
    const dist = k.replace(/_/g, '') === norm.replace(/_/g, '') ? 0 : editDistance(k, norm);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best && best !== key ? ` (did you mean '${prefix}${best}'?)` : '';
}

/** Builds a config from a parsed object (e.g. YAML) on top of the defaults; `where` names the source. */
export function parseConfig(obj: unknown, where: string, base: TrainingConfig = defaultConfig()): TrainingConfig {
  if (obj === null || obj === undefined) return { ...base };
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new LogolabError(`${where}: expected a mapping of keys to values`);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) out[k] = coerceField(k, v, where);
  const cfg = out as unknown as TrainingConfig;
  const clash = presetFamilyClash(cfg.base_model, cfg.vision_config.family);
  if (clash) throw new LogolabError(`${where}: ${clash}`);
  return cfg;
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
  const obj = parseConfigYaml(text, `config ${path}`);
  // an empty file (or one of comments, or `~`) is not "all defaults": it is most likely the wrong file
  if (obj === null || obj === undefined) throw new LogolabError(`config ${path}: holds no settings (an empty YAML document); a config is a mapping of keys to values (leave --config out for the built-in defaults)`);
  return parseConfig(obj, `config ${path}`);
}

/** Applies overrides (CLI: values may be strings); keys may be snake_case or kebab-case. */
export function applyOverrides(cfg: TrainingConfig, overrides: Record<string, unknown>, where = 'command line'): { config: TrainingConfig; applied: string[] } {
  const out: Record<string, unknown> = { ...cfg };
  const applied: string[] = [];
  const given = new Set<string>(); // the overridden keys, snake_case (--base-model and base_model alike)
  for (const [raw, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const k = raw.replace(/-/g, '_');
    given.add(k);
    try {
      out[k] = coerceField(k, v, `${where} --${k.replace(/_/g, '-')}`, true);
    } catch (e) {
      // a bad value typed on the command line is a usage error (exit 2), like any bad option value
      if (where === 'command line' && e instanceof LogolabError) throw new UsageError(e.message);
      throw e;
    }
    applied.push(`${k} = ${JSON.stringify(out[k])}`);
  }
  const cfgOut = out as unknown as TrainingConfig;
  // the override that made base_model and vision_config.family disagree (the other may be the file's)
  const by = ['vision_config', 'base_model'].find((k) => given.has(k));
  const clash = by ? presetFamilyClash(cfgOut.base_model, cfgOut.vision_config.family) : null;
  if (clash) {
    const msg = `${where} --${by!.replace(/_/g, '-')}: ${clash}`;
    throw where === 'command line' ? new UsageError(msg) : new LogolabError(msg);
  }
  return { config: cfgOut, applied };
}

export function configToYaml(cfg: TrainingConfig): string {
  return stringifyYaml(cfg);
}

export const effectiveBatchSize = (c: TrainingConfig): number => c.logos_per_batch * c.samples_per_logo * c.gradient_accumulation_steps;
export const microBatchSize = (c: TrainingConfig): number => c.logos_per_batch * c.samples_per_logo;
export const stepsPerEpoch = (c: TrainingConfig): number => Math.floor(c.batches_per_epoch / c.gradient_accumulation_steps);
export const totalSteps = (c: TrainingConfig): number => stepsPerEpoch(c) * c.max_epochs;
