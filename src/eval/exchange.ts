/**
 * Embeddings exchange file: every reference crop and every proposed test region of a data dir,
 * embedded once (e.g. on a GPU machine) and evaluated anywhere. A safetensors file:
 *   embeddings  F32 [N, D]   rows: references first, then regions image by image
 *   __metadata__.logolab_embeddings  JSON: model/fingerprint/preprocess/detector (and a DETR
 *                                    detector's fingerprint and settings, detectorFingerprint
 *                                    and detectorSettings), the dataset
 *                                    index (logos, refs with ids, images with ground truth and
 *                                    region boxes/scores) — everything sampling needs.
 * `eval/compare --embeddings f` sample from this index exactly as from the data dir, so results are
 * identical to computing the embeddings in place (tested). A shard file (`embed --shard i/N`) has
 * the same layout with rows for its shard's items only and a `shard` entry in the metadata;
 * merge.ts joins a complete set into the file an unsharded run writes.
 */
import { passBackends } from '../backend/label.js';
import { LogolabError } from '../errors.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';
import { SafetensorsFile, writeSafetensors } from '../io/safetensors.js';
import type { CropEncoder } from './encoder.js';
import { datasetFromDataDir, datasetFromFolders, type DatasetIndex } from './dataset.js';
import { embedSet, type EmbedOptions } from './pipeline.js';
import type { DetrSettings, RegionProposer } from './proposals.js';
import type { Sample } from './sample.js';
import type { EmbeddedSet, EvalRegion } from './types.js';
import type { Box } from '../util/box.js';
import { datasetDigest, PARTITION, selectShard, type ShardInfo } from './shard.js';

export const EXCHANGE_VERSION = 1;

export interface ExchangeMeta {
  version: number;
  model: string;
  fingerprint: string;
  preprocess: string;
  detector: string;
  /**
   * a DETR detector's fingerprint (DetrDetector.fingerprint: config, processor config, weights);
   * absent from files of older versions, and for other detectors
   */
  detectorFingerprint?: string;
  /** a DETR detector's post-processing (absent from files of older versions, and for other detectors) */
  detectorSettings?: DetrSettings;
  /** 'data' (prepared data dir: sampled at eval time) | 'folders' (Burnley layout: evaluated whole) */
  layout: 'data' | 'folders';
  dim: number;
  dataset: DatasetIndex;
  /** per image id: its regions (box, score, row) */
  regions: Record<string, { box: Box; score: number; row: number }[]>;
  /** per ref id: row */
  refRows: Record<string, number>;
  /** one shard of a sharded export (src/eval/shard.ts): only that shard's refs/regions have rows */
  shard?: ShardInfo;
  /** the backends the rows were computed on (src/backend/label.ts; a merge lists its shards'); absent in older files */
  backends?: string[];
}

export interface Exchange {
  meta: Omit<ExchangeMeta, 'regions' | 'refRows'>;
  dataset: DatasetIndex;
  refEmbedding(id: string): Float32Array;
  regions(imageId: string): EvalRegion[];
}

export type ExchangeId = Pick<ExchangeMeta, 'model' | 'fingerprint' | 'preprocess' | 'detector' | 'detectorFingerprint' | 'detectorSettings' | 'layout'>;

/**
 * Embeds every reference and every region of the data dir (or, with `shard`, that shard's
 * references and images: src/eval/shard.ts) and writes the exchange file.
 */
export async function exportDataEmbeddings(dataDir: string, encoder: CropEncoder, proposer: RegionProposer, outFile: string, o: EmbedOptions & { folders?: boolean; shard?: { index: number; count: number } } = {}): Promise<{ refs: number; regions: number; dim: number; images: number }> {
  const ds = o.folders ? await datasetFromFolders(dataDir) : datasetFromDataDir(dataDir);
  const part = o.shard ? selectShard(ds, o.shard) : ds;
  const hitsBefore = o.cache?.stats.hits ?? 0;
  const set = await embedSet(encoder, proposer, part.refs, part.images, ds.logos, o);
  const shard = o.shard ? { index: o.shard.index, count: o.shard.count, partition: PARTITION, datasetDigest: datasetDigest(ds) } : undefined;
  const r = writeExchange(outFile, ds, set, { model: encoder.name, fingerprint: encoder.fingerprint, preprocess: encoder.preprocess, detector: proposer.name, ...(proposer.fingerprint ? { detectorFingerprint: proposer.fingerprint } : {}), ...(proposer.settings ? { detectorSettings: proposer.settings } : {}), layout: o.folders || ds.layout === 'folders' ? 'folders' : 'data' }, shard, passBackends((o.cache?.stats.hits ?? 0) - hitsBefore));
  return { ...r, images: part.images.length };
}

