/**
 * The first optimizer-step losses of the shipped baseline's training command
 * (scripts/train-baseline.sh: synth set A seed 1 → prepare → `logolab train --config
 * configs/baseline_tiny.yaml` with the same path overrides), run in-process for a few steps.
 * Used by test/demo/baseline-card.test.ts (compares with models/logolab-tiny-clip/first_losses.json)
 * and to write that file:
 *   npx tsx scripts/baseline-first-losses.ts <work dir> [steps] [--write models/logolab-tiny-clip/first_losses.json]
 * <work dir> must hold synthA/ and dataA/ made by the script's own synth/prepare lines (they are made
 * here when missing, with exactly those lines).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.js';
import { synthesize } from '../src/data/synth/index.js';
import { prepareDataset } from '../src/data/prepare.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { applyOverrides, loadConfigFile } from '../training/config.js';
import { dbDataSource } from '../training/data_source.js';
import { buildTrainableModel } from '../training/model.js';
import { Trainer } from '../training/trainer.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** scripts/train-baseline.sh's synth line (test/demo/baseline-card.test.ts checks they agree) */
export const BASELINE_SYNTH = {
  brandSet: 'A' as const, brands: 2245, labelBy: 'shape' as const, renditionsPerShape: 1, imagesPerBrand: 1, targetsPerScene: 4, minSide: 128, maxSide: 160, negatives: 0, seed: 1,
};
/** the CLI spelling of each BASELINE_SYNTH field */
export const SYNTH_FLAGS: Record<keyof typeof BASELINE_SYNTH, string> = {
  brandSet: '--brand-set', brands: '--brands', labelBy: '--label-by', renditionsPerShape: '--renditions-per-shape', imagesPerBrand: '--images-per-brand',
  targetsPerScene: '--targets-per-scene', minSide: '--min-side', maxSide: '--max-side', negatives: '--negatives', seed: '--seed',
};

export async function baselineData(work: string): Promise<void> {
  if (!existsSync(join(work, 'synthA', 'synth.json'))) await synthesize({ out: join(work, 'synthA'), ...BASELINE_SYNTH, quiet: true });
  await prepareDataset({ dataset: join(work, 'synthA'), out: join(work, 'dataA'), quiet: true }); // resumable and idempotent
}

export async function baselineFirstLosses(work: string, steps: number): Promise<number[]> {
  await initBackend('wasm');
  await baselineData(work);
  const ck = mkdtempSync(join(tmpdir(), 'logolab-baseline-ck-'));
  const { config } = applyOverrides(loadConfigFile(join(ROOT, 'configs', 'baseline_tiny.yaml')), {
    dataset_dir: join(work, 'synthA'), reference_dir: join(work, 'dataA', 'reference_logos'), db_path: join(work, 'dataA'), checkpoint_dir: ck, output_dir: join(ck, 'model'),
  });
  const tm = await buildTrainableModel(config);
  const losses: number[] = [];
  const data = dbDataSource(config, tm.model.processor);
  const trainer = new Trainer(config, tm, data, { quiet: true, stopAfterSteps: steps, onStep: (s) => losses.push(s.loss) });
  try {
    await trainer.train();
  } finally {
    await data.close();
    trainer.dispose();
    tm.dispose();
    rmSync(ck, { recursive: true, force: true });
  }
  return losses;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [work, n, flag, file] = process.argv.slice(2);
  if (!work) throw new Error('usage: baseline-first-losses.ts <work dir> [steps] [--write file]');
  const losses = await baselineFirstLosses(resolve(work), Number(n ?? 5));
  process.stdout.write(JSON.stringify(losses) + '\n');
  if (flag === '--write' && file) writeJsonAtomic(file, { command: 'scripts/train-baseline.sh (configs/baseline_tiny.yaml, seed 1234; data: synth set A, shape labels, seed 1)', backend: 'wasm', tolerance: 1e-5, note: `losses of optimizer steps 1-${losses.length}, from \`npx tsx scripts/baseline-first-losses.ts runs/baseline ${losses.length}\` on wasm`, first_losses: losses });
}
