/**
 * The torch checkpoint reader (src/io/torch/): torch.save files made by Debian's python3-torch
 * (test/fixtures/generated/bin/, scripts/torch_ref/make_bin_fixtures.py) read to the exact values
 * torch holds — strided/offset/expanded views of shared storages, float16/bfloat16/int64, deflated
 * and ZIP64 archives, a >4 GiB archive read by offset — and pickles that would run code are refused
 * without running it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { readSafetensors, rewriteDtype } from '../../src/io/safetensors.js';
import { TorchCheckpoint } from '../../src/io/torch/checkpoint.js';
import { unpickle } from '../../src/io/torch/pickle.js';
import { PyDict } from '../../src/io/torch/pickle-globals.js';

const CRAFTED = join(FIXTURES, 'generated/bin/crafted');
const MARKER = '/tmp/logolab-unpickle-executed'; // what the malicious pickles would create
const expected = readSafetensors(join(CRAFTED, 'expected.safetensors'));

const oneLine = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof LogolabError, `not a LogolabError: ${String(e)}`);
  assert.match((e as Error).message, re);
  assert.ok(!(e as Error).message.includes('\n'), 'one line');
  return true;
};

function sameValues(file: string, prefix: string, skip: string[] = []): number {
  const ck = TorchCheckpoint.open(join(CRAFTED, file));
  let n = 0;
  try {
    for (const k of ck.keys()) {
      if (skip.includes(k)) continue;
      const got = ck.read(k);
      const want = expected.get(`${prefix}.${k}`)!;
      assert.ok(want, `${prefix}.${k} in expected.safetensors`);
      assert.deepEqual(got.shape, want.shape, k);
      assert.equal(got.dtype, want.dtype, k);
      assert.deepEqual(Array.from(got.data), Array.from(want.data), `${file} ${k}`);
      assert.deepEqual(ck.info(k).shape, want.shape);
      n++;
    }
  } finally {
    ck.close();
  }
  return n;
}

test('views of one shared storage (transposed, offset, stepped, expanded, 0-d) read as torch holds them; stored, deflated and ZIP64 archives', () => {
  for (const f of ['views.bin', 'views_deflated.bin', 'views_zip64.bin']) assert.equal(sameValues(f, 'views'), 7, f);
});

test('float16 and bfloat16 widen exactly, int64 narrows with a range check, empty tensors', () => {
  assert.equal(sameValues('dtypes.bin', 'dtypes', ['too_big']), 5);
  const ck = TorchCheckpoint.open(join(CRAFTED, 'dtypes.bin'));
  try {
    assert.equal(ck.info('half').dtype, 'F16');
    assert.equal(ck.info('bfloat16').dtype, 'BF16');
    // what was read says what was stored, so a rewrite can keep an int64 buffer int64
    for (const [k, stored] of [['half', 'F16'], ['half_t', 'F16'], ['bfloat16', 'BF16'], ['int64', 'I64'], ['empty', 'F32']] as const) assert.equal(ck.read(k).stored, stored, k);
    assert.equal(rewriteDtype(ck.read('int64')), 'I64');
    assert.equal(rewriteDtype(ck.read('half')), 'F32');
    assert.throws(() => ck.read('too_big'), oneLine(/dtypes\.bin: tensor 'too_big': int64 value 1099511627776 does not fit int32/));
  } finally {
    ck.close();
  }
});

test('a pickle that would run os.system or eval is refused, naming the global; nothing runs', () => {
  rmSync(MARKER, { force: true });
  assert.throws(() => TorchCheckpoint.open(join(CRAFTED, 'evil_os_system.bin')), oneLine(/evil_os_system\.bin: .*refusing to unpickle global 'posix\.system'.*nothing was executed/));
  assert.throws(() => TorchCheckpoint.open(join(CRAFTED, 'evil_eval.bin')), oneLine(/evil_eval\.bin: .*refusing to unpickle global '__builtin__\.eval'/));
  assert.ok(!existsSync(MARKER), 'the payload ran');
});

test('not a state dict, legacy format, not a zip: one-line errors', () => {
  assert.throws(() => TorchCheckpoint.open(join(CRAFTED, 'training.bin')), oneLine(/training\.bin: 'model' holds a dict, not a tensor/));
  assert.throws(() => TorchCheckpoint.open(join(CRAFTED, 'legacy.bin')), oneLine(/legacy\.bin: legacy torch serialization \(torch < 1\.6\)/));
  assert.throws(() => TorchCheckpoint.open(join(CRAFTED, 'expected.safetensors')), oneLine(/not a torch checkpoint \(not a ZIP archive\)/));
});

test('a damaged central directory or a FIFO named like a checkpoint: one-line errors, never a stack or a hang', () => {
  const d = tmpDir();
  const src = readFileSync(join(CRAFTED, 'views.bin'));
  const lastEntry = src.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); // the last central-directory header
  const damaged = (name: string, edit: (b: Buffer) => void): string => {
    const b = Buffer.from(src);
    edit(b);
    writeFileSync(join(d, name), b);
    return join(d, name);
  };
  // lengths that run past the directory: the file name, then the extra field
  const longExtra = damaged('extra.bin', (b) => b.writeUInt16LE(0xfff0, lastEntry + 30));
  assert.throws(() => TorchCheckpoint.open(longExtra), oneLine(/extra\.bin: corrupt zip \(central directory entry \d+ runs past the directory\)/));
  const longName = damaged('name.bin', (b) => b.writeUInt16LE(0xfff0, lastEntry + 28));
  assert.throws(() => TorchCheckpoint.open(longName), oneLine(/name\.bin: corrupt zip \(central directory entry \d+ runs past the directory\)/));
  // a ZIP64 extra field shorter than the 8-byte values it must hold
  const short64 = damaged('zip64.bin', (b) => {
    // the name's last 4 bytes become an extra field: ZIP64 (id 1) holding 0 bytes
    const nameLen = b.readUInt16LE(lastEntry + 28);
    assert.equal(b.readUInt16LE(lastEntry + 30), 0, 'the fixture entry has no extra field');
    b.writeUInt16LE(nameLen - 4, lastEntry + 28);
    b.writeUInt16LE(4, lastEntry + 30);
    b.writeUInt16LE(1, lastEntry + 46 + nameLen - 4);
    b.writeUInt16LE(0, lastEntry + 46 + nameLen - 2);
    b.writeUInt32LE(0xffffffff, lastEntry + 24); // size: "in the ZIP64 field"
  });
  assert.throws(() => TorchCheckpoint.open(short64), oneLine(/zip64\.bin: corrupt zip \(central directory entry \d+: ZIP64 field holds 0 bytes, needs 8\)/));
  const fifo = join(d, 'pytorch_model.bin');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.throws(() => TorchCheckpoint.open(fifo), oneLine(/pytorch_model\.bin: is a FIFO \(named pipe\), not a regular file/));
});

/** A tiny protocol-2 pickle writer for hand-made opcode streams. */
const P = {
  proto: [0x80, 2],
  str: (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return [0x58, ...u32(b.length), ...b];
  },
  int: (v: number) => [0x4a, ...i32(v)],
  global: (mod: string, name: string) => [0x63, ...Buffer.from(`${mod}\n${name}\n`)],
};
function u32(v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return [...b];
}
function i32(v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return [...b];
}
const pk = (...parts: (number | number[])[]) => Uint8Array.from(parts.flat());
const noPid = () => {
  throw new Error('no persistent ids here');
};

