import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { floatToHalf, halfToFloat } from '../../src/io/half.js';
import { openTensorStore, readSafetensors, rewriteDtype, SafetensorsFile, writeSafetensors } from '../../src/io/safetensors.js';

/** A raw safetensors file from a header object and a data section. */
function rawFile(path: string, header: unknown, data: Buffer, headerLenOverride?: bigint): void {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}

const isErr = (re: RegExp) => (e: unknown) => e instanceof LogolabError && re.test((e as Error).message) && !(e as Error).message.includes('\n');

test('round trip F32 / F16 / BF16 / I32 / I64 with metadata', () => {
  const d = tmpDir();
  const p = join(d, 'a.safetensors');
  const f32 = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 100);
  const halfVals = Float32Array.from([0, -0, 1, -2.5, 65504, 6.1035156e-5, 5.9604645e-8, 0.1, 1000.5]);
  const bf16Vals = Float32Array.from([0, 1, -3.140625, 1e30, -1e-30, 65536, 0.1]);
  const i32 = Int32Array.from([0, 1, -1, 2147483647, -2147483648]);
  const i64 = Int32Array.from([0, 5, -7, 2147483647, -2147483648]);
  writeSafetensors(
    p,
    {
      f32: { shape: [2, 3, 4], data: f32 },
      f16: { shape: [9], data: halfVals, dtype: 'F16' },
      bf16: { shape: [7], data: bf16Vals, dtype: 'BF16' },
      i32: { shape: [5], data: i32 },
      i64: { shape: [5, 1], data: i64, dtype: 'I64' },
      scalar: { shape: [], data: Float32Array.from([42]) },
      empty: { shape: [0, 3], data: new Float32Array(0) },
    },
    { format: 'pt', note: 'x' },
  );
  const f = SafetensorsFile.open(p);
  try {
    assert.deepEqual(f.metadata, { format: 'pt', note: 'x' });
    assert.equal(f.info('f16').dtype, 'F16');
    assert.equal(f.info('bf16').dtype, 'BF16');
    assert.equal(f.info('i64').dtype, 'I64');
    assert.equal(f.info('f16').end - f.info('f16').begin, 18);
    // data section starts 8-byte aligned (header padded)
    assert.equal(f.info(f.keys().sort((a, b) => f.info(a).begin - f.info(b).begin)[0]!).begin % 8, 0);
  } finally {
    f.close();
  }
  const t = readSafetensors(p);
  assert.deepEqual(Array.from(t.get('f32')!.data), Array.from(f32));
  assert.deepEqual(t.get('f32')!.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(t.get('f16')!.data), Array.from(halfVals).map((v) => halfToFloat(floatToHalf(v))));
  assert.deepEqual(Array.from(t.get('f16')!.data).slice(0, 5), [0, -0, 1, -2.5, 65504]);
  assert.equal(t.get('f16')!.data[6], 2 ** -24); // smallest subnormal survives
  assert.deepEqual(Array.from(t.get('bf16')!.data).slice(0, 3), [0, 1, -3.140625]);
  for (let i = 0; i < bf16Vals.length; i++) assert.ok(Math.abs(t.get('bf16')!.data[i]! - bf16Vals[i]!) <= Math.abs(bf16Vals[i]!) * 2 ** -8);
  assert.deepEqual(Array.from(t.get('i32')!.data), Array.from(i32));
  assert.equal(t.get('i32')!.dtype, 'int32');
  assert.deepEqual(Array.from(t.get('i64')!.data), Array.from(i64));
  assert.deepEqual(t.get('scalar')!.shape, []);
  assert.equal(t.get('scalar')!.data[0], 42);
  assert.deepEqual(t.get('empty')!.shape, [0, 3]);
  // each tensor read says what the file stored; a rewrite keeps integer widths and writes floats as F32
  const stored = Object.fromEntries([...t].map(([k, v]) => [k, v.stored]));
  assert.deepEqual(stored, { f32: 'F32', f16: 'F16', bf16: 'BF16', i32: 'I32', i64: 'I64', scalar: 'F32', empty: 'F32' });
  const rewrite = Object.fromEntries([...t].map(([k, v]) => [k, rewriteDtype(v)]));
  assert.deepEqual(rewrite, { f32: 'F32', f16: 'F32', bf16: 'F32', i32: 'I32', i64: 'I64', scalar: 'F32', empty: 'F32' });
});

test('half conversions: rounding to nearest even, overflow to Inf, NaN', () => {
  assert.equal(floatToHalf(1 + 2 ** -11), floatToHalf(1)); // tie → even
  assert.equal(halfToFloat(floatToHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(floatToHalf(65519)), 65504);
});

test('sharded checkpoint via model.safetensors.index.json', () => {
  const d = tmpDir();
  writeSafetensors(join(d, 'model-00001-of-00002.safetensors'), { a: { shape: [2], data: Float32Array.from([1, 2]) } });
  writeSafetensors(join(d, 'model-00002-of-00002.safetensors'), { b: { shape: [1], data: Float32Array.from([3]) } });
  writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }));
  const s = openTensorStore(d);
  try {
    assert.deepEqual(s.keys().sort(), ['a', 'b']);
    assert.deepEqual(Array.from(s.read('b').data), [3]);
    assert.throws(() => s.read('c'), isErr(/model\.safetensors\.index\.json: missing tensor 'c'/));
  } finally {
    s.close();
  }
  // index naming a tensor its shard does not hold
  writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' } }));
  assert.throws(() => openTensorStore(d), isErr(/tensor 'b' listed for model-00001-of-00002\.safetensors but not found there/));
  // the same tensor in two shards
  writeSafetensors(join(d, 'model-00002-of-00002.safetensors'), { a: { shape: [2], data: Float32Array.from([1, 2]) }, b: { shape: [1], data: Float32Array.from([3]) } });
  writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }));
  assert.throws(() => openTensorStore(d), isErr(/tensor 'a' is in both/));
  // weight_map must map tensor names to file names beside the index
  for (const [wm, re] of [
    [{ a: 5 }, /field 'weight_map': tensor 'a' names shard 5, not a file name beside the index/],
    [{ a: '../model-00001-of-00002.safetensors' }, /tensor 'a' names shard "\.\.\/model-00001-of-00002\.safetensors"/],
    [['model-00001-of-00002.safetensors'], /field 'weight_map': missing, or not an object/],
    [null, /field 'weight_map': missing/],
  ] as const) {
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: wm }));
    assert.throws(() => openTensorStore(d), isErr(re));
  }
  writeFileSync(join(d, 'model.safetensors.index.json'), '{not json');
  assert.throws(() => openTensorStore(d), isErr(/index\.json: invalid JSON/));
  assert.throws(() => openTensorStore(tmpDir()), isErr(/no model\.safetensors or model\.safetensors\.index\.json found/));
});

