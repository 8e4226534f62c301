/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors format):
 *   [u64 little-endian header length N][N bytes JSON header][raw tensor bytes]
 * The header maps tensor name → {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the end of the header), plus an optional "__metadata__" string map.
 *
 * The reader opens the file, parses and validates the header only, and reads each tensor on
 * demand with positioned reads into its own (aligned) buffer. So a 1.7 GB CLIPModel checkpoint is
 * never held in one Buffer, files over 2 GiB work, and loading just the vision tower reads only its
 * bytes. F16/BF16 are widened to float32, I64 narrowed to int32 (with a range check).
 */
import { closeSync, fstatSync, openSync, readSync, existsSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LogolabError } from '../errors.js';
import { withAtomicFile } from './atomic.js';
import { assertRegularFile } from './file-kind.js';
import { readJsonObject } from '../util/json.js';
import { floatToBf16, floatToHalf, halfTable } from './half.js';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'I8' | 'BOOL';
const ITEMSIZE: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, U8: 1, I8: 1, BOOL: 1 };
const READABLE = new Set<StDtype>(['F32', 'F16', 'BF16', 'I32', 'I64', 'F64', 'U8', 'I8', 'BOOL']);

export interface TensorInfo {
  dtype: StDtype;
  shape: number[];
  /** absolute byte offsets in the file */
  begin: number;
  end: number;
}

/** A tensor as read: float dtypes become Float32Array, integer/bool dtypes Int32Array. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  /** the dtype in the file, before widening (F16, BF16, F64 → float32) or narrowing (I64 → int32) */
  stored: StDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * The dtype a rewrite of `t` stores: floats as float32, integers at their stored width where a
 * writer has it (I64 stays I64, so torch reads an `int64` buffer back as `int64`), else I32.
 */