test('unpickler: data opcodes build values; object-creating opcodes and other globals are refused', () => {
  // {'a': (1, -2, 'x'), 'b': [3.5, None, True], 'c': 2**40}
  const ok = pk(P.proto, 0x7d, 0x28, P.str('a'), P.int(1), P.int(-2), P.str('x'), 0x87, P.str('b'), 0x5d, 0x28, 0x47, ...Buffer.from([0x40, 0x0c, 0, 0, 0, 0, 0, 0]), 0x4e, 0x88, 0x65, P.str('c'), 0x8a, 6, 0, 0, 0, 0, 0, 1, 0x75, 0x2e);
  const v = unpickle(ok, 't', noPid) as PyDict;
  assert.ok(v instanceof PyDict);
  assert.deepEqual(v.get('a'), [1, -2, 'x']);
  assert.deepEqual(v.get('b'), [3.5, null, true]);
  assert.equal(v.get('c'), 2 ** 40);
  const refused: [Uint8Array, RegExp][] = [
    [pk(P.proto, 0x28, 0x69, ...Buffer.from('os\nsystem\n'), 0x2e), /opcode INST \(0x69\) is not allowed/],
    [pk(P.proto, P.global('collections', 'OrderedDict'), 0x29, 0x81, 0x2e), /opcode NEWOBJ \(0x81\) is not allowed/],
    [pk(P.proto, 0x28, 0x6f, 0x2e), /opcode OBJ/],
    [pk(P.proto, 0x82, 1, 0x2e), /opcode EXT1/],
    [pk(P.proto, P.str('os'), P.str('system'), 0x93, 0x2e), /refusing to unpickle global 'os\.system'/],
    [pk(P.proto, P.global('builtins', 'getattr'), 0x2e), /refusing to unpickle global 'builtins\.getattr'/],
    [pk(P.proto, P.global('torch', 'DoubleStorage'), 0x2e), /refusing to unpickle global 'torch\.DoubleStorage'/],
    [pk(P.proto, 0x5d, 0x29, 0x52, 0x2e), /REDUCE of something that is not an allowed callable/],
    [pk(P.proto, 0x5d, 0x7d, 0x62, 0x2e), /BUILD of anything but dict attributes/],
    [pk(P.proto, P.global('torch._utils', '_rebuild_tensor_v2'), 0x28, P.int(1), P.int(0), 0x29, 0x29, 0x89, 0x4e, 0x74, 0x52, 0x2e), /first argument is not a storage/],
    [pk(P.proto, 0x7d, 0x58, 255, 255, 0, 0), /truncated pickle/],
  ];
  for (const [bytes, re] of refused) assert.throws(() => unpickle(bytes, 'crafted.pkl', noPid), oneLine(re));
});

