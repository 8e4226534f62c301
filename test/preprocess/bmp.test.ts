/**
 * BMPs decode as PIL's `Image.open(p).convert('RGB')` does (HF's load_image): libvips reads no BMP,
 * so src/preprocess/bmp.ts follows Pillow's BmpImagePlugin. Expected pixels and PIL's refusals:
 * scripts/torch_ref/make_bmp_fixtures.py (Pillow 9.4.0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { decodeImage, imageMetadata } from '../../src/preprocess/image.js';
import { bmpInfo, decodeBmp } from '../../src/preprocess/bmp.js';

const DIR = join(FIXTURES, 'bmp');
type Case = { width: number; height: number; mode: string; rgb: number[] } | { pil_error: string };
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { cases: Record<string, Case> };
const read = Object.entries(expected.cases).filter((e): e is [string, Exclude<Case, { pil_error: string }>] => !('pil_error' in e[1]));
const refused = Object.entries(expected.cases).filter(([, c]) => 'pil_error' in c).map(([n]) => n);

test('BMP: every fixture PIL reads decodes to PIL convert(RGB), exactly (file and Buffer)', async () => {
  assert.equal(read.length, 22);
  // the fixtures span what the decoder distinguishes
  assert.deepEqual([...new Set(read.map(([, c]) => c.mode))].sort(), ['1', 'L', 'P', 'RGB', 'RGBA']);
  for (const [name, want] of read) {
    for (const src of [join(DIR, name), readFileSync(join(DIR, name))]) {
      const img = await decodeImage(src, name);
      assert.deepEqual([img.width, img.height], [want.width, want.height], name);
      assert.deepEqual(Array.from(img.data), want.rgb, name);
    }
  }
});

test('BMP: alpha is dropped as PIL convert(RGB) drops it, or composited on white when asked', async () => {
  const name = 'bgra32_v4.bmp';
  const raw = decodeBmp(readFileSync(join(DIR, name)));
  assert.equal(raw.channels, 4);
  const white = await decodeImage(join(DIR, name), name, { alpha: 'white' });
  for (let i = 0; i < raw.width * raw.height; i++) {
    const a = raw.data[i * 4 + 3]! / 255;
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(white.data[i * 3 + k]! - (raw.data[i * 4 + k]! * a + 255 * (1 - a))) <= 1, `pixel ${i}`);
  }
});

test('BMP: what PIL refuses is one error naming the file and the reason', async () => {
  assert.deepEqual(refused.sort(), ['bitfields_odd.bmp', 'bits2.bmp', 'header56.bmp', 'rle8_short.bmp', 'truncated.bmp']);
  const why: Record<string, RegExp> = {
    'bitfields_odd.bmp': /unsupported bitfields layout/,
    'bits2.bmp': /unsupported pixel depth 2 bits/,
    'header56.bmp': /unsupported header size 56/,
    'rle8_short.bmp': /not enough image data/,
    'truncated.bmp': /truncated pixel data/,
  };
  for (const name of refused) {
    const path = join(DIR, name);
    await assert.rejects(decodeImage(path), (e: Error) => e.name === 'LogolabError' && e.message.startsWith(`cannot decode image ${path}: BMP: `) && why[name]!.test(e.message), name);
  }
});

/** A 40-byte-header BMP around `pixels`, with a 256-entry palette where entry i is (i, 255 - i, 7). */
function pal8(width: number, height: number, compression: number, pixels: number[]): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 1024, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(8, 28);
  header.writeUInt32LE(compression, 30);
  const palette = Buffer.alloc(1024);
  for (let i = 0; i < 256; i++) palette.set([7, 255 - i, i, 0], i * 4);
  return Buffer.concat([header, palette, Buffer.from(pixels)]);
}

test('BMP: an RLE8 delta skips pixels as the format defines (index 0), which Pillow 9.4 misreads', async () => {
  // 4×2, bottom-up: row 0 = run of 4 × index 9; row 1 = delta right 1, then 2 × index 5, end of line
  const img = await decodeImage(pal8(4, 2, 1, [4, 9, 0, 0, 0, 2, 1, 0, 2, 5, 0, 0, 0, 1]));
  const idx = Array.from({ length: 8 }, (_, i) => img.data[i * 3]!);
  assert.deepEqual(idx, [0, 5, 5, 0, 9, 9, 9, 9]);
});

test('BMP: a header that claims more pixels than sharp accepts is refused before anything is allocated', async () => {
  const b = pal8(20000, 20000, 0, []);
  await assert.rejects(decodeImage(b, 'huge.bmp'), /huge\.bmp: Input image exceeds pixel limit \(20000×20000\)/);
});

test('BMP: metadata reads BMPs too (prepare, eval on folders)', async () => {
  const m = await imageMetadata(join(DIR, 'pil_pal8.bmp'));
  assert.deepEqual([m.width, m.height, m.isPalette, m.hasAlpha], [5, 3, true, false]);
  const a = await imageMetadata(join(DIR, 'bgra32_v4.bmp'));
  assert.deepEqual([a.width, a.height, a.hasAlpha], [5, 3, true]);
  // from the headers alone: a file whose pixel data is cut short still has its size (decoding it fails)
  const t = await imageMetadata(join(DIR, 'truncated.bmp'));
  assert.deepEqual([t.width, t.height, t.isPalette], [5, 3, false]);
});

test('BMP: bmpInfo (headers only) tells what decodeBmp delivers, for every fixture PIL reads', () => {
  for (const [name] of read) {
    const b = readFileSync(join(DIR, name));
    const { width, height, channels, palette } = decodeBmp(b);
    assert.deepEqual(bmpInfo(b), { width, height, channels, palette }, name);
  }
});
