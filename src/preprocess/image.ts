/**
 * Decoded images as plain typed arrays: HWC, RGB, uint8 (`RgbImage`). Everything downstream
 * (resize, processors, augmentation, crops for the matcher) works on this one layout.
 *
 * Decoding uses sharp (libvips). Conversion rules, chosen to match what the Python reference sees
 * (PIL `Image.open(p).convert('RGB')`, which HF's `do_convert_rgb` also uses, and cv2.imread):
 *   - EXIF orientation is applied (HF's load_image calls ImageOps.exif_transpose; cv2.imread does too).
 *   - alpha: DROPPED by default, keeping the stored colour of every pixel — exactly PIL's
 *     `convert('RGB')` on RGBA/LA/PA (it does not composite). `{ alpha: 'white' }` composites on white
 *     instead, which is what a viewer shows for transparent logos (opt-in, not the default, so that
 *     embeddings stay comparable with ones computed in Python).
 *   - grayscale → R=G=B; palette → its colours (a GIF's transparent index too: gif.ts); CMYK → sRGB through libvips' colour management
 *     (PIL uses a naive formula, so CMYK JPEGs differ slightly from PIL: documented, not matched).
 *   - 16-bit → 8-bit by the high byte (v >> 8), as PIL reads 16-bit RGB PNGs. (PIL clips 16-bit
 *     *grayscale* to 255 instead — a PIL quirk we do not reproduce.)
 *   - embedded ICC profiles (Display P3, Adobe RGB…) are NOT applied: the stored values are used,
 *     as PIL does (sharp would convert to sRGB by default; CLIP & co. were trained on PIL decodes).
 *   - BMP, which libvips does not read, is decoded here as PIL reads it (bmp.ts) and enters sharp as
 *     raw pixels; `imageMetadata` does the same for the readers of image headers.
 *   - unreadable / corrupt / truncated → LogolabError naming the file.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { LogolabError, firstLine } from '../errors.js';
import { notRegularFile } from '../io/file-kind.js';
import { withOwnVipsError } from './vips-errors.js';
import { fillTransparent, gifTransparentColour } from './gif.js';
import { bmpInfo, decodeBmp, type BmpImage } from './bmp.js';
import { imageKind, sniffImage } from './magic.js';

export interface RgbImage {
  width: number;
  height: number;
  /** HWC, RGB, length width*height*3 */
  data: Uint8Array;
}

export interface DecodeOptions {
  /** 'drop' (default, PIL convert('RGB') semantics) or 'white' (composite on white). */
  alpha?: 'drop' | 'white';
}

export function makeImage(width: number, height: number, data?: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new LogolabError(`invalid image size ${width}x${height}`);
  }
  const n = width * height * 3;
  if (data && data.length !== n) throw new LogolabError(`image data length ${data.length} != ${width}x${height}x3`);
  return { width, height, data: data ?? new Uint8Array(n) };
}

/** What a value is, for a message: its constructor's name when it has one. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * A caller's decoded image checked before any pixel is read: every consumer indexes `data` as
 * 8-bit HWC RGB of width*height*3 bytes, so a Float32Array, a plain array, an RGBA buffer or a
 * fractional size would give garbage pixels (or reads past the end, as undefined → NaN) instead
 * of an error. A Uint8ClampedArray (canvas ImageData's type) is accepted as a view of its bytes.
 * `label` names the input in the message.
 */
export function checkRgbImage(x: unknown, label: string): RgbImage {
  // not even shaped like an RgbImage (a URL, a bare Uint8Array of encoded bytes, a number)
  if (typeof x !== 'object' || x === null || !('data' in x || 'width' in x || 'height' in x)) throw new LogolabError(`${label}: unsupported input type ${kindOf(x)} (expected a file path, an encoded image Buffer or an RgbImage)`);
  const { width, height, data } = x as { width?: unknown; height?: unknown; data?: unknown };
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new LogolabError(`${label}: RgbImage.data must be a Uint8Array, Uint8ClampedArray or Buffer of 8-bit RGB, got ${kindOf(data)}`);
  }
  if (!(Number.isInteger(width) && (width as number) >= 1 && Number.isInteger(height) && (height as number) >= 1)) {
    throw new LogolabError(`${label}: RgbImage width and height must be integers ≥ 1, got ${String(width)}x${String(height)}`);
  }
  const n = (width as number) * (height as number) * 3;
  if (data.length !== n) throw new LogolabError(`${label}: RgbImage.data has ${data.length} bytes, but ${String(width)}x${String(height)} RGB needs ${n} (RGBA or another layout?)`);
  const bytes = data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
  return { width: width as number, height: height as number, data: bytes };
}

function describe(src: string | Buffer, name?: string): string {
  return name ?? (typeof src === 'string' ? src : '<buffer>');
}

