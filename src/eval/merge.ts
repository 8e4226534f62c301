/**
 * `merge-embeddings`: shard files of one sharded `embed --data` run → one exchange file, the file
 * an unsharded run writes (same header; rows: references in dataset order, then regions image by
 * image). Its values are the shards' own: byte-identical to an unsharded run's only on a backend
 * whose kernels ignore batch composition (wasm); native BLAS and GPU rounding depend on it.
 * Refuses, with one line naming the shard: a file that is not a shard, shards of another model,
 * preprocessing, detector (by its fingerprint where both shards record one, else by name), dataset
 * or partition, a shard given twice or missing, and an item that is missing, duplicated or in a
 * shard the partition did not assign it to.
 */
import { basename } from 'node:path';
import { LogolabError } from '../errors.js';
import { log } from '../util/log.js';
import { readExchangeFile, writeExchange, type ExchangeMeta } from './exchange.js';
import { detectorMismatch, detrSettingsText } from './proposals.js';
import { datasetDigest, partition, PARTITION } from './shard.js';
import type { EmbeddedSet, EvalImage, EvalRef } from './types.js';

interface Loaded {
  file: string;
  meta: ExchangeMeta;
  data: Float32Array;
}

const short = (s: string) => (s.length > 16 ? `${s.slice(0, 16)}…` : s);

/** The metadata fields every shard of a set must share, with how a mismatch is named. */
const AGREE: [keyof ExchangeMeta, string][] = [
  ['fingerprint', 'model fingerprint'],
  ['preprocess', 'preprocessing'],
  ['layout', 'layout'],
];

