/**
 * The safetensors header, parsed and validated (see safetensors.ts for the layout): every entry's
 * dtype, shape and offsets are checked against the file before any tensor is read.
 */
import { fstatSync, readSync } from 'node:fs';
import { LogolabError } from '../errors.js';
import { ITEMSIZE, READABLE, numel, type StDtype, type TensorInfo } from './safetensors-types.js';

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
export function parseHeader(path: string, fd: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
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
