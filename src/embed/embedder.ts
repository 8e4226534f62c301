/**
 * Images → embeddings: the matcher's and evaluator's entry point.
 *   embedImages: RgbImage[] → image_embeds per image (processor of the model, batched forward)
 *   embedPixels: pixel_values [N, 3, H, W] → image_embeds, pooler_output, last_hidden_state
 * Batches are run one at a time inside tf.tidy, so memory stays at one batch's activations.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError, namingErrors } from '../errors.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';
import { l2normalize } from '../util/vector.js';
import type { RgbImage } from '../preprocess/image.js';
import type { Progress } from '../util/progress.js';
import type { VisionModel } from '../models/vision/index.js';

export const DEFAULT_BATCH_SIZE = 16;

function checkBatchSize(b: number): number {
  if (!Number.isInteger(b) || b < 1) throw new LogolabError(`--batch-size: must be a positive integer, got ${b}`);
  return b;
}

/** Runs the model on one preprocessed batch [n, C, H, W]; returns its image_embeds rows. */
async function embedBatch(model: VisionModel, batch: Float32Array, n: number, h: number, w: number): Promise<Float32Array[]> {
  const emb = tf.tidy(() => model.forward(tf.tensor4d(batch, [n, 3, h, w])).imageEmbeds);
  try {
    const data = (await emb.data()) as Float32Array;
    const d = emb.shape[1];
    return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
  } finally {
    emb.dispose();
  }
}

/**
 * Refuses a non-finite embedding, naming its image: NaN compares false with every threshold, so
 * it would otherwise pass the matchers silently.
 */
export function assertFiniteEmbedding(e: Float32Array, name: string): void {
  const i = firstNonFinite(e);
  if (i >= 0) throw new LogolabError(`${name}: the model produced a non-finite embedding (${nonFiniteName(e[i]!)} at dimension ${i}); its weights overflow or are broken`);
}

/** image_embeds per image (L2-normalised when `normalize`), in input order; `names` label errors. */
export async function embedImages(
  model: VisionModel,
  images: RgbImage[],
  opts: { batchSize?: number; normalize?: boolean; progress?: Progress; names?: string[] } = {},
): Promise<Float32Array[]> {
  const bs = checkBatchSize(opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const { height: h, width: w } = model.processor.outputSize;
  const per = 3 * h * w;
  const out: Float32Array[] = [];
  for (let start = 0; start < images.length; start += bs) {
    const chunk = images.slice(start, start + bs);
    const batch = new Float32Array(chunk.length * per);
    chunk.forEach((img, i) => {
      const px = namingErrors(opts.names?.[start + i] ?? `image #${start + i + 1}`, () => model.processor.process(img));
      if (px.length !== per) throw new Error(`internal: processor produced ${px.length} values, expected ${per}`);
      batch.set(px, i * per);
    });
    const rows = await embedBatch(model, batch, chunk.length, h, w);
    rows.forEach((r, i) => assertFiniteEmbedding(r, opts.names?.[start + i] ?? `image #${start + i + 1}`));
    for (const r of rows) out.push(opts.normalize ? l2normalize(r, r) : r);
    opts.progress?.tick(chunk.length);
  }
  return out;
}

export type PixelOutputs = Record<'image_embeds' | 'pooler_output' | 'last_hidden_state', { shape: number[]; data: Float32Array }>;

/**
 * Checks a pixel_values shape: [N, 3, H, W] with at least one image and one pixel. `name` says
 * where the tensor came from ("in.safetensors: tensor 'pixel_values'"); checked before anything
 * reads H and W, so a wrong rank is not first reported as an odd image size.
 */
export function checkPixelShape(shape: readonly number[], name = 'pixel_values'): [n: number, c: number, h: number, w: number] {
  const ok = shape.length === 4 && shape.every((d) => Number.isInteger(d) && d >= 1) && shape[1] === 3;
  if (!ok) throw new LogolabError(`${name} has shape ${JSON.stringify(shape)}, expected [N, 3, H, W] (N ≥ 1 images of 3 channels, NCHW)`);
  return shape as [number, number, number, number];
}

/** HF's three outputs for pixel_values [N, 3, H, W] (image_embeds NOT normalised); `name` labels shape errors. */
export async function embedPixels(model: VisionModel, pixels: Float32Array, shape: number[], opts: { batchSize?: number; progress?: Progress; name?: string } = {}): Promise<PixelOutputs> {
  const [n, c, h, w] = checkPixelShape(shape, opts.name);
  if (pixels.length !== n * c * h * w) throw new LogolabError(`${opts.name ?? 'pixel_values'}: ${pixels.length} values for shape ${JSON.stringify(shape)} (${n * c * h * w} expected)`);
  const bs = checkBatchSize(opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const per = c * h * w;
  const parts: { e: Float32Array; p: Float32Array; l: Float32Array }[] = [];
  let dims: { e: number; p: number; t: number; d: number } | null = null;
  for (let start = 0; start < n; start += bs) {
    const m = Math.min(bs, n - start);
    const x = tf.tensor4d(pixels.subarray(start * per, (start + m) * per), [m, c, h, w]);
    let out;
    try {
      out = model.forward(x);
    } finally {
      x.dispose();
    }
    try {
      dims = { e: out.imageEmbeds.shape[1], p: out.poolerOutput.shape[1], t: out.lastHiddenState.shape[1], d: out.lastHiddenState.shape[2] };
      parts.push({ e: (await out.imageEmbeds.data()) as Float32Array, p: (await out.poolerOutput.data()) as Float32Array, l: (await out.lastHiddenState.data()) as Float32Array });
    } finally {
      tf.dispose([out.imageEmbeds, out.poolerOutput, out.lastHiddenState]);
    }
    opts.progress?.tick(m);
  }
  if (!dims) throw new Error('internal: checkPixelShape let N = 0 through');
  const cat = (k: 'e' | 'p' | 'l') => {
    const total = parts.reduce((s, x) => s + x[k].length, 0);
    const a = new Float32Array(total);
    let o = 0;
    for (const x of parts) {
      a.set(x[k], o);
      o += x[k].length;
    }
    return a;
  };
  return {
    image_embeds: { shape: [n, dims.e], data: cat('e') },
    pooler_output: { shape: [n, dims.p], data: cat('p') },
    last_hidden_state: { shape: [n, dims.t, dims.d], data: cat('l') },
  };
}
