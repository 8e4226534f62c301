/**
 * BMP decoding. libvips (sharp's prebuilt) reads no BMP, while PIL does, so a `.bmp` in a dataset
 * the Python reference read would otherwise be lost as corrupt. Follows Pillow's BmpImagePlugin
 * (9.4): file header "BM"; DIB headers of 12 (OS/2 core: 16-bit sizes, 3-byte palette entries),
 * 40, 64, 108 and 124 bytes; 1/4/8-bit palettes (the colour count from the bits when the header
 * gives 0), 16-bit 5-5-5, 24-bit BGR, 32-bit BGRX; the BI_BITFIELDS layouts PIL lists (16-bit
 * 5-6-5/5-5-5, 24-bit BGR, six 32-bit orders, three with alpha); RLE8/RLE4; rows bottom-up, or
 * top-down for a negative height. Everything else is refused as PIL refuses it.
 * Fixtures: scripts/torch_ref/make_bmp_fixtures.py.
 */

/** sharp's default limitInputPixels (16383²): a header may claim any size, and we allocate it */
const PIXEL_LIMIT = 0x3fff * 0x3fff;

export interface BmpImage {
  width: number;
  height: number;
  /** 4 where PIL's mode is RGBA (32-bit bitfields with an alpha mask), else 3 */
  channels: 3 | 4;
  /** HWC, RGB(A), uint8 */
  data: Uint8Array;
  /** palette-indexed (1/4/8 bits): what decodeImage converts, for prepare's record */
  palette: boolean;
}

export const isBmp = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d;


/** Byte order of a 32/24-bit pixel's colours, by PIL's raw mode name; 'X' is ignored. */
type Layout = 'BGR' | 'BGRX' | 'XBGR' | 'ABGR' | 'RGBA' | 'BGRA' | 'BGR;15' | 'BGR;16';

// PIL's MASK_MODES: (bits, masks) → raw mode; 32-bit masks are r, g, b, a; 24/16-bit r, g, b
const MASK_LAYOUTS: Record<string, Layout> = {
  '32:ff0000,ff00,ff,0': 'BGRX',
  '32:ff000000,ff0000,ff00,0': 'XBGR',
  '32:ff000000,ff0000,ff00,ff': 'ABGR',
  '32:ff,ff00,ff0000,ff000000': 'RGBA',
  '32:ff0000,ff00,ff,ff000000': 'BGRA',
  '32:0,0,0,0': 'BGRA',
  '24:ff0000,ff00,ff': 'BGR',
  '16:f800,7e0,1f': 'BGR;16',
  '16:7c00,3e0,1f': 'BGR;15',
};
const DEFAULT_LAYOUT: Record<number, Layout> = { 16: 'BGR;15', 24: 'BGR', 32: 'BGRX' };

interface Header {
  width: number;
  height: number;
  bits: number;
  compression: number;
  topDown: boolean;
  /** where the pixel data starts */
  offset: number;
  /** [colours, bytes per entry, start] of a palette image */
  palette: [number, number, number] | null;
  layout: Layout | null;
}

function fail(why: string): Error {
  return new Error(`BMP: ${why}`);
}

