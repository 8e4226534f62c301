/**
 * The detector interface the pipeline and the evaluator use (`detr:<dir>`): RGB images in, boxes
 * (x0, y0, x1, y1 in original pixels), scores and labels out, after HF post-processing, the
 * min-box-size filter and NMS (postprocess.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { LogolabError } from '../errors.js';
import type { RgbImage } from '../preprocess/image.js';
import { DetrImageProcessor, loadDetrProcessor, type DetrProcessorConfig } from '../preprocess/detr.js';
import type { Progress } from '../util/progress.js';
import { detrTarget, isDetrPreset, loadDetrOrPreset, type DetrModel } from './load.js';
import { filterMinBoxSize, nms, postProcessObjectDetection } from './postprocess.js';
import type { Box } from '../util/box.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';

export interface DetectionResult {
  boxes: Box[];
  scores: number[];
  labels: number[];
  /** config id2label names of `labels` */
  labelNames: string[];
}

export interface Detector {
  readonly name: string;
  /** what the boxes depend on besides the post-processing: see DetrDetector.fingerprint */
  readonly fingerprint: string;
  /** `names` (one per image: its file) label an image the preprocessing refuses */
  detect(images: RgbImage[], opts?: { progress?: Progress; names?: string[] }): Promise<DetectionResult[]>;
  dispose(): void;
}

export interface DetrDetectorOptions {
  /** score threshold (strictly greater is kept), reference default 0.5 */
  threshold?: number;
  /** minimum box width and height in pixels, reference default 20 (0 disables) */
  minBoxSize?: number;
  /** NMS IoU threshold, reference default 0.5 (≥ 1 disables) */
  nmsIouThreshold?: number;
  /** NMS within each label only (default: class-agnostic) */
  nmsPerClass?: boolean;
  /** images per forward pass; 1 (default) runs each image at its own size, as the HF pipeline does */
  batchSize?: number;
  /** truncate box coordinates to integers as the HF object-detection pipeline (the reference) does */
  integerBoxes?: boolean;
}

/**
 * The post-processing settings' valid ranges (CLI flags and LoadOptions check against these; the
 * detector's own check below accepts exactly these). A score is a probability, so threshold 1 would
 * keep nothing without a word: `lt` is its bound. NMS IoU 0 is torchvision's "suppress any overlap" (disjoint boxes have IoU 0 and stay).
 */
export const DETR_RANGES: Readonly<Record<'threshold' | 'minBoxSize' | 'nmsIouThreshold', { min: number; max?: number; lt?: number }>> = { threshold: { min: 0, lt: 1 }, minBoxSize: { min: 0 }, nmsIouThreshold: { min: 0, max: 1 } };

export const DETR_DETECTOR_DEFAULTS: Required<DetrDetectorOptions> = { threshold: 0.5, minBoxSize: 20, nmsIouThreshold: 0.5, nmsPerClass: false, batchSize: 1, integerBoxes: false };