export function rewriteDtype(t: HostTensor): WriteDtype {
  if (t.dtype === 'float32') return 'F32';
  return t.stored === 'I64' ? 'I64' : 'I32';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function convert(file: string, name: string, info: TensorInfo, bytes: Buffer): HostTensor {
  const t = { stored: info.dtype, shape: info.shape };
  const n = numel(info.shape);
  // read() hands over a Buffer that owns its whole ArrayBuffer: use it without another copy
  const ab = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (info.dtype) {
    case 'F32':
      return { ...t, dtype: 'float32', data: new Float32Array(ab, 0, n) };
    case 'F64':
      return { ...t, dtype: 'float32', data: Float32Array.from(new Float64Array(ab, 0, n)) };
    case 'F16': {
      const src = new Uint16Array(ab, 0, n);
      const out = new Float32Array(n);
      const table = halfTable(); // a lookup: ~50× faster than halfToFloat per element (ViT-L F16: 43 s → 1 s)
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      return { ...t, dtype: 'float32', data: out };
    }
    case 'BF16': {
      const src = new Uint16Array(ab, 0, n);
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = src[i]! << 16;
      return { ...t, dtype: 'float32', data: out };
    }
    case 'I32':
      return { ...t, dtype: 'int32', data: new Int32Array(ab, 0, n) };
    case 'I64': {
      const src = new BigInt64Array(ab, 0, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new LogolabError(`${file}: tensor '${name}': I64 value ${v} does not fit int32`);
        out[i] = Number(v);
      }
      return { ...t, dtype: 'int32', data: out };
    }
    case 'U8':
    case 'BOOL':
      return { ...t, dtype: 'int32', data: Int32Array.from(new Uint8Array(ab, 0, n)) };
    case 'I8':
      return { ...t, dtype: 'int32', data: Int32Array.from(new Int8Array(ab, 0, n)) };
  }
}

// ---------- reader ----------

export class SafetensorsFile {
  readonly path: string;
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  private fd: number | null;

  private constructor(path: string, fd: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    // a FIFO would block the open until something writes to it
    if (existsSync(path)) assertRegularFile(path);
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new LogolabError(`${path}: cannot open safetensors file (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    try {
      const { tensors, metadata } = parseHeader(path, fd);
      return new SafetensorsFile(path, fd, tensors, metadata);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new LogolabError(`${this.path}: missing tensor '${name}'`);
    return t;
  }

  read(name: string): HostTensor {
    const info = this.info(name);
    if (this.fd === null) throw new Error(`${this.path}: file already closed`);
    const len = info.end - info.begin;
    // A fresh Buffer per tensor (not from the pool) so the typed-array view is aligned.
    const buf = Buffer.allocUnsafeSlow(len);
    let got = 0;
    while (got < len) {
      const r = readSync(this.fd, buf, got, len - got, info.begin + got);
      if (r === 0) throw new LogolabError(`${this.path}: tensor '${name}': file truncated`);
      got += r;
    }
    return convert(this.path, name, info, buf);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The first key that occurs twice in the outer object of a valid JSON text, else null. */
function firstDuplicateTopKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let prev = ''; // the last structural character outside strings
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && (prev === '{' || prev === ',')) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      prev = '"';
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      prev = c;
    } else if (c === '}' || c === ']') {
      depth--;
      prev = c;
    } else if (c === ',' || c === ':') {
      prev = c;
    }
  }
  return null;
}

function parseHeader(path: string, fd: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const size = fstatSync(fd).size;
  if (size < 8) throw new LogolabError(`${path}: not a safetensors file (only ${size} bytes)`);
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = Number(lenBuf.readBigUInt64LE(0));
  if (headerLen <= 1 || headerLen > 100_000_000 || 8 + headerLen > size) {
    throw new LogolabError(`${path}: corrupt safetensors header length ${headerLen} (file has ${size} bytes)`);
  }
  const hb = Buffer.alloc(headerLen);
  readSync(fd, hb, 0, headerLen, 8);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(hb.toString('utf8'));
  } catch (e) {
    throw new LogolabError(`${path}: corrupt safetensors header (invalid JSON: ${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new LogolabError(`${path}: corrupt safetensors header (not a JSON object)`);
  }
  // JSON.parse keeps the last of two equal keys; the format forbids them (the reference reader
  // refuses), and a header naming a tensor twice is crafted or broken
  const dup = firstDuplicateTopKey(hb.toString('utf8'));
  if (dup !== null) throw new LogolabError(`${path}: corrupt safetensors header (tensor '${dup}' is listed twice)`);
  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw new LogolabError(`${path}: corrupt safetensors header ('__metadata__' must map strings to strings)`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof r !== 'object' || r === null) throw new LogolabError(`${path}: tensor '${name}': header entry is not an object`);
    const dtype = r.dtype as StDtype;
    if (typeof dtype !== 'string' || !READABLE.has(dtype)) throw new LogolabError(`${path}: tensor '${name}': unsupported dtype ${JSON.stringify(r.dtype)}`);
    const shape = r.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new LogolabError(`${path}: tensor '${name}': invalid shape ${JSON.stringify(shape)}`);
    const offs = r.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new LogolabError(`${path}: tensor '${name}': invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [b, e] = offs as [number, number];
    if (e < b || e > dataLen) throw new LogolabError(`${path}: tensor '${name}': data_offsets [${b}, ${e}] outside the data section (${dataLen} bytes)`);
    const expect = numel(shape as number[]) * ITEMSIZE[dtype];
    if (e - b !== expect) throw new LogolabError(`${path}: tensor '${name}': shape ${JSON.stringify(shape)} × ${dtype} needs ${expect} bytes, offsets give ${e - b}`);
    tensors.set(name, { dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  // Overlap check: in order of begin, each non-empty tensor must start at or after the furthest
  // end seen so far (comparing only neighbours misses an overlap behind an empty tensor).
  const sorted = [...tensors.entries()].filter(([, t]) => t.end > t.begin).sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let far: [string, TensorInfo] | null = null;
  for (const cur of sorted) {
    if (far && cur[1].begin < far[1].end) throw new LogolabError(`${path}: tensors '${far[0]}' and '${cur[0]}' overlap in the data section`);
    if (!far || cur[1].end > far[1].end) far = cur;
  }
  return { tensors, metadata };
}

/** Reads every tensor of a (small) file into memory. */
export function readSafetensors(path: string): Map<string, HostTensor> {
  const f = SafetensorsFile.open(path);
  try {
    const out = new Map<string, HostTensor>();
    for (const k of f.keys()) out.set(k, f.read(k));
    return out;
  } finally {
    f.close();
  }
}

// ---------- checkpoints (single or sharded) ----------

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

// ---------- writer ----------

export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export interface WriteTensor {
  shape: number[];
  data: Float32Array | Int32Array | Uint16Array;
  /** output dtype; default F32 for Float32Array, I32 for Int32Array. 'F16'/'BF16' convert float32 data. */
  dtype?: WriteDtype;
}

/** Writes tensors atomically (temp + rename), streaming each tensor, keys in sorted order. */
export function writeSafetensors(path: string, tensors: Record<string, WriteTensor> | Map<string, WriteTensor>, metadata?: Record<string, string>): void {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const plan: { name: string; t: WriteTensor; dtype: WriteDtype; bytes: number }[] = [];
  for (const [name, t] of entries) {
    const n = numel(t.shape);
    if (t.data.length !== n) throw new LogolabError(`${path}: tensor '${name}': shape ${JSON.stringify(t.shape)} needs ${n} values, got ${t.data.length}`);
    const dtype = t.dtype ?? (t.data instanceof Int32Array ? 'I32' : t.data instanceof Uint16Array ? 'F16' : 'F32');
    const bytes = n * ITEMSIZE[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    plan.push({ name, t, dtype, bytes });
    offset += bytes;
  }
  let hjson = JSON.stringify(header);
  while ((8 + Buffer.byteLength(hjson)) % 8 !== 0) hjson += ' ';
  const hbuf = Buffer.from(hjson, 'utf8');
  withAtomicFile(path, (fd) => {
    const lenBuf = Buffer.alloc(8);
    lenBuf.writeBigUInt64LE(BigInt(hbuf.length));
    writeAll(fd, lenBuf);
    writeAll(fd, hbuf);
    for (const { t, dtype } of plan) writeAll(fd, encode(t, dtype));
  });
}

function encode(t: WriteTensor, dtype: WriteDtype): Uint8Array {
  const d = t.data;
  if (dtype === 'BF16') {
    if (d instanceof Uint16Array) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    const out = new Uint16Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = floatToBf16(d[i]!);
    return new Uint8Array(out.buffer);
  }
  if (dtype === 'F16') {
    if (d instanceof Uint16Array) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    const out = new Uint16Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = floatToHalf(d[i]!);
    return new Uint8Array(out.buffer);
  }
  if (dtype === 'I64') {
    const out = new BigInt64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = BigInt(Math.round(d[i]!));
    return new Uint8Array(out.buffer);
  }
  if (dtype === 'F32' && !(d instanceof Float32Array)) return new Uint8Array(Float32Array.from(d).buffer);
  if (dtype === 'I32' && !(d instanceof Int32Array)) return new Uint8Array(Int32Array.from(d).buffer);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
}