export function writeExchange(outFile: string, ds: DatasetIndex, set: EmbeddedSet, id: ExchangeId, shard?: ShardInfo, backends?: string[]): { refs: number; regions: number; dim: number } {
  const rowsList: Float32Array[] = [];
  const refRows: Record<string, number> = {};
  for (const r of set.refs) {
    refRows[r.id] = rowsList.length;
    rowsList.push(r.embedding);
  }
  const regions: ExchangeMeta['regions'] = {};
  for (const im of set.images) {
    regions[im.id] = im.regions.map((g) => {
      rowsList.push(g.embedding);
      return { box: g.box, score: g.score, row: rowsList.length - 1 };
    });
  }
  const dim = rowsList[0]?.length ?? 0;
  const data = new Float32Array(rowsList.length * dim);
  rowsList.forEach((v, i) => data.set(v, i * dim));
  const meta: ExchangeMeta = { version: EXCHANGE_VERSION, ...id, dim, dataset: ds, regions, refRows, ...(shard ? { shard } : {}), ...(backends ? { backends } : {}) };
  writeSafetensors(outFile, { embeddings: { shape: [rowsList.length, dim], data } }, { logolab_embeddings: JSON.stringify(meta) });
  return { refs: set.refs.length, regions: rowsList.length - set.refs.length, dim };
}

/** The metadata and the [N, D] rows of an exchange or shard file: keys, shape and row indices checked. */
export function readExchangeFile(file: string): { meta: ExchangeMeta; data: Float32Array } {
  const f = SafetensorsFile.open(file);
  try {
    const raw = f.metadata?.logolab_embeddings;
    if (!raw) throw new LogolabError(`${file}: not a logolab embeddings file (no logolab_embeddings metadata)`);
    let meta: ExchangeMeta;
    try {
      meta = JSON.parse(raw) as ExchangeMeta;
    } catch {
      throw new LogolabError(`${file}: corrupt logolab_embeddings metadata (not JSON)`);
    }
    if (meta?.version !== EXCHANGE_VERSION) throw new LogolabError(`${file}: embeddings file version ${meta?.version}, this logolab reads ${EXCHANGE_VERSION}`);
    checkMeta(file, meta);
    const t = f.read('embeddings');
    if (!(t.data instanceof Float32Array)) throw new LogolabError(`${file}: 'embeddings' is not float32`);
    // rows are cut by meta.dim: a dim that disagrees with the tensor would shift every row
    const [n, d] = t.shape;
    if (t.shape.length !== 2 || d !== meta.dim || t.data.length !== n! * meta.dim) throw new LogolabError(`${file}: 'embeddings' has shape [${t.shape.join(', ')}], the metadata says dim ${meta.dim}`);
    const bad = (row: unknown) => !(Number.isInteger(row) && (row as number) >= 0 && (row as number) < n!);
    for (const [id, row] of Object.entries(meta.refRows)) if (bad(row)) throw new LogolabError(`${file}: reference ${id} names row ${String(row)}, the file has ${n} rows`);
    for (const [id, rs] of Object.entries(meta.regions)) {
      if (!Array.isArray(rs)) throw new LogolabError(`${file}: metadata 'regions' of image ${id} is not a list`);
      rs.forEach((g, k) => {
        checkRegion(file, id, k, g);
        if (bad(g.row)) throw new LogolabError(`${file}: image ${id} region #${k} names row ${String(g.row)}, the file has ${n} rows`);
      });
    }
    return { meta, data: t.data };
  } finally {
    f.close();
  }
}

