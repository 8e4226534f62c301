/**
 * Small, fast fixtures shared by the fault trials (built once per test file, in a temp folder):
 * a converted tiny CLIP model, a LoRA training run on it (2 optimizer steps), its logolab-format
 * export (base + adapter/), and a tiny prepared data dir.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir, useBackend } from '../helpers.js';
import { convertModel } from '../../src/models/format.js';
import { parseConfig, type TrainingConfig } from '../../training/config.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { exportCheckpoint } from '../../training/export.js';
import { synthSource } from '../training/synth-source.js';
import { makeTinyDataDir } from '../eval/tinydata.js';
import { setLogLevel } from '../../src/util/log.js';

process.env.LOGOLAB_QUIET = '0';
setLogLevel('warn');

export const ROOT_TMP = tmpDir('logolab-faults-');
// everything a trial writes lives under ROOT_TMP: removed when the test file's process ends
process.on('exit', () => rmSync(ROOT_TMP, { recursive: true, force: true }));
export const BACKEND = ['--backend', 'wasm'];

const memo = new Map<string, Promise<unknown>>();
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) memo.set(key, (p = make()));
  return p;
}

export const backend = () => once('backend', () => useBackend('wasm'));

/** A converted tiny CLIP (4 layers, 32 px) — a stand-in for a user's base model folder. */
export const baseModel = () =>
  once('base', async () => {
    await backend();
    const dir = join(ROOT_TMP, 'base');
    await convertModel(join(FIXTURES, 'clip_tiny/model'), dir);
    return dir;
  });

/** The training config of the tiny LoRA run (checkpoints in <dir>/checkpoints, export in <dir>/model). */
export async function loraConfig(dir: string, over: Record<string, unknown> = {}): Promise<TrainingConfig> {
  return parseConfig(
    {
      base_model: await baseModel(), lora_r: 2, lora_alpha: 4, lora_dropout: 0, freeze_layers: 2, logos_per_batch: 4, samples_per_logo: 2,
      gradient_accumulation_steps: 1, batches_per_epoch: 2, val_batches: 1, batch_size: 8, max_epochs: 1, learning_rate: 5e-2, warmup_steps: 0,
      checkpoint_dir: join(dir, 'checkpoints'), output_dir: join(dir, 'model'), seed: 3, mixed_precision: false, ...over,
    },
    'fault-trial config',
  );
}

export const tinySource = () => synthSource({ classes: 6, itemsPerClass: 6, size: 32, P: 4, K: 2, seed: 2, valBatches: 1 });

/** Trains the tiny LoRA run into `dir`; returns the last checkpoint. */
export async function trainLora(dir: string, over: Record<string, unknown> = {}, opts: ConstructorParameters<typeof Trainer>[3] = {}): Promise<{ cfg: TrainingConfig; last: string; result: Awaited<ReturnType<Trainer['train']>> }> {
  await backend();
  const cfg = await loraConfig(dir, over);
  const tm = await buildTrainableModel(cfg);
  const tr = new Trainer(cfg, tm, tinySource(), { quiet: true, ...opts });
  try {
    const result = await tr.train();
    return { cfg, last: result.last_checkpoint, result };
  } finally {
    tr.dispose();
    tm.dispose();
  }
}

/** One finished LoRA run (shared, read-only: copy it before changing anything). */
export const loraRun = () =>
  once('lora', async () => {
    const dir = join(ROOT_TMP, 'lora-run');
    const r = await trainLora(dir);
    return { dir, checkpoints: join(dir, 'checkpoints'), last: r.last, cfg: r.cfg };
  });

/** Its logolab-format export (base weights + adapter/, unmerged). */
export const loraExport = () =>
  once('export', async () => {
    const run = await loraRun();
    const dir = join(ROOT_TMP, 'lora-export');
    await exportCheckpoint(run.last, dir, { format: 'logolab' });
    return dir;
  });

/** A copy of the shared run that a trial may damage. */
export async function copyOfRun(name: string): Promise<{ dir: string; checkpoints: string; last: string }> {
  const run = await loraRun();
  const dir = join(ROOT_TMP, name);
  cpSync(run.dir, dir, { recursive: true });
  return { dir, checkpoints: join(dir, 'checkpoints'), last: join(dir, 'checkpoints', 'last.ckpt') };
}

/** Tiny prepared data dir (4 logos, 64×48 scenes). */
export const dataDir = () =>
  once('data', async () => {
    const dir = join(ROOT_TMP, 'data');
    await makeTinyDataDir(dir, { perLogo: 4, negatives: 3 });
    return dir;
  });

/** A folder the user owns (must never be touched). */
export function foreignFolder(name: string): string {
  const dir = join(ROOT_TMP, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'thesis.tex'), '\\documentclass{article} % precious\n');
  writeFileSync(join(dir, 'sub', 'data.csv'), 'a,b\n1,2\n');
  return dir;
}