export async function decodeImage(src: string | Buffer, name?: string, opts: DecodeOptions = {}): Promise<RgbImage> {
  // sharp would take a Uint8Array, a URL or an options object in its own way (or throw a bare
  // TypeError): only a path or an encoded Buffer is an image source here
  if (typeof src !== 'string' && !Buffer.isBuffer(src)) throw new LogolabError(`${name ?? 'image'}: unsupported input type ${kindOf(src)} (expected a file path or an encoded image Buffer)`);
  const label = describe(src, name);
  if (typeof src === 'string') {
    // a FIFO would block the decoder thread forever; a folder or device is no image either
    const why = notRegularFile(src);
    if (why) throw new LogolabError(`cannot decode image ${why}`);
  }
  try {
    // failOn 'error': reject truncated / corrupt data, tolerate benign libjpeg warnings (as PIL does).
    // toColourspace('srgb'): grayscale → 3 bands, CMYK → RGB, 16-bit → 8-bit. A failure is decoded
    // again alone (vips-errors.ts): beside other decodes its message may be another file's.
    // a GIF's transparent pixels keep their palette colour, as PIL's convert('RGB') (gif.ts)
    const sniffed = sniffImage(src);
    const gif = opts.alpha === 'white' ? null : sniffed.gif;
    const gifColour = gif ? gifTransparentColour(gif) : null;
    const raw = sniffed.bmp ? decodeBmp(sniffed.bmp) : null;
    const { data, info } = await withOwnVipsError(() => {
      // a GIF's bytes are already read: decoded from them, not read again
      const s = (raw ? rawSharp(raw) : sharp(sniffed.gif ?? src, { failOn: 'error' })).rotate().keepIccProfile();
      const rgb = gifColour ? s.ensureAlpha() : opts.alpha === 'white' ? s.flatten({ background: { r: 255, g: 255, b: 255 } }) : s.removeAlpha();
      return rgb.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    });
    if (gifColour && info.channels === 4) return { width: info.width, height: info.height, data: fillTransparent(new Uint8Array(data.buffer, data.byteOffset, data.length), gifColour) };
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    // Copy out of sharp's Buffer (which may be a pooled slice) into a tight Uint8Array.
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length).slice() };
  } catch (e) {
    if (e instanceof LogolabError) throw e;
    const msg = firstLine(e);
    throw new LogolabError(`cannot decode image ${label}: ${msg}`);
  }
}

const rawSharp = (img: BmpImage): Sharp => sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });

/** sharp's metadata of an image file or Buffer; a BMP's as decoded (isPalette set for a palette image). */
export async function imageMetadata(src: string | Buffer): Promise<Metadata> {
  // a GIF's first 6 bytes only: sharp reads its header itself (its bytes are wanted only to decode it)
  const kind = imageKind(src);
  if (kind !== 'bmp') return sharp(src).metadata();
  // from the headers: what decodeImage will deliver (8-bit sRGB, alpha where PIL reads RGBA)
  const i = bmpInfo(sniffImage(src, kind).bmp!);
  return { width: i.width, height: i.height, channels: i.channels, space: 'srgb', depth: 'uchar', hasAlpha: i.channels === 4, isPalette: i.palette } as Metadata;
}

/** Python's round(): half to even (PIL's crop rounds float boxes with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Crop [x0, y0, x1, y1) in pixel coordinates (floats rounded like PIL's crop), clipped to the
 * image. A box with no area left after clipping is an error (the caller asked for nothing).
 */
/** The pixels cropImage cuts for `box` in a width×height image: corners rounded half to even (PIL's crop), clipped. */
function cropRect(box: readonly number[], width: number, height: number): { x0: number; y0: number; w: number; h: number } {
  const x0 = Math.max(0, roundHalfEven(box[0]!));
  const y0 = Math.max(0, roundHalfEven(box[1]!));
  return { x0, y0, w: Math.min(width, roundHalfEven(box[2]!)) - x0, h: Math.min(height, roundHalfEven(box[3]!)) - y0 };
}

/** Whether cropImage would cut at least one pixel for `box` (a detector's sub-pixel box would not; a non-finite one it refuses). */
export function hasPixels(box: readonly number[], width: number, height: number): boolean {
  if (!box.every(Number.isFinite)) return false;
  const { w, h } = cropRect(box, width, height);
  return w >= 1 && h >= 1;
}

export function cropImage(img: RgbImage, box: [number, number, number, number] | readonly number[]): RgbImage {
  if (box.length !== 4 || box.some((v) => !Number.isFinite(v))) throw new LogolabError(`invalid crop box [${box.join(', ')}]`);
  const { x0, y0, w, h } = cropRect(box, img.width, img.height);
  if (w < 1 || h < 1) {
    throw new LogolabError(`crop box [${box.join(', ')}] is empty inside the ${img.width}x${img.height} image`);
  }
  const out = new Uint8Array(w * h * 3);
  const rowBytes = w * 3;
  for (let y = 0; y < h; y++) {
    const s = ((y0 + y) * img.width + x0) * 3;
    out.set(img.data.subarray(s, s + rowBytes), y * rowBytes);
  }
  return { width: w, height: h, data: out };
}

/** A sharp pipeline over the raw pixels (for encoding, compositing, debugging). */
export function toSharp(img: RgbImage): Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  });
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  return toSharp(img).png().toBuffer();
}

export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return toSharp(img).jpeg({ quality }).toBuffer();
}
