/**
 * The programmatic API's argument checks (api.ts): options, references and embeddings from the
 * caller are refused with an error naming them before any work, instead of failing later or not
 * at all.
 */
import { BACKEND_CHOICES } from './backend/index.js';
import { LogolabError } from './errors.js';
import { DETR_RANGES } from './detect/detector.js';
import type { MatchOptions } from './match/matchers.js';
import { firstNonFinite, nonFiniteName } from './util/finite.js';
import { l2normalize } from './util/vector.js';
import type { LoadOptions } from './api-types.js';

/** The LoadOptions that only a detector reads. */
export const DETECTOR_OPTIONS = ['detrThreshold', 'minBoxSize', 'nmsIouThreshold'] as const;

/** Every LoadOptions key: a misspelt one (`detectr`) would otherwise be ignored without a word. */
const LOAD_OPTIONS: readonly (keyof LoadOptions)[] = ['encoder', 'adapter', 'detector', ...DETECTOR_OPTIONS, 'preprocessMode', 'backend', 'batchSize'];

/** The detector settings' ranges, under LoadOptions' names (the CLI's flags check the same DETR_RANGES). */
const DETECTOR_RANGES: Record<(typeof DETECTOR_OPTIONS)[number], { min: number; max?: number; lt?: number }> = { detrThreshold: DETR_RANGES.threshold, minBoxSize: DETR_RANGES.minBoxSize, nmsIouThreshold: DETR_RANGES.nmsIouThreshold };

/** Every MatchOptions key (a misspelt one would leave the default in force silently). */
export const MATCH_OPTIONS: readonly (keyof MatchOptions)[] = ['method', 'threshold', 'margin', 'minMatchingRefs', 'aggregation'];


/** What a value is, for a message. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * LoadOptions checked before anything is loaded: a wrong type or range would otherwise surface
 * much later (a batch size of 0 at the first embed, as a `--batch-size` message) or not at all.
 */
export function checkLoadOptions(o: unknown): LoadOptions {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new LogolabError(`LogoLab.load: expected an options object ({ encoder: '<model folder>', … }), got ${kindOf(o)}`);
  for (const k of Object.keys(o)) {
    if (!(LOAD_OPTIONS as string[]).includes(k)) throw new LogolabError(`LogoLab.load: unknown option \`${k}\` (LoadOptions are ${LOAD_OPTIONS.join(', ')})`);
  }
  const lo = o as LoadOptions;
  if (typeof lo.encoder !== 'string' || !lo.encoder) throw new LogolabError('LogoLab.load: `encoder` (model folder) is required');
  // '' would mean "no adapter" or "no detector" without saying so: leave the key out for that
  for (const k of ['adapter', 'detector'] as const) {
    const v = lo[k];
    if (v !== undefined && (typeof v !== 'string' || !v)) throw new LogolabError(`LogoLab.load: \`${k}\` must name a folder, got ${typeof v === 'string' ? "''" : kindOf(v)} (leave it out for none)`);
  }
  for (const k of DETECTOR_OPTIONS) {
    const v = lo[k];
    if (v === undefined) continue;
    const r = DETECTOR_RANGES[k];
    // lt: an exclusive bound (a DETR threshold of 1 keeps no box: scores are probabilities < 1)
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= r.min && (r.lt === undefined ? r.max === undefined || v <= r.max : v < r.lt);
    const range = r.lt !== undefined ? `in [${r.min}, ${r.lt})` : r.max === undefined ? `≥ ${r.min}` : `in [${r.min}, ${r.max}]`;
    if (!ok) throw new LogolabError(`LogoLab.load: \`${k}\` must be a number ${range}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  }
  if (lo.batchSize !== undefined && !(typeof lo.batchSize === 'number' && Number.isInteger(lo.batchSize) && lo.batchSize >= 1)) {
    throw new LogolabError(`LogoLab.load: LoadOptions.batchSize must be a positive integer, got ${typeof lo.batchSize === 'string' ? `'${lo.batchSize}'` : String(lo.batchSize)}`);
  }
  if (lo.backend !== undefined && !BACKEND_CHOICES.includes(lo.backend)) throw new LogolabError(`LogoLab.load: \`backend\` ${typeof lo.backend === 'string' ? `'${lo.backend}'` : kindOf(lo.backend)} is not one of ${BACKEND_CHOICES.join('|')}`);
  return lo;
}

/**
 * One embedding passed by the caller, checked: a NaN/±Inf makes every similarity NaN, a zero
 * vector has no direction (cosine would quietly say 0). Returns its norm.
 */
export function checkedNorm(e: unknown, what: string): number {
  if (!(e instanceof Float32Array)) throw new LogolabError(`${what}: must be a Float32Array (an embedding), got ${Array.isArray(e) ? 'an array' : kindOf(e)}`);
  const bad = firstNonFinite(e);
  if (bad >= 0) throw new LogolabError(`${what}: ${nonFiniteName(e[bad]!)} at dimension ${bad}`);
  let ss = 0;
  for (let i = 0; i < e.length; i++) ss += e[i]! * e[i]!;
  const norm = Math.sqrt(ss);
  // l2normalize floors the norm at 1e-12 (torch's F.normalize): below it the copy would not be a unit vector
  if (!(norm > 1e-12)) throw new LogolabError(`${what}: ${ss === 0 ? 'all zeros' : `norm ${norm} ≤ 1e-12`}: no direction to compare with`);
  return norm;
}

/**
 * One user reference [D] checked and L2-normalised (a copy; the caller's array is left alone). The
 * matchers take a plain dot product as the cosine, which holds only for unit vectors: an
 * unnormalised image_embeds (norm ~5-20) would give "similarities" far above 1 and make every
 * threshold meaningless. A NaN/±Inf would make every similarity NaN, a zero vector has no
 * direction, a wrong size belongs to another model: each is an error naming the reference.
 */
export function normalizedReference(e: unknown, dim: number, what: string): Float32Array {
  if (e instanceof Float32Array && e.length !== dim) throw new LogolabError(`${what}: embedding dimension ${e.length}, but the encoder's embeddings have ${dim} (a reference embedded by another model?)`);
  checkedNorm(e, what);
  return l2normalize(e as Float32Array);
}
