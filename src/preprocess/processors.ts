/**
 * HF image processors on RgbImage → pixel_values [3, H, W] (float32, CHW), configured from
 * `preprocessor_config.json` with HF's field names and defaults:
 *   CLIPImageProcessor, BitImageProcessor (DINOv2): resize (shortest edge, or height×width),
 *     centre crop, rescale, normalise;
 *   SiglipImageProcessor: squash resize to size.height×size.width, rescale, normalise.
 * `get_resize_output_image_size` is HF's (int() truncation of the long side). Two backends:
 *   'torchvision' (default) = HF's fast processors, the default of transformers 5: torch's uint8
 *     antialiased resize (int16 weights), torchvision centre-crop anchors (round half to even),
 *     fused rescale+normalise ((v - 255·mean) / (255·std) in float32). Bit-exact with the fixtures.
 *   'pil' = HF's slow processors (transformers 4 default, use_fast=False): Pillow resize (22-bit
 *     weights; resize.ts is bit-exact with Pillow), (h - crop) // 2 offsets with ceil zero padding,
 *     float32(v · rescale_factor) then (x - mean) / std. Differs from 'torchvision' by ±1–2 grey
 *     levels at a few hundred edge pixels per image (max 0.035, mean < 1e-4 in normalised units).
 *
 * Preprocess modes (the Python original's `preprocess_mode`):
 *   default   — the processor as configured;
 *   letterbox — pad the image to the output's aspect ratio (square for every real checkpoint) with
 *               black bars, centred at ((W - w) // 2, (H - h) // 2), LANCZOS-resize to the output size;
 *   stretch   — LANCZOS-resize straight to the output size (aspect ratio distorted).
 *   Both then only rescale + normalise. The reference resized to a hard-coded 224 and ran the full
 *   processor again (a no-op for 224-px CLIP; for DINOv2 it re-enlarged to 256 and cropped 224,
 *   cutting the letterbox's borders off; for 336-px models it upsampled 224 → 336). Going straight
 *   to the processor's output size gives the Python original's result for 224-px CLIP and fixes the others.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import type { RgbImage } from './image.js';
import { PIL_RESAMPLE, type ResampleFilter } from './resample-filters.js';
import { resize } from './resize.js';
import { resolveProcessorConfig, type ProcessorKind, type ProcessorSettings } from './processor-config.js';
import { centerCrop, checkWorkingSize, letterboxPad, shortestEdgeSize, toPixelValues, type ProcessorBackend } from './transforms.js';
import { readJsonObject } from '../util/json.js';

export * from './processor-config.js';
export * from './transforms.js';

export type PreprocessMode = 'default' | 'letterbox' | 'stretch';
export const PREPROCESS_MODES: readonly PreprocessMode[] = ['default', 'letterbox', 'stretch'];

export interface ImageProcessor {
  readonly kind: string;
  readonly outputSize: { height: number; width: number };
  readonly mean: number[];
  readonly std: number[];
  /** the preprocessor_config.json it came from, with HF defaults filled in */
  readonly config: Record<string, unknown>;
  /**
   * [3, H, W] normalised, ready for pixel_values. With `out`, writes there at `offset` (e.g. image
   * b of a [B, 3, H, W] batch at b·3·H·W) and returns `out`.
   */
  process(img: RgbImage, out?: Float32Array, offset?: number): Float32Array;
  /** how it was built (part of an embedding cache key) */
  readonly mode?: PreprocessMode;
  readonly backend?: ProcessorBackend;
}

class HfImageProcessor implements ImageProcessor {
  readonly kind: ProcessorKind;
  readonly outputSize: { height: number; width: number };
  readonly mean: number[];
  readonly std: number[];
  readonly config: Record<string, unknown>;
  readonly mode: PreprocessMode;
  readonly backend: ProcessorBackend;
  private readonly filter: ResampleFilter;

