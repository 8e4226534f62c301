/** The safetensors writer (see safetensors.ts for the layout). */
import { writeSync } from 'node:fs';
import { LogolabError } from '../errors.js';
import { withAtomicFile } from './atomic.js';
import { floatToBf16, floatToHalf } from './half.js';
import { ITEMSIZE, numel, type WriteDtype } from './safetensors-types.js';

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