function readHeader(b: Buffer): Header {
  if (b.length < 18) throw fail('truncated file header');
  let offset = b.readUInt32LE(10);
  const size = b.readUInt32LE(14);
  if (![12, 40, 64, 108, 124].includes(size)) throw fail(`unsupported header size ${size} (PIL reads 12, 40, 64, 108, 124)`);
  if (b.length < 14 + size) throw fail('truncated header');
  let width: number;
  let height: number;
  let bits: number;
  let compression = 0;
  let colours = 0;
  let topDown = false;
  let masks: number[] = [];
  if (size === 12) {
    width = b.readUInt16LE(18);
    height = b.readUInt16LE(20);
    bits = b.readUInt16LE(24);
  } else {
    width = b.readUInt32LE(18);
    // a negative height (its top byte 0xff, as PIL tests) stores the rows top-down
    topDown = b[25] === 0xff;
    height = topDown ? 2 ** 32 - b.readUInt32LE(22) : b.readUInt32LE(22);
    bits = b.readUInt16LE(28);
    compression = b.readUInt32LE(30);
    colours = b.readUInt32LE(46);
    if (compression === 3) {
      // the masks follow a 40-byte header (r, g, b) or are inside a longer one (r, g, b, a); at byte 54 either way
      const n = size >= 56 ? 4 : 3;
      if (b.length < 54 + 4 * n) throw fail('truncated bitfield masks');
      masks = Array.from({ length: n }, (_, i) => b.readUInt32LE(54 + 4 * i));
      if (n === 3) masks.push(0);
    }
  }
  if (width < 1 || height < 1) throw fail(`empty image (${width}×${height})`);
  if (width * height > PIXEL_LIMIT) throw new Error(`Input image exceeds pixel limit (${width}×${height})`);
  if (![1, 4, 8, 16, 24, 32].includes(bits)) throw fail(`unsupported pixel depth ${bits} bits`);
  let layout: Layout | null = bits > 8 ? DEFAULT_LAYOUT[bits]! : null;
  if (compression === 3) {
    const key = `${bits}:${(bits === 32 ? masks : masks.slice(0, 3)).map((m) => m.toString(16)).join(',')}`;
    layout = MASK_LAYOUTS[key] ?? null;
    if (!layout) throw fail(`unsupported bitfields layout (${bits} bits, masks ${key.slice(key.indexOf(':') + 1)})`);
  } else if (compression === 1 || compression === 2) {
    if (bits !== (compression === 1 ? 8 : 4)) throw fail(`RLE${compression === 1 ? 8 : 4} with ${bits} bits per pixel`);
  } else if (compression !== 0) {
    throw fail(`unsupported compression ${compression}${compression === 4 ? ' (embedded JPEG)' : compression === 5 ? ' (embedded PNG)' : ''}`);
  }
  let palette: Header['palette'] = null;
  if (bits <= 8) {
    colours ||= 2 ** bits;
    if (colours > 65536) throw fail(`palette of ${colours} colours`);
    const entry = size === 12 ? 3 : 4;
    // PIL: a data offset pointing at the palette itself means the pixels follow the palette
    if (offset === 14 + size) offset += 4 * colours;
    palette = [colours, entry, 14 + size];
    if (b.length < 14 + size + colours * entry) throw fail('truncated palette');
  }
  return { width, height, bits, compression, topDown, offset, palette, layout };
}

/** Palette indices [h·w] (row 0 = first stored) of an RLE8/RLE4 stream, as Pillow's BmpRleDecoder reads it. */
function rleIndices(b: Buffer, h: Header): Uint8Array {
  const { width: w, height } = h;
  const total = w * height;
  const out = new Uint8Array(total);
  const rle4 = h.compression === 2;
  let n = 0; // pixels written (skipped ones included)
  let x = 0;
  let p = h.offset;
  const put = (v: number) => {
    if (n < total) out[n] = v;
    n++;
  };
  while (n < total && p + 1 < b.length) {
    const count = b[p]!;
    const byte = b[p + 1]!;
    p += 2;
    if (count > 0) {
      // encoded run; a run past the row's end is cut there
      const k = Math.min(count, Math.max(0, w - x));
      for (let i = 0; i < k; i++) put(rle4 ? (i % 2 ? byte & 15 : byte >> 4) : byte);
      x += k;
    } else if (byte === 0) {
      n = Math.ceil(n / w) * w; // end of line: the rest of the row is index 0
      x = 0;
    } else if (byte === 1) {
      break; // end of bitmap
    } else if (byte === 2) {
      // delta: skip `right` pixels and `up` rows (index 0)
      if (p + 1 >= b.length) break;
      n += b[p]! + b[p + 1]! * w;
      p += 2;
      x = n % w;
    } else {
      // absolute run of `byte` pixels, padded to a 16-bit boundary of the file
      const bytes = rle4 ? byte >> 1 : byte;
      const got = Math.min(bytes, b.length - p);
      for (let i = 0; i < got; i++) {
        const v = b[p + i]!;
        if (rle4) {
          put(v >> 4);
          put(v & 15);
        } else put(v);
      }
      p += got;
      if (got < bytes) break;
      x += byte;
      if (p % 2) p++;
    }
  }
  if (n < total) throw fail('not enough image data');
  return out;
}

