/**
 * Where a run's base model is and whether it is still the one trained on.
 *
 *   - base_model is resolved against the working directory ONCE, when the model is built for
 *     training, and the absolute path goes into the checkpoint: export and resume find the same
 *     folder from any directory.
 *   - the checkpoint carries a fingerprint of the base (config, preprocessor config, every frozen
 *     tensor as loaded, before any adapter or training): export and resume refuse a base whose
 *     fingerprint differs, instead of merging trained weights into whatever now sits at that path.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogolabError } from '../src/errors.js';
export { baseFingerprint } from '../src/models/base-fingerprint.js';
import { log } from '../src/util/log.js';
import type { ModelDescription } from './checkpoint.js';

export const isPreset = (base: string): boolean => base.startsWith('preset:');

/** A model folder as an absolute path (relative to the working directory); presets unchanged. */
export function resolveBaseModel(base: string): string {
  return isPreset(base) ? base : resolve(base);
}

/** The base model a checkpoint was trained on, as a path that exists (error naming it otherwise). */
export function checkpointBaseModel(desc: ModelDescription, source: string): string {
  const base = desc.base_model;
  if (isPreset(base)) return base;
  const abs = resolve(base); // checkpoints written before paths were resolved: relative to cwd
  if (!existsSync(abs)) throw new LogolabError(`${source}: its base model ${abs} was not found (the checkpoint needs the model it was trained on)`);
  return abs;
}

/** Refuses a base model whose fingerprint differs from the one recorded when training started. */
export function verifyBaseModel(recorded: ModelDescription, now: ModelDescription, source: string): void {
  if (!recorded.base_fingerprint) {
    log('warn', `${source}: written by an older logolab without a base-model fingerprint; cannot verify that ${now.base_model} is the model it was trained on`);
    return;
  }
  if (recorded.base_fingerprint !== now.base_fingerprint)
    throw new LogolabError(
      `${source}: its base model ${now.base_model} has changed since the checkpoint was written (fingerprint ${now.base_fingerprint?.slice(0, 12)}…, trained on ${recorded.base_fingerprint.slice(0, 12)}…); restore the original base model`,
    );
}
