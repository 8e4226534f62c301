/**
 * Programmatic API — the counterpart of the Python original's DetectLogosDETR / DetectLogosEmbeddings:
 * one object that loads a detector and an encoder (+ LoRA adapter) once and offers
 * detect / embed / averagedEmbedding / compare / detectAndMatch (every matching method).
 * Images are file paths or encoded Buffers (JPEG/PNG/WebP…), or already decoded RgbImages.
 *
 *   const ll = await LogoLab.load({ encoder: 'models/clip-vit-large-patch14', detector: 'models/detr-logo' });
 *   const nike = await ll.averagedEmbedding(['refs/nike1.png', 'refs/nike2.png']);
 *   const hits = await ll.detectAndMatch('photo.jpg', { nike: [nike] }, { method: 'multi-ref', threshold: 0.7 });
 *   ll.dispose();
 */
import { initBackend } from './backend/index.js';
import { LogolabError } from './errors.js';
import { loadDetector, type Detector } from './detect/detector.js';
import { loadVisionModel, type VisionModel } from './models/vision/index.js';
import { cropImage, decodeImage, type RgbImage } from './preprocess/image.js';
import type { PreprocessMode } from './preprocess/processors.js';
import { averagedEmbedding as averageOf, cosine } from './match/similarity.js';
import { DEFAULT_MATCH, validateMatchOptions, type MatchOptions } from './match/matchers.js';
import { indexReferences, matchRegionAt, regionSimilarities } from './eval/evaluate.js';
import { visionCropEncoder } from './eval/vision-encoder.js';
import type { CropEncoder } from './eval/encoder.js';
import type { Box } from './util/box.js';
import { firstNonFinite, nonFiniteName } from './util/finite.js';
import { l2normalize } from './util/vector.js';

export type ImageInput = string | Buffer | RgbImage;

export interface LoadOptions {
  /** vision model folder (HF CLIP / DINOv2 / SigLIP or converted) */
  encoder: string;
  /** LoRA adapter folder applied to the encoder */
  adapter?: string;
  /** 'detr:<dir>' | '<dir>' | 'detr-r50'; omitted = the whole image is the one region */
  detector?: string;
  /** DETR confidence threshold (Python original's default 0.5) */
  detrThreshold?: number;
  /** minimum box width/height in pixels (Python original's default 20) */
  minBoxSize?: number;
  /** NMS IoU threshold (Python original's default 0.5) */
  nmsIouThreshold?: number;
  preprocessMode?: PreprocessMode;
  /** tfjs backend to initialise (default: auto) */
  backend?: string;
  batchSize?: number;
}

export interface Detection {
  box: Box;
  score: number;
  label: string;
  /** L2-normalised embedding of the crop */
  embedding: Float32Array;
}

/**
 * Reference embeddings: logo name → one or more embeddings (several = multi-reference). Any scale:
 * detectAndMatch L2-normalises a copy of each, so the raw image_embeds `logolab embed` writes by
 * default compare as cosines, like ll.embed()'s.
 */
export type References = Record<string, Float32Array[] | Float32Array>;

/** The LoadOptions that only a detector reads. */
const DETECTOR_OPTIONS = ['detrThreshold', 'minBoxSize', 'nmsIouThreshold'] as const;

/**
 * One user reference [D] checked and L2-normalised (a copy; the caller's array is left alone). The
 * matchers take a plain dot product as the cosine, which holds only for unit vectors: an
 * unnormalised image_embeds (norm ~5-20) would give "similarities" far above 1 and make every
 * threshold meaningless. A NaN/±Inf would make every similarity NaN, a zero vector has no
 * direction, a wrong size belongs to another model: each is an error naming the reference.
 */
function normalizedReference(e: unknown, dim: number, what: string): Float32Array {
  if (!(e instanceof Float32Array)) throw new LogolabError(`${what}: must be a Float32Array (an embedding), got ${Array.isArray(e) ? 'an array' : typeof e}`);
  if (e.length !== dim) throw new LogolabError(`${what}: embedding dimension ${e.length}, but the encoder's embeddings have ${dim} (a reference embedded by another model?)`);
  const bad = firstNonFinite(e);
  if (bad >= 0) throw new LogolabError(`${what}: ${nonFiniteName(e[bad]!)} at dimension ${bad}`);
  let ss = 0;
  for (let i = 0; i < e.length; i++) ss += e[i]! * e[i]!;
  // l2normalize floors the norm at 1e-12 (torch's F.normalize): below it the copy would not be a unit vector
  if (!(Math.sqrt(ss) > 1e-12)) throw new LogolabError(`${what}: ${ss === 0 ? 'all zeros' : `norm ${Math.sqrt(ss)} ≤ 1e-12`}: no direction to compare with`);
  return l2normalize(e);
}

export interface DetectionMatch extends Detection {
  /** accepted matches for this region, best first (simple may return several) */
  matches: { logo: string; similarity: number }[];
}

function isRgb(x: ImageInput): x is RgbImage {
  return typeof x === 'object' && !Buffer.isBuffer(x) && 'data' in x && 'width' in x;
}

