/**
 * `pytorch_model.bin` (torch.save of a state dict, torch ≥ 1.6 ZIP format) as a tensor file that
 * src/io/checkpoint.ts puts in a TensorStore beside safetensors files:
 *   <name>/data.pkl        the state dict, unpickled by the safe unpickler (pickle.ts)
 *   <name>/data/<key>      the raw little-endian bytes of storage <key>
 *   <name>/byteorder       'little' (newer torch; absent = little)
 * A tensor is a strided view (offset, size, stride, in elements) of a storage; several tensors may
 * share one storage (tied weights, views). Reading a tensor reads only the bytes its view spans and
 * gathers them into a contiguous array: F32 as is, F16/BF16 widened to float32, I64 narrowed to
 * int32 with a range check (as the safetensors reader does).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { LogolabError } from '../../errors.js';
import { halfTable } from '../half.js';
import { numel, type HostTensor, type TensorInfo } from '../safetensors.js';
import { unpickle } from './pickle.js';
import { PyDict, storageFromPid, type StorageDtype, type TorchTensorRef } from './pickle-globals.js';
import { ZipReader } from './zip.js';
import { assertRegularFile } from '../file-kind.js';

const ITEMSIZE: Record<StorageDtype, number> = { F32: 4, F16: 2, BF16: 2, I64: 8 };
// "PK\x03\x04": a ZIP archive; a legacy (torch < 1.6) file starts with a pickle of its magic number
const ZIP_MAGIC = 0x04034b50;

export class TorchCheckpoint {
  private readonly tensors = new Map<string, TorchTensorRef>();
  private readonly storageSize = new Map<string, number>();

  private constructor(readonly path: string, private readonly zip: ZipReader, private readonly prefix: string) {}

  static open(path: string): TorchCheckpoint {
    const zip = openZip(path);
    try {
      const pkl = [...zip.entries.keys()].filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
      if (pkl.length !== 1) throw new LogolabError(`${path}: not a torch checkpoint (${pkl.length ? 'several' : 'no'} data.pkl entries in the archive)`);
      const prefix = pkl[0]!.slice(0, -'data.pkl'.length);
      if (zip.entries.has(`${prefix}byteorder`)) {
        const bo = zip.read(`${prefix}byteorder`).toString('latin1').trim();
        if (bo !== 'little') throw new LogolabError(`${path}: byte order '${bo}' (only little-endian checkpoints are read)`);
      }
      const ck = new TorchCheckpoint(path, zip, prefix);
      ck.load(zip.read(pkl[0]!));
      return ck;
    } catch (e) {
      zip.close();
      throw e;
    }
  }

  private load(pkl: Uint8Array): void {
    const root = unpickle(pkl, `${this.path}: ${this.prefix}data.pkl`, (pid) => {
      const s = storageFromPid(pid);
      const entry = `${this.prefix}data/${s.key}`;
      const e = this.zip.entries.get(entry);
      if (!e) throw new LogolabError(`${this.path}: storage '${s.key}' has no entry ${entry}`);
      if (e.size < s.numel * ITEMSIZE[s.dtype]) throw new LogolabError(`${this.path}: storage '${s.key}' holds ${e.size} bytes, ${s.numel} × ${s.dtype} need ${s.numel * ITEMSIZE[s.dtype]}`);
      const prev = this.storageSize.get(s.key);
      if (prev !== undefined && prev !== s.numel) throw new LogolabError(`${this.path}: storage '${s.key}' is named with sizes ${prev} and ${s.numel}`);
      this.storageSize.set(s.key, s.numel);
      return s;
    });
    if (!(root instanceof PyDict)) throw new LogolabError(`${this.path}: not a state dict (the pickle holds a ${describe(root)}, not a dict of tensors)`);
    for (const [k, v] of root) {
      if (typeof k !== 'string') throw new LogolabError(`${this.path}: state dict key ${JSON.stringify(k)} is not a string`);
      if (!v || (v as TorchTensorRef).kind !== 'tensor') throw new LogolabError(`${this.path}: '${k}' holds a ${describe(v)}, not a tensor (a training checkpoint? save model.state_dict())`);
      const t = v as TorchTensorRef;
      if (t.shape.some((d) => d < 0) || t.stride.some((s) => s < 0) || t.offset < 0) throw new LogolabError(`${this.path}: tensor '${k}': negative size, stride or offset`);
      const [lo, hi] = extent(t);
      if (numel(t.shape) > 0 && (lo < 0 || hi > t.storage.numel)) throw new LogolabError(`${this.path}: tensor '${k}': view [${lo}, ${hi}) outside its storage of ${t.storage.numel} elements`);
      this.tensors.set(k, t);
    }
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensor(name);
    const [lo, hi] = extent(t);
    const sz = ITEMSIZE[t.storage.dtype];
    // begin/end: the byte range of the storage entry the view spans (not file offsets)
    return { dtype: t.storage.dtype, shape: [...t.shape], begin: lo * sz, end: hi * sz };
  }

  read(name: string): HostTensor {
    const t = this.tensor(name);
    const n = numel(t.shape);
    const sz = ITEMSIZE[t.storage.dtype];
    const [lo, hi] = n ? extent(t) : [0, 0];
    const raw = n ? this.zip.read(`${this.prefix}data/${t.storage.key}`, lo * sz, (hi - lo) * sz) : Buffer.alloc(0);
    // element index into raw for each output element (identity for a contiguous view)
    const idx = isContiguous(t.shape, t.stride) ? null : gatherIndex(t.shape, t.stride, t.offset - lo);
    switch (t.storage.dtype) {
      case 'F32': {
        const src = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = src[idx === null ? i : idx[i]!]!;
        return { dtype: 'float32', stored: t.storage.dtype, shape: [...t.shape], data: out };
      }
      case 'F16':
      case 'BF16': {
        const src = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
        const out = new Float32Array(n);
        if (t.storage.dtype === 'F16') {
          const table = halfTable();
          for (let i = 0; i < n; i++) out[i] = table[src[idx === null ? i : idx[i]!]!]!;
        }
        else {
          const u = new Uint32Array(out.buffer);
          for (let i = 0; i < n; i++) u[i] = src[idx === null ? i : idx[i]!]! << 16; // bf16 = the upper half of a float32
        }
        return { dtype: 'float32', stored: t.storage.dtype, shape: [...t.shape], data: out };
      }
      case 'I64': {
        const src = new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = src[idx === null ? i : idx[i]!]!;
          if (v > 2147483647n || v < -2147483648n) throw new LogolabError(`${this.path}: tensor '${name}': int64 value ${v} does not fit int32`);
          out[i] = Number(v);
        }
        return { dtype: 'int32', stored: t.storage.dtype, shape: [...t.shape], data: out };
      }
    }
  }

  close(): void {
    this.zip.close();
  }

  private tensor(name: string): TorchTensorRef {
    const t = this.tensors.get(name);
    if (!t) throw new LogolabError(`${this.path}: missing tensor '${name}'`);
    return t;
  }
}

function openZip(path: string): ZipReader {
  assertRegularFile(path); // opening a FIFO named pytorch_model.bin would block forever
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    head = Buffer.alloc(4);
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new LogolabError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (head.readUInt32LE(0) !== ZIP_MAGIC) {
    // torch < 1.6 wrote a sequence of pickles (protocol 2: 0x80 0x02) instead of a ZIP archive
    // (PROTO 2, then LONG1 of its magic number 0x1950a86a20f9469cfc6c)
    if (head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a && head[3] === 0x0a) throw new LogolabError(`${path}: legacy torch serialization (torch < 1.6); re-save it with a newer torch (torch.save(torch.load(f), f)) or as safetensors`);
    throw new LogolabError(`${path}: not a torch checkpoint (not a ZIP archive)`);
  }
  return ZipReader.open(path);
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! !== 1 && stride[d]! !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

/** [first, last+1) element of the storage a non-empty view touches */
function extent(t: TorchTensorRef): [number, number] {
  let hi = t.offset;
  for (let d = 0; d < t.shape.length; d++) hi += (t.shape[d]! - 1) * t.stride[d]!;
  return [t.offset, hi + 1];
}

/** For each element of a row-major [shape] output, its index into the source (strided view at base). */
function gatherIndex(shape: number[], stride: number[], base: number): Uint32Array | Float64Array {
  const n = numel(shape);
  const out = n < 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  const r = shape.length;
  const ctr = new Array<number>(r).fill(0);
  let pos = base;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    // odometer increment over the dims, last fastest
    for (let d = r - 1; d >= 0; d--) {
      ctr[d]!++;
      pos += stride[d]!;
      if (ctr[d]! < shape[d]!) break;
      pos -= stride[d]! * shape[d]!;
      ctr[d] = 0;
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof PyDict) return 'dict';
  if (typeof v === 'object' && (v as { kind?: string }).kind) return (v as { kind: string }).kind;
  return typeof v;
}
