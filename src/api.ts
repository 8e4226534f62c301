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
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend/index.js';
import { LogolabError } from './errors.js';
import { loadDetector, type Detector } from './detect/detector.js';
import { loadVisionModel, type VisionModel } from './models/vision/index.js';
import { checkRgbImage, cropImage, decodeImage, hasPixels, type RgbImage } from './preprocess/image.js';
import { averagedEmbedding as averageOf, cosine } from './match/similarity.js';
import { DEFAULT_MATCH, METHOD_OPTIONS, validateMatchOptions, type MatchOptions } from './match/matchers.js';
import { mostRefsPerLogo, refuseUnreachableMinRefs } from './match/min-refs.js';
import { indexReferences, matchRegionAt, regionSimilarities } from './eval/evaluate.js';
import { visionCropEncoder } from './eval/vision-encoder.js';
import type { CropEncoder } from './eval/encoder.js';
import type { Box } from './util/box.js';
import { log } from './util/log.js';
import { DETECTOR_OPTIONS, MATCH_OPTIONS, checkLoadOptions, checkedNorm, kindOf, normalizedReference } from './api-checks.js';
import type { Detection, DetectionMatch, ImageInput, LoadOptions, References } from './api-types.js';

export type { Detection, DetectionMatch, ImageInput, LoadOptions, References } from './api-types.js';

export class LogoLab {
  /** instances not yet disposed: a load without `backend` keeps the backend they run on */
  private static readonly alive = new Set<LogoLab>();
  private disposed = false;
  /** calls that started before dispose() and have not finished: the weights are freed after the last */
  private inFlight = 0;

  private constructor(
    readonly model: VisionModel,
    private readonly encoder: CropEncoder,
    private readonly detector: Detector | null,
    /** tf.getBackend() when this instance was loaded: its weights live on that backend */
    private readonly backend: string,
  ) {}

  /**
   * Every method's first step. After dispose() the weights are gone (tfjs would throw a bare
   * TypeError or "Tensor is disposed"). tfjs has one backend per process: a later load with
   * another backend switches it under this instance, whose tensors stay on the old one (moved
   * silently, or failing), so that is an error naming both.
   */
  private live(): void {
    if (this.disposed) throw new LogolabError('LogoLab: used after dispose()');
    const now = tf.getBackend();
    if (now !== this.backend) throw new LogolabError(`LogoLab: one tfjs backend per process: this LogoLab was loaded on ${this.backend}, the process now runs ${now} (set by a later load)`);
  }

  static async load(options: LoadOptions): Promise<LogoLab> {
    const o = checkLoadOptions(options);
    // without a detector the whole image is the one region: these would be ignored without a word
    if (!o.detector) {
      for (const k of DETECTOR_OPTIONS) if (o[k] !== undefined) throw new LogolabError(`LogoLab.load: \`${k}\` (${o[k]}) is a detector setting, but no \`detector\` was given (without one the whole image is the one region)`);
    }
    // a load that fails (a wrong path, a broken file) leaves the process's backend as it was, so
    // an instance loaded earlier on it keeps working (see live())
    const before: string | null = tf.engine().backendName ?? null;
    // without `backend`, a live instance's backend is kept: auto selection (or $LOGOLAB_BACKEND)
    // could pick another and switch the process under the instance, which then refuses every call
    const keep = o.backend === undefined && before !== null && [...LogoLab.alive].some((l) => l.backend === before);
    if (!keep) await initBackend(o.backend, { quiet: true, workload: o.detector ? 'detector' : 'encoder', option: 'LogoLab.load: `backend`' });
    let model: VisionModel | null = null;
    let detector: Detector | null = null;
    try {
      model = await loadVisionModel(o.encoder, { adapter: o.adapter, preprocessMode: o.preprocessMode, quiet: true });
      if (o.detector) detector = loadDetector(o.detector, { threshold: o.detrThreshold, minBoxSize: o.minBoxSize, nmsIouThreshold: o.nmsIouThreshold, quiet: true });
    } catch (e) {
      model?.dispose();
      if (before !== null && tf.getBackend() !== before) await tf.setBackend(before);
      throw e;
    }
    const ll = new LogoLab(model, visionCropEncoder(model, { name: o.encoder, batchSize: o.batchSize }), detector, tf.getBackend());
    LogoLab.alive.add(ll);
    return ll;
  }

