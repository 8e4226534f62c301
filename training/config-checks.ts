/**
 * Checks of a whole training configuration, after parseConfig has checked each field: the
 * reference's validate() warnings, settings that do nothing, cross-field impossibilities, and the
 * output folder that would replace one of the run's inputs.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { isWithin } from '../src/io/output-dir.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR } from '../src/data/db-schema.js';
import { defaultConfig, effectiveBatchSize, microBatchSize, stepsPerEpoch, totalSteps, type TrainingConfig } from './config.js';

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/**
 * What a run reads (or, for dataset_dir, was prepared from) that a folder replaced as a whole —
 * the export to output_dir at the end of training, or `logolab export --out` — must not delete:
 * db_path and its data folder's crops and test images, dataset_dir and reference_dir when given
 * (at their defaults they are "not given": training/data_source.ts checkDataPaths), and the base
 * model folder. `inside`: an output folder inside it is refused too (it would replace a brand
 * folder of the crops or the dataset, or a model's own adapter/ — the weights loaded as the base).
 */
export function trainingInputs(c: Pick<TrainingConfig, 'db_path' | 'dataset_dir' | 'reference_dir' | 'base_model'>): { key: string; path: string; inside: boolean }[] {
  const d = defaultConfig();
  const db = resolve(c.db_path);
  // db_path names the database file or its data folder (data_source.ts dataDirOf)
  const dataDir = existsSync(db) && !statSync(db).isDirectory() ? dirname(db) : db;
  const out = [
    { key: 'db_path', path: db, inside: false },
    { key: `db_path's ${REFERENCE_DIR}`, path: join(dataDir, REFERENCE_DIR), inside: true },
    { key: `db_path's ${TEST_IMAGES_DIR}`, path: join(dataDir, TEST_IMAGES_DIR), inside: true },
  ];
  if (c.dataset_dir !== d.dataset_dir) out.push({ key: 'dataset_dir', path: resolve(c.dataset_dir), inside: true });
  if (c.reference_dir !== d.reference_dir) out.push({ key: 'reference_dir', path: resolve(c.reference_dir), inside: true });
  // an HF repo id names a snapshot in the HF cache, a preset no folder: only a folder here counts
  if (!c.base_model.startsWith('preset:') && isDir(resolve(c.base_model))) out.push({ key: 'base_model', path: resolve(c.base_model), inside: true });
  return out;
}

/**
 * Why the output folder `out` (named `outKey` in the message) would delete or replace one of the
 * run's inputs (trainingInputs), or null. Both keys and paths are named.
 */
export function outputDirClash(out: string, c: Pick<TrainingConfig, 'db_path' | 'dataset_dir' | 'reference_dir' | 'base_model'>, outKey = 'output_dir'): string | null {
  const o = resolve(out);
  for (const p of trainingInputs(c)) {
    const rel = o === p.path ? 'equals' : isWithin(p.path, o) ? 'contains' : p.inside && isWithin(o, p.path) ? 'is inside' : null;
    if (rel) return `${outKey} ${out} ${rel} ${p.key} ${p.path}; the export replaces ${outKey} as a whole and would delete or replace it — write the model to a folder of its own (e.g. run/model)`;
  }
  return null;
}

/** The settings of the LoRA layers, which lora_r 0 (no LoRA) leaves unused. */
const LORA_SETTINGS = ['lora_alpha', 'lora_dropout', 'lora_target_modules'] as const satisfies readonly (keyof TrainingConfig)[];

/**
 * The reference's validate() warnings (same checks), plus ours. Impossible values (e.g.
 * temperature ≤ 0, negative freeze_layers), which the reference only warned about, are rejected
 * earlier by parseConfig; cross-field impossibilities throw here.
 */
export function validateConfig(c: TrainingConfig, opts: { export?: boolean } = {}): string[] {
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
  // settings the run never reads, given other than their defaults (the config layer cannot tell a
  // default typed out from one left out): each is named, as lora_r 0's are below
  const d = defaultConfig();
  const given = (k: keyof TrainingConfig) => JSON.stringify(c[k]) !== JSON.stringify(d[k]);
  const ignored = (keys: (keyof TrainingConfig)[], why: string) => {
    const k = keys.filter(given);
    if (k.length) w.push(`${k.map((x) => `${x} (${JSON.stringify(c[x])})`).join(', ')} ${k.length === 1 ? 'is' : 'are'} ignored: ${why}`);
  };
  // nothing reads them (hard-negative mining is not implemented, with or without the switch)
  if (!c.use_hard_negatives) ignored(['hard_negative_start_epoch', 'hard_negatives_per_logo'], 'use_hard_negatives is false (and hard-negative mining is not implemented)');
  // training/losses/index.ts getLoss: the margin goes to triplet and combined only, the temperature to every loss but triplet
  if (c.loss_type !== 'triplet' && c.loss_type !== 'combined') ignored(['triplet_margin'], `loss_type ${c.loss_type} has no margin (only triplet and combined use it)`);
  if (c.loss_type === 'triplet') ignored(['temperature'], 'the triplet loss has no temperature');
  // training/data_source.ts: augment = use_augmentation ? augmentation_strength : 'none'
  if (!c.use_augmentation) ignored(['augmentation_strength'], 'use_augmentation is false');
  // epoch-policy.ts epochBudgetMessage: it stops only an epoch before max_epochs
  if (c.stop_after_epochs > 0 && c.stop_after_epochs >= c.max_epochs) w.push(`stop_after_epochs (${c.stop_after_epochs}) ≥ max_epochs (${c.max_epochs}) is ignored: the run ends at max_epochs anyway`);
  // validation runs at the end of every eval_every_n_epochs-th epoch (trainer.ts validateEpoch):
  // none before the run ends is val_split 0's case (its warning comes from the trainer)
  const cut = c.stop_after_epochs > 0 && c.stop_after_epochs < c.max_epochs;
  const lastEpoch = cut ? c.stop_after_epochs : c.max_epochs;
  if (c.val_split > 0 && c.eval_every_n_epochs > lastEpoch)
    w.push(`eval_every_n_epochs (${c.eval_every_n_epochs}) > ${cut ? `stop_after_epochs (${c.stop_after_epochs})` : `max_epochs (${c.max_epochs})`}: the run ends before its first validation, so no best checkpoint and no early stopping; every epoch is trained and last.ckpt is the final model`);
  if (c.lora_r === 0) {
    // no LoRA (unfrozen weights are trained): its settings, given other than their defaults, do nothing
    const unused = LORA_SETTINGS.filter((k) => JSON.stringify(c[k]) !== JSON.stringify(d[k]));
    if (unused.length) w.push(`lora_r is 0 (no LoRA: the unfrozen weights are trained), so ${unused.map((k) => `${k} (${JSON.stringify(c[k])})`).join(', ')} ${unused.length === 1 ? 'is' : 'are'} ignored`);
  }
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
  // … nor the training data or the base model: refused even with --overwrite (which only lets the
  // export replace a foreign folder), before any training; a run without the export (--skip-export:
  // export: false) writes nothing there, and `logolab export` checks its --out itself
  const clash = opts.export === false ? null : outputDirClash(c.output_dir, c);
  if (clash) throw new LogolabError(`config: ${clash}`);
  return w;
}

/** The one-time note about mixed_precision (tfjs has no float16 compute). */
export function mixedPrecisionNote(c: TrainingConfig): string | null {
  return c.mixed_precision
    ? 'mixed_precision: true accepted, but tfjs computes in float32 (under tfjs-node-gpu, TensorFlow uses TF32 tensor cores on Ampere and newer GPUs); no loss scaling is needed'
    : null;
}