/**
 * One region entry as the readers use it: `box` is cropped, drawn and matched to ground truth by IoU
 * (gallery), `score` is printed (--similarity-details) and written to JSON — a hand-edited or
 * foreign file lacking either would otherwise fail far from here with a TypeError. `row` is
 * range-checked by the caller (it knows the row count).
 */
function checkRegion(file: string, id: string, k: number, g: unknown): asserts g is { box: Box; score: number; row: number } {
  const shown = (v: unknown) => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)));
  const fail = (key: string, v: unknown, want: string) => {
    throw new LogolabError(`${file}: metadata regions[${JSON.stringify(id)}][${k}]${key} is ${shown(v)}, not ${want}`);
  };
  if (typeof g !== 'object' || g === null || Array.isArray(g)) return fail('', g, 'a region { box, score, row }');
  const { box, score } = g as Record<string, unknown>;
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  // JSON has no Infinity, but 1e999 parses to it: finite is checked, not just the type
  if (!(Array.isArray(box) && box.length === 4 && box.every(finite))) fail('.box', box, 'a box [x0, y0, x1, y1] of 4 finite numbers');
  const [x0, y0, x1, y1] = box as Box;
  if (!(x0 <= x1 && y0 <= y1)) fail('.box', box, 'a box [x0, y0, x1, y1] with x0 ≤ x1 and y0 ≤ y1');
  if (!finite(score)) fail('.score', score, "a finite number (the detector's score)");
}

/** The metadata keys every reader relies on, each checked so a hand-edited file fails naming the key. */
function checkMeta(file: string, meta: ExchangeMeta): void {
  const m = meta as unknown as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const k of ['model', 'fingerprint', 'preprocess', 'detector']) if (typeof m[k] !== 'string') throw new LogolabError(`${file}: metadata lacks '${k}' (a string)`);
  if (m.detectorFingerprint !== undefined && !(typeof m.detectorFingerprint === 'string' && m.detectorFingerprint)) throw new LogolabError(`${file}: metadata 'detectorFingerprint' is ${JSON.stringify(m.detectorFingerprint)}, not a detector fingerprint (a string)`);
  if (m.detectorSettings !== undefined) {
    const s = m.detectorSettings as Record<string, unknown> | null;
    const ok = (k: string, max: number) => typeof s?.[k] === 'number' && (s[k] as number) >= 0 && (s[k] as number) <= max;
    if (!isObject(s) || !ok('threshold', 1) || !ok('minBoxSize', Infinity) || !ok('nmsIou', 1)) throw new LogolabError(`${file}: metadata 'detectorSettings' is ${JSON.stringify(s)}, not { threshold, nmsIou in [0, 1], minBoxSize ≥ 0 }`);
  }
  if (m.backends !== undefined && !(Array.isArray(m.backends) && m.backends.every((b) => typeof b === 'string'))) throw new LogolabError(`${file}: metadata 'backends' is ${JSON.stringify(m.backends)}, not a list of backend names`);
  if (m.layout !== 'data' && m.layout !== 'folders') throw new LogolabError(`${file}: metadata 'layout' is ${JSON.stringify(m.layout)}, not 'data' or 'folders'`);
  if (!Number.isInteger(m.dim) || (m.dim as number) < 0) throw new LogolabError(`${file}: metadata 'dim' is ${JSON.stringify(m.dim)}, not a non-negative integer`);
  const ds = m.dataset as Record<string, unknown> | undefined;
  if (!isObject(ds)) throw new LogolabError(`${file}: metadata lacks 'dataset' (the dataset index)`);
  for (const k of ['logos', 'refs', 'images']) if (!Array.isArray(ds![k])) throw new LogolabError(`${file}: metadata 'dataset' lacks '${k}' (a list)`);
  checkDatasetEntries(file, ds as { logos: unknown[]; refs: unknown[]; images: unknown[] });
  for (const k of ['regions', 'refRows']) if (!isObject(m[k])) throw new LogolabError(`${file}: metadata lacks '${k}' (an object)`);
}