  /**
   * An asynchronous method's body: checked live() when called, counted while it runs, so that a
   * dispose() meanwhile frees the weights only after it finished (instead of under it, where tfjs
   * would fail with a bare TypeError or "Tensor is disposed").
   */
  private async track<T>(body: () => Promise<T>): Promise<T> {
    this.live();
    this.inFlight++;
    try {
      return await body();
    } finally {
      this.inFlight--;
      if (this.disposed && this.inFlight === 0) this.free();
    }
  }

  /** Model fingerprint (weights + adapter): changes whenever embeddings would. */
  fingerprint(): string {
    this.live();
    return this.encoder.fingerprint;
  }

  /** A path or encoded Buffer decoded, or a caller's RgbImage checked; `label` names it in errors. */
  private async image(x: ImageInput, label: string): Promise<RgbImage> {
    // a path names itself; a Buffer by its label ("averagedEmbedding: image #3"), not "<buffer>"
    if (typeof x === 'string') return decodeImage(x);
    if (Buffer.isBuffer(x)) return decodeImage(x, label);
    // checkRgbImage refuses anything else (a URL, a number, a bare Uint8Array) as an unsupported input type
    return checkRgbImage(x, label);
  }

  /** Regions (DETR boxes, or the whole image without a detector) with their embeddings. */
  async detect(input: ImageInput): Promise<Detection[]> {
    return this.track(() => this.regions(input, 'detect: image'));
  }

  /** `label` names a Buffer or RgbImage input in errors: the public method's own ('detectAndMatch: image'). */
  private async regions(input: ImageInput, label: string): Promise<Detection[]> {
    const img = await this.image(input, label);
    let regions: { box: Box; score: number; label: string }[];
    if (this.detector) {
      const [r] = await this.detector.detect([img], { names: [typeof input === 'string' ? input : label] });
      const all = r!.boxes.map((b, i) => ({ box: [...b] as Box, score: r!.scores[i]!, label: r!.labelNames[i] ?? 'logo' }));
      // with minBoxSize 0 (or 1) a box may cover no whole pixel: there is no crop to embed
      regions = all.filter((x) => hasPixels(x.box, img.width, img.height));
      if (regions.length < all.length) log('warn', `${typeof input === 'string' ? input : label}: ${all.length - regions.length} DETR box(es) cover no whole pixel and were dropped (minBoxSize 0 or 1 can let such boxes through)`);
    } else regions = [{ box: [0, 0, img.width, img.height], score: 1, label: 'image' }];
    if (!regions.length) return [];
    const name = typeof input === 'string' ? input : label;
    const embs = await this.encoder.embed(regions.map((r) => cropImage(img, r.box)), regions.map((r) => `${name} box [${r.box.join(', ')}]`));
    return regions.map((r, i) => ({ ...r, embedding: embs[i]! }));
  }

  /** Embedding of a whole image (a reference logo). */
  async embed(input: ImageInput): Promise<Float32Array> {
    return this.track(async () => (await this.encoder.embed([await this.image(input, 'embed: image')], [typeof input === 'string' ? input : 'embed: image']))[0]!);
  }

  /** Mean of the images' embeddings, re-normalised (the Python original's get_averaged_embedding). */
  async averagedEmbedding(inputs: ImageInput[]): Promise<Float32Array> {
    return this.track(async () => {
      if (!Array.isArray(inputs)) throw new LogolabError(`averagedEmbedding: expected an array of images, got ${kindOf(inputs)}`);
      if (!inputs.length) throw new LogolabError('averagedEmbedding: no images');
      const imgs = await Promise.all(inputs.map((x, i) => this.image(x, `averagedEmbedding: image #${i + 1}`)));
      return averageOf(await this.encoder.embed(imgs, inputs.map((x, i) => (typeof x === 'string' ? x : `image #${i + 1}`))));
    });
  }

  /**
   * Cosine similarity of two embeddings of any scale. A NaN/±Inf would give NaN, a zero vector
   * 0 (cosine()'s convention), different lengths a dot product over the shorter: each is an error
   * naming the argument.
   */
  compare(a: Float32Array, b: Float32Array): number {
    this.live();
    checkedNorm(a, 'compare: a');
    checkedNorm(b, 'compare: b');
    if (a.length !== b.length) throw new LogolabError(`compare: a has ${a.length} dimensions, b has ${b.length} (embeddings of different models?)`);
    return cosine(a, b);
  }

  /**
   * Length of this encoder's embeddings: CLIP's image_embeds are visual_projection's
   * projection_dim; DINOv2 / SigLIP (and CLIP without a projection) give the pooler output, hidden_size.
   */
  get embeddingDim(): number {
    this.live();
    return this.dim();
  }