function checkOpts(o: Required<DetrDetectorOptions>): void {
  if (!(o.threshold >= 0 && o.threshold < 1)) throw new LogolabError(`detector: threshold must be in [0, 1) (got ${o.threshold})`);
  if (!(o.minBoxSize >= 0)) throw new LogolabError(`detector: min box size must be ≥ 0 (got ${o.minBoxSize})`);
  if (!(o.nmsIouThreshold >= 0)) throw new LogolabError(`detector: NMS IoU threshold must be ≥ 0 (got ${o.nmsIouThreshold})`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new LogolabError(`detector: batch size must be a positive integer (got ${o.batchSize})`);
}

export class DetrDetector implements Detector {
  readonly opts: Required<DetrDetectorOptions>;
  /**
   * sha256 over the model config, the image processor's config and the weights (DetrModel's
   * weightsDigest): one detector has one fingerprint wherever its folder lies, and other weights or
   * another input size at the same path have another. The post-processing settings are not in it.
   */
  readonly fingerprint: string;
  constructor(
    readonly name: string,
    readonly model: DetrModel,
    readonly processor: DetrImageProcessor,
    opts: DetrDetectorOptions = {},
  ) {
    this.opts = { ...DETR_DETECTOR_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    checkOpts(this.opts);
    this.fingerprint = createHash('sha256').update(JSON.stringify(model.config)).update(JSON.stringify(processor.config)).update(model.weightsDigest).digest('hex');
  }

  async detect(images: RgbImage[], opts: { progress?: Progress; names?: string[] } = {}): Promise<DetectionResult[]> {
    const results: DetectionResult[] = [];
    const cfg = this.model.config;
    const C = cfg.numLabels + 1;
    for (let i = 0; i < images.length; i += this.opts.batchSize) {
      const chunk = images.slice(i, i + this.opts.batchSize);
      const batch = this.processor.processBatch(chunk, chunk.map((_, k) => opts.names?.[i + k] ?? (images.length > 1 ? `image ${i + k + 1} of ${images.length}` : undefined)));
      let logits: Float32Array;
      let boxes: Float32Array;
      const x = tf.tensor4d(batch.pixelValues, [batch.batch, 3, batch.height, batch.width]);
      try {
        const out = this.model.forward(x, batch.pixelMask);
        try {
          [logits, boxes] = (await Promise.all([out.logits.data(), out.predBoxes.data()])) as [Float32Array, Float32Array];
        } finally {
          out.logits.dispose();
          out.predBoxes.dispose();
          out.lastHiddenState.dispose();
        }
      } finally {
        x.dispose();
      }
      // a NaN logit loses every score comparison: a broken detector would read as "no logos here"
      for (const [what, data, per] of [['logits', logits!, cfg.numQueries * C], ['pred_boxes', boxes!, cfg.numQueries * 4]] as const) {
        const bad = firstNonFinite(data);
        if (bad < 0) continue;
        // the image by its file where the caller gave names: a caller that passes one chunk at a
        // time would otherwise read "image 1 of 1" for every image of the run
        const k = i + Math.floor(bad / per);
        throw new LogolabError(`${this.name}: the detector's ${what} hold ${nonFiniteName(data[bad]!)} for ${opts.names?.[k] ?? `image ${k + 1} of ${images.length}`}; its weights are broken`);
      }
      // Boxes are relative to the padded canvas's image region: HF rescales the normalised boxes by
      // the ORIGINAL size (the model predicts relative to the un-padded image).
      const dets = postProcessObjectDetection(logits, boxes, batch.batch, cfg.numQueries, C, this.opts.threshold, batch.original);
      for (const d0 of dets) {
        // the pipeline truncates (torch .int()) right after post-processing, before anything else
        if (this.opts.integerBoxes) d0.boxes = d0.boxes.map((b) => b.map((v) => Math.trunc(v)) as Box);
        const d = nms(filterMinBoxSize(d0, this.opts.minBoxSize), this.opts.nmsIouThreshold, { perClass: this.opts.nmsPerClass });
        results.push({ ...d, labelNames: d.labels.map((l) => cfg.id2label[l] ?? `LABEL_${l}`) });
      }
      opts.progress?.tick(chunk.length);
    }
    return results;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * `detr:<dir>`, `<dir>` or `detr-r50` (real shapes, random weights — benchmarks only, with a
 * warning; a folder named detr-r50 here is taken instead) → a detector.
 */
export function loadDetector(spec: string, opts: DetrDetectorOptions & { seed?: number; processor?: Partial<DetrProcessorConfig>; /** no notes on stderr (the library API) */ quiet?: boolean } = {}): DetrDetector {
  const target = detrTarget(spec);
  if (!target) throw new LogolabError(`detector '${spec}': expected detr:<dir> or detr-r50`);
  const model = loadDetrOrPreset(target, opts.seed ?? 0, { quiet: opts.quiet });
  try {
    const base = loadDetrProcessor(model.dir, { quiet: opts.quiet });
    const processor = opts.processor ? new DetrImageProcessor({ ...base.config, ...opts.processor }) : base;
    const { seed: _s, processor: _p, quiet: _q, ...detOpts } = opts;
    return new DetrDetector(isDetrPreset(target) ? `${target} (random weights)` : `detr:${target}`, model, processor, detOpts);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