export function mergeShards(files: string[], outFile: string): { shards: number; refs: number; regions: number; dim: number } {
  if (files.length === 0) throw new LogolabError('merge-embeddings: give the shard files to merge');
  const shards: Loaded[] = files.map((file) => {
    const { meta, data } = readExchangeFile(file);
    if (!meta.shard) throw new LogolabError(`${file}: not a shard file (written without --shard); nothing to merge`);
    return { file, meta, data };
  });
  const first = shards[0]!;
  const s0 = first.meta.shard!;
  if (s0.partition !== PARTITION) throw new LogolabError(`${first.file}: shard partition '${s0.partition}', this logolab merges '${PARTITION}' shards`);
  const bySlot = new Map<number, Loaded>();
  for (const s of shards) {
    const sh = s.meta.shard!;
    for (const [k, what] of AGREE) {
      if (s.meta[k] !== first.meta[k]) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} has ${what} ${short(String(s.meta[k]))}, ${basename(first.file)} has ${short(String(first.meta[k]))} (shards of another run?)`);
    }
    const other = detectorMismatch(s.meta, first.meta);
    if (other) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} and ${basename(first.file)} were embedded with other detectors: ${other} (shards of another run?)`);
    const [mine, theirs] = [detrSettingsText(s.meta.detectorSettings), detrSettingsText(first.meta.detectorSettings)];
    if (mine !== theirs) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} has detector settings ${mine}, ${basename(first.file)} has ${theirs} (shards of another run?)`);
    // an empty shard (COUNT above the item count) records dim 0
    if (s.data.length && first.data.length && s.meta.dim !== first.meta.dim) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} has embedding dim ${s.meta.dim}, ${basename(first.file)} has ${first.meta.dim}`);
    if (sh.count !== s0.count) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} belongs to a set of ${sh.count}, ${basename(first.file)} to a set of ${s0.count}`);
    if (sh.partition !== s0.partition) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} was cut by partition '${sh.partition}', ${basename(first.file)} by '${s0.partition}'`);
    if (sh.datasetDigest !== s0.datasetDigest) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} was cut from another dataset index than ${basename(first.file)} (digest ${short(sh.datasetDigest)} vs ${short(s0.datasetDigest)})`);
    const twin = bySlot.get(sh.index);
    if (twin) throw new LogolabError(`${s.file}: shard ${sh.index}/${sh.count} given twice (also ${twin.file})`);
    bySlot.set(sh.index, s);
  }
  const missing = [...Array(s0.count).keys()].filter((i) => !bySlot.has(i));
  if (missing.length) throw new LogolabError(`shard ${missing.map((i) => `${i}/${s0.count}`).join(', ')} missing: got ${[...bySlot.keys()].sort((a, b) => a - b).map((i) => `${i}/${s0.count}`).join(', ')} — give every shard of the set once`);
  const ds = first.meta.dataset;
  if (datasetDigest(ds) !== s0.datasetDigest) throw new LogolabError(`${first.file}: dataset index does not match its recorded digest (file edited?)`);
  if (first.meta.model !== undefined) for (const s of shards) if (s.meta.model !== first.meta.model) log('warn', `${s.file}: model named '${s.meta.model}', ${basename(first.file)} '${first.meta.model}' (same fingerprint); the merged file names the first`);
  for (const s of shards) if (s.meta.detector !== first.meta.detector) log('warn', `${s.file}: detector named '${s.meta.detector}', ${basename(first.file)} '${first.meta.detector}' (same fingerprint); the merged file names the first`);
  // a shard of an older logolab records no detector fingerprint: its DETR is known by path alone
  const unprinted = shards.filter((s) => !s.meta.detectorFingerprint);
  const detrFingerprint = unprinted.length ? undefined : first.meta.detectorFingerprint;
  if (first.meta.detector.startsWith('detr:') && unprinted.length) log('warn', `${unprinted.map((s) => basename(s.file)).join(', ')}: no detector fingerprint recorded (an older logolab); the shards' DETR weights cannot be checked, only its path ${first.meta.detector}`);

  // every item must sit in exactly the shard the partition assigns it to
  const p = partition(ds, s0.count);
  const dim = Math.max(...shards.map((s) => s.meta.dim));
  const row = (s: Loaded, r: number) => s.data.subarray(r * dim, (r + 1) * dim);
  const refs: EvalRef[] = ds.refs.map((r) => {
    const want = p.refShard.get(r.id)!;
    for (const s of shards) {
      const i = s.meta.shard!.index;
      if (i !== want && s.meta.refRows[r.id] !== undefined) throw new LogolabError(`${s.file}: shard ${i}/${s0.count} holds reference ${r.id}, which belongs to shard ${want}/${s0.count}`);
    }
    const s = bySlot.get(want)!;
    const at = s.meta.refRows[r.id];
    if (at === undefined) throw new LogolabError(`${s.file}: shard ${want}/${s0.count} lacks reference ${r.id} (incomplete shard?)`);
    return { id: r.id, logo: r.logo, embedding: row(s, at) };
  });
  const images: EvalImage[] = ds.images.map((im) => {
    const want = p.imageShard.get(im.id)!;
    for (const s of shards) {
      const i = s.meta.shard!.index;
      if (i !== want && s.meta.regions[im.id] !== undefined) throw new LogolabError(`${s.file}: shard ${i}/${s0.count} holds image ${im.id}, which belongs to shard ${want}/${s0.count}`);
    }
    const s = bySlot.get(want)!;
    const rs = s.meta.regions[im.id];
    if (rs === undefined) throw new LogolabError(`${s.file}: shard ${want}/${s0.count} lacks image ${im.id} (incomplete shard?)`);
    return { id: im.id, name: im.name, expected: [], regions: rs.map((g, k) => ({ id: `${im.id}#${k}`, box: g.box, score: g.score, embedding: row(s, g.row) })) };
  });
  // nothing beyond the dataset: every key and row of a shard is accounted for above
  for (const s of shards) {
    const i = s.meta.shard!.index;
    const keys = Object.keys(s.meta.refRows).length + Object.keys(s.meta.regions).length;
    const assigned = ds.refs.filter((r) => p.refShard.get(r.id) === i).length + ds.images.filter((im) => p.imageShard.get(im.id) === i).length;
    if (keys !== assigned) throw new LogolabError(`${s.file}: shard ${i}/${s0.count} holds ${keys} items, the partition assigns it ${assigned}`);
    const rows = Object.keys(s.meta.refRows).length + Object.values(s.meta.regions).reduce((a, rs) => a + rs.length, 0);
    if (rows * dim !== s.data.length) throw new LogolabError(`${s.file}: shard ${i}/${s0.count} has ${s.data.length / dim} embedding rows, its index names ${rows}`);
  }
  const set: EmbeddedSet = { logos: ds.logos, refs, images, meta: {} };
  const { model, fingerprint, preprocess, detector, detectorSettings, layout } = first.meta;
  // the backends of all shards (a shard of an older logolab records none: 'not recorded')
  const backends = [...new Set(shards.flatMap((s) => s.meta.backends ?? ['not recorded']))].sort();
  const r = writeExchange(outFile, ds, set, { model, fingerprint, preprocess, detector, ...(detrFingerprint ? { detectorFingerprint: detrFingerprint } : {}), ...(detectorSettings ? { detectorSettings } : {}), layout }, undefined, backends);
  return { shards: shards.length, ...r };
}