/** Every entry of the dataset index as sampling and matching read it: a hand-edited one fails here, naming it. */
function checkDatasetEntries(file: string, ds: { logos: unknown[]; refs: unknown[]; images: unknown[] }): void {
  const fail = (key: string, v: unknown, want: string) => {
    throw new LogolabError(`${file}: metadata dataset.${key} is ${JSON.stringify(v) ?? String(v)}, not ${want}`);
  };
  const str = (v: unknown) => typeof v === 'string';
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const box = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  ds.logos.forEach((l, i) => str(l) || fail(`logos[${i}]`, l, 'a logo name'));
  ds.refs.forEach((r, i) => {
    if (!obj(r) || !str(r.id) || !str(r.logo) || !str(r.path)) fail(`refs[${i}]`, r, 'a reference { id, logo, path }');
    if (!box((r as Record<string, unknown>).box)) fail(`refs[${i}].box`, (r as Record<string, unknown>).box, 'a box of 4 numbers');
  });
  ds.images.forEach((im, i) => {
    if (!obj(im) || !str(im.id) || !str(im.name) || !Array.isArray(im.gt)) fail(`images[${i}]`, im, 'an image { id, name, gt: [...] }');
    ((im as Record<string, unknown>).gt as unknown[]).forEach((g, k) => {
      if (!obj(g) || !str(g.logo)) fail(`images[${i}].gt[${k}]`, g, 'a ground truth { logo, box? }');
      if (!box((g as Record<string, unknown>).box)) fail(`images[${i}].gt[${k}].box`, (g as Record<string, unknown>).box, 'a box of 4 numbers');
    });
  });
}

export function readExchange(file: string): Exchange {
  const { meta, data } = readExchangeFile(file);
  if (meta.shard) throw new LogolabError(`${file}: shard ${meta.shard.index}/${meta.shard.count} of a sharded export; merge the shards first (logolab merge-embeddings --out <file> <shards…>)`);
  const dim = meta.dim;
  const rowOf = (r: number) => data.slice(r * dim, (r + 1) * dim);
  const { regions, refRows, ...rest } = meta;
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    // name the entry: a reference id, or an image id and region
    const row = Math.floor(bad / Math.max(1, dim));
    const ref = Object.entries(refRows).find(([, r]) => r === row)?.[0];
    const img = ref ? null : Object.entries(regions).find(([, rs]) => rs.some((g) => g.row === row));
    const what = ref ?? (img ? `${img[0]} region #${img[1].findIndex((g) => g.row === row)}` : `row ${row}`);
    throw new LogolabError(`${file}: non-finite embedding (${nonFiniteName(data[bad]!)}) for ${what}; the file was written by a broken model or is damaged`);
  }
  return {
    meta: rest,
    dataset: meta.dataset,
    refEmbedding(id) {
      const r = refRows[id];
      if (r === undefined) throw new LogolabError(`${file}: no embedding for reference ${id}`);
      return rowOf(r);
    },
    regions(imageId) {
      const rs = regions[imageId];
      if (!rs) throw new LogolabError(`${file}: no regions for image ${imageId}`);
      return rs.map((g, k) => ({ id: `${imageId}#${k}`, box: g.box, score: g.score, embedding: rowOf(g.row) }));
    },
  };
}

/** The EmbeddedSet of a sample drawn from an exchange file's dataset index. */
export function setFromExchange(ex: Exchange, s: Sample): EmbeddedSet {
  return {
    logos: [...s.logos].sort(),
    refs: s.refs.map((r) => ({ id: r.id, logo: r.logo, embedding: ex.refEmbedding(r.id), source: r.path, ...(r.box ? { box: r.box } : {}) })),
    images: s.images.map((im) => ({ id: im.id, name: im.name, expected: im.expected, regions: ex.regions(im.id) })),
    meta: { model: ex.meta.model, fingerprint: ex.meta.fingerprint, preprocess: ex.meta.preprocess, detector: ex.meta.detector, ...(ex.meta.detectorFingerprint ? { detectorFingerprint: ex.meta.detectorFingerprint } : {}), ...(ex.meta.detectorSettings ? { detectorSettings: ex.meta.detectorSettings } : {}) },
  };
}
