/**
 * The paths of a training run, fixed when `logolab train` starts:
 *   - every path in the config is made absolute (against the working directory at that moment),
 *     so the checkpoint's config means the same files when resumed or exported from elsewhere;
 *   - a resumed run writes into the folder of the checkpoint it resumes (a copied run stays
 *     separate from the original), unless --checkpoint-dir is given; an output_dir that lay
 *     inside the original run's folder moves with it.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isWithin } from '../src/io/output-dir.js';
import { log } from '../src/util/log.js';
import type { TrainState } from './checkpoint.js';
import { defaultConfig, type TrainingConfig } from './config.js';
import { absoluteBaseModel, resolveBaseModel } from './provenance.js';

const DEFAULTS = defaultConfig();

/** Keys a resume may move (not a config difference). */
export const RELOCATED: (keyof TrainingConfig)[] = ['checkpoint_dir', 'output_dir', 'base_model'];

export function absolutePaths(c: TrainingConfig): TrainingConfig {
  return {
    ...c,
    base_model: absoluteBaseModel(c.base_model), // an HF repo id stays one (resolved when the model is built)
    // at their defaults these two are "not given" (checkDataPaths skips them): kept as typed, so a
    // checkpoint records no path for them that a resume from another folder would then check
    dataset_dir: c.dataset_dir === DEFAULTS.dataset_dir ? c.dataset_dir : resolve(c.dataset_dir),
    reference_dir: c.reference_dir === DEFAULTS.reference_dir ? c.reference_dir : resolve(c.reference_dir),
    db_path: resolve(c.db_path),
    checkpoint_dir: resolve(c.checkpoint_dir),
    output_dir: resolve(c.output_dir),
  };
}

/**
 * Why a checkpoint cannot be resumed exactly under today's split rule, or null. A logolab before
 * image-level `val_split: 0` meant no validation gave every logo one validation photo all the
 * same: such a run's history holds validation metrics, and its later epochs would now train on
 * another split than its first ones.
 */
export function legacySplitRefusal(c: Pick<TrainingConfig, 'split_level' | 'val_split'>, history: readonly { val?: unknown }[], source: string): string | null {
  if (c.split_level !== 'image' || c.val_split !== 0 || !history.some((h) => h.val)) return null;
  return `--resume ${source}: this run (image-level split, val_split 0) was started by an earlier logolab that still validated on one photo per logo; this version validates on none, so its split differs and the resume would not be exact — start over (--overwrite) or finish it with the version that started it`;
}

/**
 * A checkpoint config `c` of an older version, which made the default dataset_dir / reference_dir
 * absolute (<cwd>/LogoDet-3K, <cwd>/reference_logos), compared with the resumed run's `now`: where
 * `now` has the default, such a path is taken back to it, so the resume does not report a change.
 */
export function legacyDataPaths(c: TrainingConfig, now: TrainingConfig): TrainingConfig {
  const back = (k: 'dataset_dir' | 'reference_dir') => (now[k] === DEFAULTS[k] && isAbsolute(c[k]) && basename(c[k]) === DEFAULTS[k] ? DEFAULTS[k] : c[k]);
  return { ...c, dataset_dir: back('dataset_dir'), reference_dir: back('reference_dir') };
}

/**
 * Paths for resuming `resume` (state = its checkpoint state) with `cfg` (already absolute).
 * `given.config`: a --config file was given; `given.overrides`: command-line config keys.
 */
export function resumePaths(cfg: TrainingConfig, state: TrainState, resume: string, given: { config: boolean; overrides: Record<string, unknown> }): TrainingConfig {
  const out = { ...cfg };
  // the model it was trained on, by the absolute path recorded at training start
  if (!given.config && given.overrides.base_model === undefined) out.base_model = resolveBaseModel(state.model.base_model);
  if (given.overrides.checkpoint_dir !== undefined) return out;
  const ckDir = dirname(resolve(resume));
  if (ckDir === cfg.checkpoint_dir) return out;
  const runRoot = dirname(cfg.checkpoint_dir);
  out.checkpoint_dir = ckDir;
  log('info', `resume: checkpoints go to ${ckDir}, the resumed checkpoint's folder (not ${cfg.checkpoint_dir}); --checkpoint-dir chooses another`);
  if (given.overrides.output_dir === undefined) {
    if (isWithin(cfg.output_dir, runRoot) && !isWithin(ckDir, cfg.output_dir)) {
      out.output_dir = join(dirname(ckDir), relative(runRoot, cfg.output_dir));
      log('info', `resume: output_dir moves with the run to ${out.output_dir}`);
    } else log('warn', `resume: the final export goes to output_dir ${cfg.output_dir}, outside the resumed run's folder; --output-dir chooses another`);
  }
  return out;
}

/** The files a run writes into checkpoint_dir (trainer.ts), and nothing else. */
const RUN_FILE = /^(?:last|best|epoch_\d+)\.ckpt$|^training_history\.json$|^train\.log$/;
/** Their temp names (src/io/atomic.ts tempPathFor: .<name>.<pid>.<n>.tmp) */
const RUN_TEMP = /^\.((?:last|best|epoch_\d+)\.ckpt|training_history\.json)\.\d+\.\d+\.tmp$/;

/** "a", "a and b", "a, b and c" */
export function andList(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/**
 * The files of an earlier run in `dir` (names the trainer writes), in the order a person reads
 * them: last.ckpt, best.ckpt, epoch_N.ckpt by N, training_history.json, train.log.
 */
export function earlierRunFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const rank = (f: string) => (f === 'last.ckpt' ? -3 : f === 'best.ckpt' ? -2 : f.startsWith('epoch_') ? Number(/\d+/.exec(f)![0]) : f === 'training_history.json' ? 1e9 : 1e9 + 1);
  return readdirSync(dir).filter((f) => RUN_FILE.test(f)).sort((a, b) => rank(a) - rank(b));
}

/**
 * A start-over (--overwrite) in a checkpoint_dir that holds an earlier run's files: they move into
 * `previous-run-<time>/` there, so that no best.ckpt or epoch_N.ckpt of that run is left beside
 * the new run's (a later export of best.ckpt would export the old run); their temp files (writes
 * that never finished) are removed. Only the names the trainer writes; nothing else is touched.
 * Call it holding the folder's run lock (no other run writes there). Returns the folder and the
 * files moved, or null when there were none.
 */
export function setAsideEarlierRun(dir: string): { folder: string; files: string[] } | null {
  if (!existsSync(dir)) return null;
  for (const f of readdirSync(dir)) if (RUN_TEMP.test(f)) rmSync(join(dir, f), { force: true });
  const files = earlierRunFiles(dir);
  if (!files.length) return null;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let folder = join(dir, `previous-run-${stamp}`);
  for (let n = 2; existsSync(folder); n++) folder = join(dir, `previous-run-${stamp}-${n}`);
  mkdirSync(folder);
  for (const f of files) renameSync(join(dir, f), join(folder, f));
  return { folder, files };
}