export class LogoLab {
  private constructor(
    readonly model: VisionModel,
    private readonly encoder: CropEncoder,
    private readonly detector: Detector | null,
  ) {}

  static async load(o: LoadOptions): Promise<LogoLab> {
    if (!o.encoder) throw new LogolabError('LogoLab.load: `encoder` (model folder) is required');
    // without a detector the whole image is the one region: these would be ignored without a word
    if (!o.detector) {
      for (const k of DETECTOR_OPTIONS) if (o[k] !== undefined) throw new LogolabError(`LogoLab.load: \`${k}\` (${o[k]}) is a detector setting, but no \`detector\` was given (without one the whole image is the one region)`);
    }
    await initBackend(o.backend, { quiet: true, workload: o.detector ? 'detector' : 'encoder' });
    const model = await loadVisionModel(o.encoder, { adapter: o.adapter, preprocessMode: o.preprocessMode, quiet: true });
    let detector: Detector | null = null;
    try {
      if (o.detector) detector = loadDetector(o.detector, { threshold: o.detrThreshold, minBoxSize: o.minBoxSize, nmsIouThreshold: o.nmsIouThreshold });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return new LogoLab(model, visionCropEncoder(model, { name: o.encoder, batchSize: o.batchSize }), detector);
  }

  /** Model fingerprint (weights + adapter): changes whenever embeddings would. */
  fingerprint(): string {
    return this.encoder.fingerprint;
  }

  private async image(x: ImageInput): Promise<RgbImage> {
    return isRgb(x) ? x : decodeImage(x);
  }

  /** Regions (DETR boxes, or the whole image without a detector) with their embeddings. */
  async detect(input: ImageInput): Promise<Detection[]> {
    const img = await this.image(input);
    let regions: { box: Box; score: number; label: string }[];
    if (this.detector) {
      const [r] = await this.detector.detect([img]);
      regions = r!.boxes.map((b, i) => ({ box: [...b] as Box, score: r!.scores[i]!, label: r!.labelNames[i] ?? 'logo' }));
    } else regions = [{ box: [0, 0, img.width, img.height], score: 1, label: 'image' }];
    if (!regions.length) return [];
    const name = typeof input === 'string' ? input : 'image';
    const embs = await this.encoder.embed(regions.map((r) => cropImage(img, r.box)), regions.map((r) => `${name} box [${r.box.join(', ')}]`));
    return regions.map((r, i) => ({ ...r, embedding: embs[i]! }));
  }

  /** Embedding of a whole image (a reference logo). */
  async embed(input: ImageInput): Promise<Float32Array> {
    return (await this.encoder.embed([await this.image(input)], [typeof input === 'string' ? input : 'image']))[0]!;
  }

  /** Mean of the images' embeddings, re-normalised (the Python original's get_averaged_embedding). */
  async averagedEmbedding(inputs: ImageInput[]): Promise<Float32Array> {
    if (!inputs.length) throw new LogolabError('averagedEmbedding: no images');
    const imgs = await Promise.all(inputs.map((x) => this.image(x)));
    return averageOf(await this.encoder.embed(imgs, inputs.map((x, i) => (typeof x === 'string' ? x : `image #${i + 1}`))));
  }

  /** Cosine similarity. */
  compare(a: Float32Array, b: Float32Array): number {
    return cosine(a, b);
  }

  /**
   * Length of this encoder's embeddings: CLIP's image_embeds are visual_projection's
   * projection_dim; DINOv2 / SigLIP (and CLIP without a projection) give the pooler output, hidden_size.
   */
  get embeddingDim(): number {
    return this.model.config.projection_dim ?? this.model.config.hidden_size;
  }

  /**
   * detect() + matching of every region against the references with any matching method.
   * References may be of any scale (each is used L2-normalised, see References); similarities are
   * cosines, equal to compare(regionEmbedding, reference).
   */
  async detectAndMatch(input: ImageInput, references: References, options: Partial<MatchOptions> = {}): Promise<DetectionMatch[]> {
    const o = validateMatchOptions({ ...DEFAULT_MATCH, ...options });
    const logos = Object.keys(references).sort();
    const dim = this.embeddingDim;
    const refs = logos.flatMap((logo) => {
      const v = references[logo]!;
      const single = v instanceof Float32Array;
      const list = single ? [v] : v;
      if (!Array.isArray(list)) throw new LogolabError(`references['${logo}']: must be a Float32Array or an array of them, got ${typeof list}`);
      if (!list.length) throw new LogolabError(`references['${logo}']: no embeddings`);
      return list.map((e, i) => ({ logo, embedding: normalizedReference(e, dim, single ? `references['${logo}']` : `references['${logo}'][${i}]`) }));
    });
    const index = indexReferences(logos, refs);
    const dets = await this.detect(input);
    const sims = regionSimilarities(index, dets.map((d) => d.embedding));
    return dets.map((d, r) => ({ ...d, matches: matchRegionAt(index, sims, r, o).map((m) => ({ logo: logos[m.logo]!, similarity: m.similarity })) }));
  }

  dispose(): void {
    this.detector?.dispose();
    this.model.dispose();
  }
}