/**
 * A ZIP64 torch archive whose one storage is 5.2 GB of holes (a sparse file) but for a 10-float
 * view at its end: read by offset it costs 40 bytes; reading the whole entry would not even fit
 * one Buffer. Built by hand: local headers, data, central directory with ZIP64 extras, ZIP64 end
 * record + locator, EOCD with saturated fields.
 */
test('a >4 GiB checkpoint (ZIP64) is read by offset: a view at the end of a 5.2 GB storage', () => {
  const numel = 1_300_000_000; // float32 → 5.2e9 bytes
  const off = numel - 10;
  const pkl = pk(
    P.proto, 0x7d, P.str('tail'),
    P.global('torch._utils', '_rebuild_tensor_v2'), 0x28,
    0x28, P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(numel), 0x74, 0x51,
    P.int(off), P.int(10), 0x85, P.int(1), 0x85, 0x89, P.global('collections', 'OrderedDict'), 0x29, 0x52,
    0x74, 0x52, 0x73, 0x2e,
  );
  const path = join(tmpDir('logolab-zip64-'), 'big.bin');
  const fd = openSync(path, 'w');
  try {
    const at = (pos: number, b: Uint8Array) => writeSync(fd, b, 0, b.length, pos);
    const le = (n: number, v: number | bigint) => {
      const b = Buffer.alloc(n);
      if (n === 2) b.writeUInt16LE(Number(v));
      else if (n === 4) b.writeUInt32LE(Number(v));
      else b.writeBigUInt64LE(BigInt(v));
      return [...b];
    };
    const entries = [
      { name: 'big/data.pkl', size: pkl.length, data: pkl },
      { name: 'big/data/0', size: numel * 4, data: null },
    ];
    let pos = 0;
    const placed: { name: string; size: number; local: number }[] = [];
    for (const e of entries) {
      const name = Buffer.from(e.name);
      const extra = [...le(2, 1), ...le(2, 16), ...le(8, e.size), ...le(8, e.size)];
      const hdr = Uint8Array.from([...le(4, 0x04034b50), ...le(2, 45), ...le(2, 0), ...le(2, 0), ...le(4, 0), ...le(4, 0), ...le(4, 0xffffffff), ...le(4, 0xffffffff), ...le(2, name.length), ...le(2, extra.length), ...name, ...extra]);
      at(pos, hdr);
      placed.push({ name: e.name, size: e.size, local: pos });
      pos += hdr.length;
      if (e.data) at(pos, e.data);
      else {
        const tail = new Float32Array(10).map((_, i) => i * 1.25 - 3);
        at(pos + off * 4, new Uint8Array(tail.buffer));
      }
      pos += e.size;
    }
    const cdStart = pos;
    for (const e of placed) {
      const name = Buffer.from(e.name);
      const extra = [...le(2, 1), ...le(2, 24), ...le(8, e.size), ...le(8, e.size), ...le(8, e.local)];
      const cen = Uint8Array.from([...le(4, 0x02014b50), ...le(2, 45), ...le(2, 45), ...le(2, 0), ...le(2, 0), ...le(4, 0), ...le(4, 0), ...le(4, 0xffffffff), ...le(4, 0xffffffff), ...le(2, name.length), ...le(2, extra.length), ...le(2, 0), ...le(2, 0), ...le(2, 0), ...le(4, 0), ...le(4, 0xffffffff), ...name, ...extra]);
      at(pos, cen);
      pos += cen.length;
    }
    const cdSize = pos - cdStart;
    const eocd64 = pos;
    at(pos, Uint8Array.from([...le(4, 0x06064b50), ...le(8, 44), ...le(2, 45), ...le(2, 45), ...le(4, 0), ...le(4, 0), ...le(8, 2), ...le(8, 2), ...le(8, cdSize), ...le(8, cdStart)]));
    pos += 56;
    at(pos, Uint8Array.from([...le(4, 0x07064b50), ...le(4, 0), ...le(8, eocd64), ...le(4, 1)]));
    pos += 20;
    at(pos, Uint8Array.from([...le(4, 0x06054b50), ...le(2, 0), ...le(2, 0), ...le(2, 0xffff), ...le(2, 0xffff), ...le(4, 0xffffffff), ...le(4, 0xffffffff), ...le(2, 0)]));
    ftruncateSync(fd, pos + 22);
  } finally {
    closeSync(fd);
  }
  const ck = TorchCheckpoint.open(path);
  try {
    assert.deepEqual(ck.keys(), ['tail']);
    const t = ck.read('tail');
    assert.deepEqual(t.shape, [10]);
    assert.deepEqual(Array.from(t.data), Array.from({ length: 10 }, (_, i) => i * 1.25 - 3));
  } finally {
    ck.close();
    rmSync(path, { force: true });
  }
});