  constructor(readonly settings: ProcessorSettings, mode: PreprocessMode, backend: ProcessorBackend) {
    this.kind = settings.image_processor_type;
    this.mode = mode;
    this.backend = backend;
    this.filter = PIL_RESAMPLE[settings.resample]!;
    this.mean = settings.image_mean.slice();
    this.std = settings.image_std.slice();
    this.config = { ...settings };
    if (settings.do_center_crop) this.outputSize = { ...settings.crop_size };
    else if ('height' in settings.size) this.outputSize = { height: settings.size.height, width: settings.size.width };
    else throw new LogolabError('unreachable: image-dependent output size'); // rejected in resolveProcessorConfig
  }

  process(img: RgbImage, out?: Float32Array, offset = 0): Float32Array {
    if (img.data.length !== img.width * img.height * 3) throw new LogolabError(`image data length ${img.data.length} != ${img.width}x${img.height}x3`);
    const s = this.settings;
    const { height: H, width: W } = this.outputSize;
    let x = img;
    if (this.mode === 'default') {
      if (s.do_resize) {
        const t = 'shortest_edge' in s.size ? shortestEdgeSize(x.width, x.height, s.size.shortest_edge) : { width: s.size.width, height: s.size.height };
        // before the centre crop: only a shortest-edge resize of an elongated image can be huge
        if ('shortest_edge' in s.size) checkWorkingSize(x, t.width, t.height, `the resize to shortest edge ${s.size.shortest_edge}`);
        x = resize(x, t.width, t.height, this.filter, this.backend === 'pil' ? 'pil' : 'torch');
      }
      if (s.do_center_crop) x = centerCrop(x, s.crop_size.height, s.crop_size.width, this.backend);
    } else {
      if (this.mode === 'letterbox') x = letterboxPad(x, W, H);
      x = resize(x, W, H, 'lanczos', 'pil'); // the reference did this step in PIL
    }
    if (x.width !== W || x.height !== H) throw new LogolabError(`${this.kind}: produced ${x.width}x${x.height}, expected ${W}x${H}`);
    return toPixelValues(x, s.do_rescale ? s.rescale_factor : null, s.do_normalize ? this.mean : null, s.do_normalize ? this.std : null, this.backend, out, offset);
  }
}

/**
 * The short side a processor resizes to (size.shortest_edge), or undefined when it squashes to
 * height×width or has a non-default mode: the `workingShortSide` to pre-shrink with before
 * augmentation without changing what the processor produces.
 */
export function workingShortSide(proc: ImageProcessor): number | undefined {
  const size = proc.config.size as { shortest_edge?: number } | undefined;
  const mode = proc.mode ?? 'default';
  const kernelIsTorch = proc.backend !== 'pil';
  const resample = proc.config.resample;
  return mode === 'default' && proc.config.do_resize === true && kernelIsTorch && resample === 3 ? size?.shortest_edge : undefined;
}

export interface ProcessorOptions {
  mode?: PreprocessMode;
  /** where cfg came from, for error messages */
  source?: string;
  /** default 'torchvision' (transformers 5 default); 'pil' reproduces use_fast=False */
  backend?: ProcessorBackend;
}

export function imageProcessorFromConfig(cfg: Record<string, unknown>, opts: ProcessorOptions = {}): ImageProcessor {
  const mode = opts.mode ?? 'default';
  if (!PREPROCESS_MODES.includes(mode)) throw new LogolabError(`unknown preprocess mode '${String(mode)}' (expected ${PREPROCESS_MODES.join(', ')})`);
  const backend = opts.backend ?? 'torchvision';
  if (backend !== 'torchvision' && backend !== 'pil') throw new LogolabError(`unknown processor backend '${String(backend)}' (expected torchvision, pil)`);
  return new HfImageProcessor(resolveProcessorConfig(cfg, opts.source), mode, backend);
}

/** Reads `<modelDir>/preprocessor_config.json`. */
export function loadImageProcessor(modelDir: string, opts: Omit<ProcessorOptions, 'source'> = {}): ImageProcessor {
  const p = join(modelDir, 'preprocessor_config.json');
  if (!existsSync(p)) throw new LogolabError(`${p}: not found`);
  return imageProcessorFromConfig(readJsonObject(p), { ...opts, source: p });
}