/** BmpImage.channels for a header: 4 for a layout with alpha */
const channelsOf = (h: Header): 3 | 4 => (h.layout && h.layout.includes('A') ? 4 : 3);

/** Size, channels (4 where PIL reads RGBA) and palette of a BMP, from its headers alone (no pixel is decoded). */
export function bmpInfo(b: Buffer): { width: number; height: number; channels: 3 | 4; palette: boolean } {
  const h = readHeader(b);
  return { width: h.width, height: h.height, channels: channelsOf(h), palette: h.palette !== null };
}

/** Decodes a BMP file's bytes as PIL `Image.open(p)` does, before any convert(). */
export function decodeBmp(b: Buffer): BmpImage {
  const h = readHeader(b);
  const { width: w, height, bits, layout } = h;
  const channels = channelsOf(h);
  const data = new Uint8Array(w * height * channels);
  // stored row r is image row height-1-r (bottom-up) or r (top-down)
  const rowOf = (r: number) => (h.topDown ? r : height - 1 - r);
  if (h.palette) {
    const [colours, entry, start] = h.palette;
    const colour = (i: number, o: number) => {
      // an index past the palette reads black (PIL's palette is zero-filled)
      if (i >= colours) return;
      const q = start + i * entry;
      data[o] = b[q + 2]!;
      data[o + 1] = b[q + 1]!;
      data[o + 2] = b[q]!;
    };
    if (h.compression) {
      const idx = rleIndices(b, h);
      for (let r = 0; r < height; r++) for (let c = 0; c < w; c++) colour(idx[r * w + c]!, (rowOf(r) * w + c) * 3);
    } else {
      const stride = ((w * bits + 31) >> 3) & ~3;
      if (h.offset + stride * height > b.length) throw fail('truncated pixel data');
      const perByte = 8 / bits;
      for (let r = 0; r < height; r++) {
        const row = h.offset + r * stride;
        for (let c = 0; c < w; c++) {
          const v = b[row + Math.floor(c / perByte)]!;
          const shift = 8 - bits * ((c % perByte) + 1);
          colour((v >> shift) & ((1 << bits) - 1), (rowOf(r) * w + c) * 3);
        }
      }
    }
    return { width: w, height, channels: 3, data, palette: true };
  }
  const stride = ((w * bits + 31) >> 3) & ~3;
  if (h.offset + stride * height > b.length) throw fail('truncated pixel data');
  const bpp = bits / 8;
  for (let r = 0; r < height; r++) {
    const row = h.offset + r * stride;
    for (let c = 0; c < w; c++) {
      const q = row + c * bpp;
      const o = (rowOf(r) * w + c) * channels;
      let rgba: [number, number, number, number];
      switch (layout) {
        case 'BGR;15': {
          // 5 bits per colour, scaled as PIL's unpackers do: v * 255 / 31, truncated
          const v = b.readUInt16LE(q);
          rgba = [Math.floor((((v >> 10) & 31) * 255) / 31), Math.floor((((v >> 5) & 31) * 255) / 31), Math.floor(((v & 31) * 255) / 31), 255];
          break;
        }
        case 'BGR;16': {
          const v = b.readUInt16LE(q);
          rgba = [Math.floor((((v >> 11) & 31) * 255) / 31), Math.floor((((v >> 5) & 63) * 255) / 63), Math.floor(((v & 31) * 255) / 31), 255];
          break;
        }
        case 'BGR':
        case 'BGRX':
          rgba = [b[q + 2]!, b[q + 1]!, b[q]!, 255];
          break;
        case 'BGRA':
          rgba = [b[q + 2]!, b[q + 1]!, b[q]!, b[q + 3]!];
          break;
        case 'XBGR':
          rgba = [b[q + 3]!, b[q + 2]!, b[q + 1]!, 255];
          break;
        case 'ABGR':
          rgba = [b[q + 3]!, b[q + 2]!, b[q + 1]!, b[q]!];
          break;
        default: // 'RGBA'
          rgba = [b[q]!, b[q + 1]!, b[q + 2]!, b[q + 3]!];
      }
      for (let k = 0; k < channels; k++) data[o + k] = rgba[k]!;
    }
  }
  return { width: w, height, channels, data, palette: false };
}