  private dim(): number {
    return this.model.config.projection_dim ?? this.model.config.hidden_size;
  }

  /**
   * detect() + matching of every region against the references with any matching method.
   * References may be of any scale (each is used L2-normalised, see References). A similarity is
   * the float32 dot product of unit vectors, the region's and: a reference's (simple, margin); the
   * logo's averaged, re-normalised reference (averaged); or, for multi-ref, the mean (or max) of
   * those over the logo's references. It agrees with compare(regionEmbedding, reference) to float32
   * rounding (compare() works in float64), for simple and margin only.
   * Options are DEFAULT_MATCH's, overridden by those given (an explicit `undefined` = not given);
   * an unknown option, or one the chosen method does not read, is an error, as in the CLI.
   */
  async detectAndMatch(input: ImageInput, references: References, options: Partial<MatchOptions> = {}): Promise<DetectionMatch[]> {
    return this.track(() => this.matchRegions(input, references, options));
  }

  private async matchRegions(input: ImageInput, references: References, options: Partial<MatchOptions>): Promise<DetectionMatch[]> {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new LogolabError(`detectAndMatch: options must be an object (Partial<MatchOptions>), got ${kindOf(options)}`);
    const given: Partial<Record<keyof MatchOptions, unknown>> = {};
    for (const [k, v] of Object.entries(options)) {
      if (!(MATCH_OPTIONS as string[]).includes(k)) throw new LogolabError(`detectAndMatch: unknown option \`${k}\` (options are ${MATCH_OPTIONS.join(', ')})`);
      // { threshold: undefined } (a spread of an unset variable) means "not given": the default
      // stays, instead of undefined replacing it and failing as "threshold: must be a number"
      if (v !== undefined) given[k as keyof MatchOptions] = v;
    }
    const o = validateMatchOptions({ ...DEFAULT_MATCH, ...(given as Partial<MatchOptions>) }, { ranges: true });
    for (const [k, users] of METHOD_OPTIONS) {
      if (given[k] !== undefined && !users.includes(o.method)) throw new LogolabError(`detectAndMatch: option \`${k}\` is not used by matching method ${o.method} (only by ${users.join(', ')})`);
    }
    if (typeof references !== 'object' || references === null || Array.isArray(references)) throw new LogolabError(`detectAndMatch: references must be an object (logo name → embeddings), got ${kindOf(references)}`);
    const logos = Object.keys(references).sort();
    // nothing to match against: every region would come back with no match, as if none matched
    if (!logos.length) throw new LogolabError('detectAndMatch: references has no logos');
    const dim = this.dim();
    /** per reference (index order of `refs`): its index in its logo's list */
    const within: number[] = [];
    const refs = logos.flatMap((logo) => {
      const v = references[logo]!;
      const single = v instanceof Float32Array;
      const list = single ? [v] : v;
      if (!Array.isArray(list)) throw new LogolabError(`references['${logo}']: must be a Float32Array or an array of them, got ${kindOf(list)}`);
      if (!list.length) throw new LogolabError(`references['${logo}']: no embeddings`);
      return list.map((e, i) => {
        within.push(i);
        return { logo, embedding: normalizedReference(e, dim, single ? `references['${logo}']` : `references['${logo}'][${i}]`) };
      });
    });
    // refused before the image is read, as the CLI refuses it before embedding
    if (o.method === 'multi-ref') {
      const most = mostRefsPerLogo(refs.map((r) => r.logo));
      refuseUnreachableMinRefs(o.minMatchingRefs, most, { option: 'detectAndMatch: minMatchingRefs', whose: 'the logos in references', refs: 'embeddings', fix: 'lower it or give more embeddings per logo' });
    }
    const index = indexReferences(logos, refs);
    const dets = await this.regions(input, 'detectAndMatch: image');
    const sims = regionSimilarities(index, dets.map((d) => d.embedding));
    return dets.map((d, r) => ({
      ...d,
      matches: matchRegionAt(index, sims, r, o).map((m) => ({
        logo: logos[m.logo]!,
        similarity: m.similarity,
        ...(m.ref !== undefined ? { ref: within[m.ref]! } : {}),
        ...(m.numMatching !== undefined ? { numMatching: m.numMatching } : {}),
      })),
    }));
  }

  /**
   * Frees the weights: now, or when the calls still in flight (started before) have finished. A
   * second call does nothing; any call afterwards is an error.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    LogoLab.alive.delete(this);
    if (this.inFlight === 0) this.free();
  }

  private free(): void {
    this.detector?.dispose();
    this.model.dispose();
  }
}
