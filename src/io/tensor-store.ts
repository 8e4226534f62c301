/**
 * Checkpoints as tensor stores: one file, or shards listed in an index, read lazily. The files are
 * safetensors by default, or another format's reader (a torch `.bin`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LogolabError } from '../errors.js';
import { readJsonObject } from '../util/json.js';
import { SafetensorsFile } from './safetensors-reader.js';
import type { HostTensor, TensorInfo } from './safetensors-types.js';

/** One file of a checkpoint: a SafetensorsFile, or a torch `.bin` (src/io/torch/checkpoint.ts). */
export interface TensorFile {
  readonly path: string;
  keys(): string[];
  info(name: string): TensorInfo;
  read(name: string): HostTensor;
  close(): void;
}

/** A set of tensors spread over one or more files, read lazily. */
export class TensorStore {
  private readonly files: TensorFile[];
  private readonly where = new Map<string, TensorFile>();
  readonly source: string;

  constructor(source: string, files: TensorFile[]) {
    this.source = source;
    this.files = files;
    for (const f of files) {
      for (const k of f.keys()) {
        const prev = this.where.get(k);
        if (prev) throw new LogolabError(`${source}: tensor '${k}' is in both ${prev.path} and ${f.path}`);
        this.where.set(k, f);
      }
    }
  }

  keys(): string[] {
    return [...this.where.keys()];
  }
  has(name: string): boolean {
    return this.where.has(name);
  }
  info(name: string): TensorInfo {
    const f = this.where.get(name);
    if (!f) throw new LogolabError(`${this.source}: missing tensor '${name}'`);
    return f.info(name);
  }
  read(name: string): HostTensor {
    const f = this.where.get(name);
    if (!f) throw new LogolabError(`${this.source}: missing tensor '${name}'`);
    return f.read(name);
  }
  close(): void {
    for (const f of this.files) f.close();
  }
}

/**
 * Opens `model.safetensors` in a folder, or the shards listed in `model.safetensors.index.json`,
 * or a file path directly. `open` reads one file (another format's reader for another baseName).
 */
export function openTensorStore(pathOrDir: string, baseName = 'model.safetensors', open: (path: string) => TensorFile = SafetensorsFile.open): TensorStore {
  if (pathOrDir.endsWith('.safetensors')) return new TensorStore(pathOrDir, [SafetensorsFile.open(pathOrDir)]);
  const single = join(pathOrDir, baseName);
  const index = join(pathOrDir, `${baseName}.index.json`);
  if (existsSync(single)) return new TensorStore(single, [open(single)]);
  if (existsSync(index)) {
    const wm: unknown = readJsonObject(index).weight_map;
    if (!wm || typeof wm !== 'object' || Array.isArray(wm)) throw new LogolabError(`${index}: field 'weight_map': missing, or not an object of tensor → shard file`);
    for (const [k, shard] of Object.entries(wm)) {
      // a shard is a file beside the index: no other folder, no path out of the model folder
      if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\') || shard === '.' || shard === '..')
        throw new LogolabError(`${index}: field 'weight_map': tensor '${k}' names shard ${JSON.stringify(shard)}, not a file name beside the index`);
    }
    const weightMap = wm as Record<string, string>;
    const shardNames = [...new Set(Object.values(weightMap))].sort();
    const files: TensorFile[] = [];
    try {
      for (const s of shardNames) files.push(open(join(dirname(index), s)));
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
    const store = new TensorStore(index, files);
    for (const [k, shard] of Object.entries(weightMap)) {
      if (!store.has(k)) throw new LogolabError(`${index}: tensor '${k}' listed for ${shard} but not found there`);
    }
    return store;
  }
  throw new LogolabError(`${pathOrDir}: no ${baseName} or ${baseName}.index.json found`);
}