test('bad files: truncated, corrupt header, bad offsets, overlap, shape × dtype mismatch, bad dtype', () => {
  const d = tmpDir();
  const p = join(d, 'x.safetensors');
  const good = { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F16', shape: [4], data_offsets: [16, 24] } };
  rawFile(p, good, Buffer.alloc(24));
  assert.equal(readSafetensors(p).size, 2);

  truncateSync(p, statSync(p).size - 4);
  assert.throws(() => SafetensorsFile.open(p), isErr(/x\.safetensors: tensor 'b': data_offsets \[16, 24\] outside the data section \(20 bytes\)/));
  writeFileSync(p, Buffer.from([1, 2, 3]));
  assert.throws(() => SafetensorsFile.open(p), isErr(/x\.safetensors: not a safetensors file/));
  rawFile(p, good, Buffer.alloc(24), 1n << 40n);
  assert.throws(() => SafetensorsFile.open(p), isErr(/x\.safetensors: corrupt safetensors header length/));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(5n);
  writeFileSync(p, Buffer.concat([len, Buffer.from('{"a":'), Buffer.alloc(8)]));
  assert.throws(() => SafetensorsFile.open(p), isErr(/x\.safetensors: corrupt safetensors header \(invalid JSON/));
  rawFile(p, [1, 2], Buffer.alloc(0));
  assert.throws(() => SafetensorsFile.open(p), isErr(/not a JSON object/));
  // a tensor listed twice (JSON.parse would keep the last one), also when spelled with an escape
  const rawHeader = (text: string, data: Buffer): void => {
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
    writeFileSync(p, Buffer.concat([l, Buffer.from(text), data]));
  };
  const entry = (o: number): string => `{"dtype":"F32","shape":[1],"data_offsets":[${o},${o + 4}]}`;
  rawHeader(`{"a\\"b":${entry(0)},"c":${entry(4)}, "a":${entry(8)}}  `, Buffer.alloc(12));
  assert.equal(readSafetensors(p).size, 3);
  rawHeader(`{"a":${entry(0)},"__metadata__":{"a":"x"},"\\u0061":${entry(4)}}`, Buffer.alloc(8));
  assert.throws(() => SafetensorsFile.open(p), isErr(/x\.safetensors: corrupt safetensors header \(tensor 'a' is listed twice\)/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 64] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': data_offsets \[0, 64\] outside the data section/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 4] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': data_offsets \[8, 4\] outside/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, 2], data_offsets: [-1, 15] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': invalid data_offsets/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensors '.' and '.' overlap/));
  // an overlap hidden behind an empty tensor between the two
  rawFile(
    p,
    { a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] }, e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] }, c: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } },
    Buffer.alloc(32),
  );
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensors 'a' and 'c' overlap/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': shape \[2,3\] × F32 needs 24 bytes, offsets give 16/));
  rawFile(p, { a: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 16] } }, Buffer.alloc(16));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': shape \[2,2\] × F16 needs 8 bytes/));
  rawFile(p, { a: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, Buffer.alloc(1));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': unsupported dtype "Q4"/));
  rawFile(p, { a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, Buffer.alloc(8));
  assert.throws(() => SafetensorsFile.open(p), isErr(/tensor 'a': invalid shape/));
  rawFile(p, { __metadata__: { k: 1 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4));
  assert.throws(() => SafetensorsFile.open(p), isErr(/__metadata__/));
  // I64 values that do not fit int32
  const big = Buffer.alloc(8);
  big.writeBigInt64LE(1n << 40n);
  rawFile(p, { a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big);
  assert.throws(() => readSafetensors(p), isErr(/tensor 'a': I64 value 1099511627776 does not fit int32/));
  assert.throws(() => SafetensorsFile.open(join(d, 'nope.safetensors')), isErr(/nope\.safetensors: cannot open/));
});

test('writer: shape/data mismatch is an error and leaves no file', () => {
  const d = tmpDir();
  const p = join(d, 'w.safetensors');
  assert.throws(() => writeSafetensors(p, { a: { shape: [3], data: new Float32Array(2) } }), isErr(/w\.safetensors: tensor 'a': shape \[3\] needs 3 values, got 2/));
  assert.ok(!existsSync(p));
  assert.deepEqual(readdirSync(d), []);
  // a file that is not a safetensors file keeps its bytes (never overwritten by a failed write)
  writeFileSync(p, 'keep');
  assert.throws(() => writeSafetensors(p, { a: { shape: [1], data: new Float32Array(2) } }));
  assert.equal(readFileSync(p, 'utf8'), 'keep');
});
