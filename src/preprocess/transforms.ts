/**
 * The steps of HF's image processors on uint8 RgbImage (transformers image_transforms and the
 * torchvision functions its fast processors call), for both backends.
 */
import { LogolabError } from '../errors.js';
import { roundHalfEven, type RgbImage } from './image.js';

/**
 * Which HF implementation to reproduce: 'torchvision' = the fast processors, the default of
 * transformers 5 (and what the fixtures were made with); 'pil' = the slow PIL/numpy ones
 * (transformers 4 default, use_fast=False). They differ by ±1 grey level at a few pixels.
 */
export type ProcessorBackend = 'torchvision' | 'pil';

/** HF get_resize_output_image_size(default_to_square=False): shortest edge → size, long edge int()-truncated. */
export function shortestEdgeSize(width: number, height: number, shortest: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((shortest * long) / short); // Python: int(size * long / short)
  return width <= height ? { width: shortest, height: newLong } : { width: newLong, height: shortest };
}

/**
 * Centre crop to cropH×cropW.
 *   'pil' (HF slow center_crop): top = (h - ch) // 2; an image smaller than the crop is first
 *     zero-padded with ceil((H - h) / 2) before it.
 *   'torchvision' (F.center_crop, HF fast): a too-small side is zero-padded with (ch - h) // 2
 *     before it; top = round((h - ch) / 2) with Python's half-to-even round.
 */
export function centerCrop(img: RgbImage, cropH: number, cropW: number, style: ProcessorBackend = 'torchvision'): RgbImage {
  const { width: w, height: h } = img;
  if (cropH === h && cropW === w) return img;
  let top: number;
  let left: number;
  let padT = 0;
  let padL = 0;
  let ph = h;
  let pw = w;
  if (style === 'pil') {
    top = Math.floor((h - cropH) / 2);
    left = Math.floor((w - cropW) / 2);
    if (top < 0 || left < 0 || top + cropH > h || left + cropW > w) {
      ph = Math.max(cropH, h);
      pw = Math.max(cropW, w);
      padT = Math.ceil((ph - h) / 2);
      padL = Math.ceil((pw - w) / 2);
      top += padT;
      left += padL;
    }
  } else {
    if (cropH > h) {
      padT = Math.floor((cropH - h) / 2);
      ph = cropH;
    }
    if (cropW > w) {
      padL = Math.floor((cropW - w) / 2);
      pw = cropW;
    }
    top = roundHalfEven((ph - cropH) / 2);
    left = roundHalfEven((pw - cropW) / 2);
  }
  // Crop rows top..top+cropH of the (virtually) padded [ph, pw] canvas holding the image at (padT, padL).
  const y0 = Math.max(0, top);
  const y1 = Math.min(ph, top + cropH);
  const x0 = Math.max(0, left);
  const x1 = Math.min(pw, left + cropW);
  const ow = x1 - x0;
  const oh = y1 - y0;
  const out = new Uint8Array(oh * ow * 3);
  // Source columns that land inside the image (outside: zeros).
  const dx0 = Math.max(0, padL - x0);
  const dx1 = Math.min(ow, padL + w - x0);
  for (let y = 0; y < oh; y++) {
    const sy = y0 + y - padT;
    if (sy < 0 || sy >= h || dx1 <= dx0) continue;
    const s = (sy * w + (x0 + dx0 - padL)) * 3;
    out.set(img.data.subarray(s, s + (dx1 - dx0) * 3), (y * ow + dx0) * 3);
  }
  return { width: ow, height: oh, data: out };
}

/**
 * The most pixels an intermediate image may hold (a shortest-edge resize before its centre crop, a
 * letterbox canvas): 2 GiB of RGB. A very elongated picture is small (65000×1: 65 k pixels) but its
 * shortest-edge resize to 224 is 14560000×224 (9.8 GB, past what a typed array holds) and its
 * square letterbox canvas 65000² (12.7 GB); 20000×1 resized to 4480000×224 took 41 s and 3.9 GB
 * before the crop kept 224×224. A phone panorama's canvas (20000², 1.2 GB) stays allowed.
 */
export const MAX_WORKING_PIXELS = Math.floor(2 ** 31 / 3);

/** Refuses a `step` that would turn `img` into a width×height intermediate over MAX_WORKING_PIXELS. */
export function checkWorkingSize(img: RgbImage, width: number, height: number, step: string): void {
  if (width * height > MAX_WORKING_PIXELS) {
    throw new LogolabError(`${img.width}x${img.height} is too elongated for this processor: ${step} would make it ${width}x${height}, more than ${MAX_WORKING_PIXELS} pixels (2 GiB of RGB)`);
  }
}

/** Reference letterbox: black canvas of the target aspect ratio, image pasted at floor-centred offsets. */
export function letterboxPad(img: RgbImage, aspectW = 1, aspectH = 1): RgbImage {
  const { width: w, height: h } = img;
  // Smallest canvas with the target aspect ratio that holds the image (square: max(w, h)²).
  let cw = w;
  let ch = h;
  if (w * aspectH >= h * aspectW) ch = Math.max(h, Math.round((w * aspectH) / aspectW));
  else cw = Math.max(w, Math.round((h * aspectW) / aspectH));
  if (cw === w && ch === h) return img;
  checkWorkingSize(img, cw, ch, 'the letterbox canvas');
  const out = new Uint8Array(cw * ch * 3); // zeros = black
  const px = Math.floor((cw - w) / 2);
  const py = Math.floor((ch - h) / 2);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((py + y) * cw + px) * 3);
  return { width: cw, height: ch, data: out };
}

/**
 * The pixel value of each 8-bit level, one 256-entry table per channel, in HF's float32 arithmetic:
 *   'pil' (numpy): x = float32(v * rescale) (product in float64), then (x - mean) / std in float32;
 *   'torchvision' (fast, fused): mean' = float32(mean) * 255, std' likewise, then (v - mean') / std'.
 */
export function pixelValueTables(rescale: number | null, mean: number[] | null, std: number[] | null, backend: ProcessorBackend = 'torchvision'): Float32Array[] {
  const f = Math.fround;
  const normalize = mean !== null && std !== null;
  return [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      let x: number;
      if (backend === 'torchvision' && rescale !== null && normalize) {
        const inv = f(1 / rescale);
        x = f(f(v - f(f(mean[c]!) * inv)) / f(f(std[c]!) * inv));
      } else {
        x = rescale === null ? v : backend === 'pil' ? f(v * rescale) : f(v * f(rescale));
        if (normalize) x = f(f(x - f(mean[c]!)) / f(std[c]!));
      }
      lut[v] = x;
    }
    return lut;
  });
}

/** uint8 HWC → float32 CHW through pixelValueTables: the per-pixel cost is a lookup. */
export function toPixelValues(
  img: RgbImage, rescale: number | null, mean: number[] | null, std: number[] | null,
  backend: ProcessorBackend = 'torchvision', out?: Float32Array, offset = 0,
): Float32Array {
  const n = img.width * img.height;
  if (!out) out = new Float32Array(3 * n);
  else if (!Number.isInteger(offset) || offset < 0 || offset + 3 * n > out.length) {
    throw new LogolabError(`pixel_values buffer of ${out.length} has no room for 3x${img.height}x${img.width} at offset ${offset}`);
  }
  const d = img.data;
  const tables = pixelValueTables(rescale, mean, std, backend);
  for (let c = 0; c < 3; c++) {
    const lut = tables[c]!;
    const o = offset + c * n;
    for (let i = 0, j = c; i < n; i++, j += 3) out[o + i] = lut[d[j]!]!;
  }
  return out;
}
