/**
 * Sharding of `embed --data` over a cluster's own job engine (Kubernetes Indexed Job, Slurm job
 * array, GNU parallel): every worker reads the same dataset index and computes, on its own, which
 * work items are its shard. A work item is one reference crop (one embedding) or one test image
 * (its region proposals and their embeddings).
 *
 * The partition: items are ordered by sha256 of their key (`ref:<id>` / `img:<id>`, ties by key)
 * and dealt in that order, each to the currently least-loaded shard (lowest index on ties); a
 * reference weighs 1, an image its ground-truth box count (at least 1). The hash order makes shards
 * a random mix of categories and file sizes; dealing (instead of `hash mod COUNT`, whose binomial
 * spread is ±8 % at one sigma for 100 items a shard) keeps shard sizes within one item of each
 * other. Same dataset + same COUNT ⇒ same shards, so a re-run shard is idempotent.
 */
import { createHash } from 'node:crypto';
import { LogolabError } from '../errors.js';
import type { DatasetImage, DatasetIndex, DatasetRef } from './dataset.js';

/** recorded in every shard file; merge refuses shards cut by another rule */
export const PARTITION = 'sha256-deal-v1';

/** where `--shard auto/COUNT` looks for INDEX, in this order */
export const SHARD_INDEX_ENV = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID', 'LOGOLAB_SHARD_INDEX'] as const;

export interface ShardSpec {
  index: number;
  count: number;
  /** the environment variable INDEX came from (auto), else undefined */
  from?: string;
}

/** What a shard file records besides the exchange metadata. */
export interface ShardInfo {
  index: number;
  count: number;
  partition: string;
  /** sha256 of the dataset index JSON: all shards of a set cut the same dataset */
  datasetDigest: string;
}

const nonNegInt = (s: string) => /^\d+$/.test(s.trim()) && Number.isSafeInteger(Number(s));

/** `--shard INDEX/COUNT` or `--shard auto/COUNT` (INDEX from the job engine's environment). */
export function parseShardSpec(spec: string, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  const m = /^([^/]+)\/([^/]+)$/.exec(spec.trim());
  if (!m || !nonNegInt(m[2]!) || Number(m[2]) < 1) throw new LogolabError(`--shard: '${spec}' is not INDEX/COUNT or auto/COUNT (COUNT ≥ 1, INDEX 0..COUNT-1)`);
  const count = Number(m[2]);
  let index: number;
  let from: string | undefined;
  if (m[1] === 'auto') {
    from = SHARD_INDEX_ENV.find((k) => env[k] !== undefined && env[k] !== '');
    if (!from) throw new LogolabError(`--shard auto/${count}: none of ${SHARD_INDEX_ENV.join(', ')} is set`);
    if (!nonNegInt(env[from]!)) throw new LogolabError(`--shard auto/${count}: ${from}='${env[from]}' is not a non-negative integer`);
    index = Number(env[from]);
  } else {
    if (!nonNegInt(m[1]!)) throw new LogolabError(`--shard: INDEX '${m[1]}' in '${spec}' is not a non-negative integer or 'auto'`);
    index = Number(m[1]);
  }
  if (index >= count) throw new LogolabError(`--shard: INDEX ${index}${from ? ` (from ${from})` : ''} is not below COUNT ${count} (indices run 0..${count - 1})`);
  return { index, count, ...(from ? { from } : {}) };
}

export function datasetDigest(ds: DatasetIndex): string {
  return createHash('sha256').update(JSON.stringify(ds)).digest('hex');
}

function hashOrder<T>(items: T[], key: (x: T) => string): T[] {
  const h = items.map((x) => ({ x, k: key(x), h: createHash('sha256').update(key(x)).digest('hex') }));
  h.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return h.map((e) => e.x);
}

/** Deals items (in hash order) to the least-loaded of `count` shards; returns shard per item key. */
function deal<T>(items: T[], count: number, key: (x: T) => string, weight: (x: T) => number): Map<string, number> {
  const load = new Float64Array(count);
  const out = new Map<string, number>();
  for (const x of hashOrder(items, key)) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += weight(x);
    out.set(key(x), best);
  }
  return out;
}

export interface Partition {
  /** shard of each reference id / image id */
  refShard: Map<string, number>;
  imageShard: Map<string, number>;
}

export function partition(ds: DatasetIndex, count: number): Partition {
  return {
    refShard: deal(ds.refs, count, (r) => r.id, () => 1),
    imageShard: deal(ds.images, count, (im) => im.id, (im) => Math.max(1, im.gt.length)),
  };
}

/** The references and images of one shard, in dataset order. */
export function selectShard(ds: DatasetIndex, spec: { index: number; count: number }): { refs: DatasetRef[]; images: DatasetImage[] } {
  const p = partition(ds, spec.count);
  return { refs: ds.refs.filter((r) => p.refShard.get(r.id) === spec.index), images: ds.images.filter((im) => p.imageShard.get(im.id) === spec.index) };
}
