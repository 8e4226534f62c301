/**
 * Where a run's base model is and whether it is still the one trained on.
 *
 *   - base_model is resolved against the working directory ONCE, when the model is built for
 *     training, and the absolute path goes into the checkpoint: export and resume find the same
 *     folder from any directory. An HF repo id (org/name[@revision]) that is not a local path is
 *     resolved through the local HF cache (src/models/hub.ts) to its snapshot folder, which the
 *     checkpoint records (with the id and commit, base_model_hub) — pinned to that commit.
 *   - the checkpoint carries a fingerprint of the base (config, preprocessor config, every frozen
 *     tensor as loaded, before any adapter or training): export and resume refuse a base whose
 *     fingerprint differs, instead of merging trained weights into whatever now sits at that path.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { parseRepoRef, resolveModelPath } from '../src/models/hub.js';
export { baseFingerprint } from '../src/models/base-fingerprint.js';
import { log } from '../src/util/log.js';
import type { ModelDescription } from './checkpoint.js';

export const isPreset = (base: string): boolean => base.startsWith('preset:');

/** The HF repo id `base` names: an org/name[@revision] that is not a local path (a path that exists wins), else null. */
export function baseModelRepoId(base: string): string | null {
  return !isPreset(base) && !existsSync(resolve(base)) && parseRepoRef(base) ? base : null;
}

/** base_model as a config keeps it: a path made absolute (against the working directory); a repo id and presets unchanged. */
export function absoluteBaseModel(base: string): string {
  return isPreset(base) || baseModelRepoId(base) ? base : resolve(base);
}

/**
 * The absolute model folder `base` names: a path (relative to the working directory), or a repo
 * id's snapshot in the local HF cache (never downloaded; the error says where it looked and how
 * to fetch it); presets unchanged.
 */
export function resolveBaseModel(base: string, opts: { quiet?: boolean } = { quiet: true }): string {
  return baseModelRepoId(base) ? resolve(resolveModelPath(base, opts)) : absoluteBaseModel(base);
}

/** The base model a checkpoint was trained on, as a path that exists (error naming it otherwise). */
export function checkpointBaseModel(desc: ModelDescription, source: string): string {
  const base = desc.base_model;
  if (isPreset(base)) return base;
  const abs = resolve(base); // checkpoints written before paths were resolved: relative to cwd
  if (!existsSync(abs)) throw new LogolabError(`${source}: its base model ${abs} was not found (the checkpoint needs the model it was trained on)`);
  return abs;
}

/** The config keys a preset's random initial weights are drawn from (training/model.ts loadBaseModel). */
const PRESET_DRAWN_FROM = ['seed', 'vision_config', 'image_processor', 'random_init'] as const;

/** For a preset base model: those keys that differ between the checkpoint's config and today's, as "key was → now". */
export function presetDrawChanges(was: Partial<Record<(typeof PRESET_DRAWN_FROM)[number], unknown>>, now: typeof was): string[] {
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  return PRESET_DRAWN_FROM.filter((k) => JSON.stringify(was[k] ?? null) !== JSON.stringify(now[k] ?? null)).map((k) => `${k} ${show(was[k])} → ${show(now[k])}`);
}

/**
 * Refuses a base model whose fingerprint differs from the one recorded when training started.
 * `presetChanges` (a preset base model: presetDrawChanges) says why its weights differ: they are
 * drawn anew from the config, not read from a folder that could be restored.
 */
export function verifyBaseModel(recorded: ModelDescription, now: ModelDescription, source: string, presetChanges?: string[]): void {
  if (!recorded.base_fingerprint) {
    log('warn', `${source}: written by an older logolab without a base-model fingerprint; cannot verify that ${now.base_model} is the model it was trained on`);
    return;
  }
  if (recorded.base_fingerprint === now.base_fingerprint) return;
  const prints = `fingerprint ${now.base_fingerprint?.slice(0, 12)}…, trained on ${recorded.base_fingerprint.slice(0, 12)}…`;
  if (isPreset(now.base_model))
    throw new LogolabError(
      `${source}: its base model ${now.base_model} is random weights drawn from the config${presetChanges?.length ? `, and the config changed since the checkpoint (${presetChanges.join(', ')})` : ''}: they are not the weights it was trained on (${prints}); resume with the checkpoint's ${PRESET_DRAWN_FROM.join(', ')}`,
    );
  throw new LogolabError(`${source}: its base model ${now.base_model} has changed since the checkpoint was written (${prints}); restore the original base model`);
}
