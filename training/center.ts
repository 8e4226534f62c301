/**
 * Centring a CLIP vision folder's embeddings on its training data, inside the weights.
 *
 * A model trained from scratch with a contrastive loss keeps a common direction μ in every
 * embedding (the loss only ranks similarities, so a shared offset costs it little): it lifts every
 * cosine, the different-logo ones most, and narrows the gap between same- and different-logo pairs.
 * Subtracting the mean raw embedding of the TRAINING crops removes it (never evaluation data).
 * CLIP's projection has no bias, so the shift goes into post_layernorm's bias:
 *   pooler_output = γ⊙x̂ + β [H],  image_embeds = W·pooler_output   (W: visual_projection [P, H])
 *   with m = mean pooler_output over the crops, μ = W·m, and β − m gives pooler_output − m and
 *   image_embeds − μ exactly (any P, H; no projection: image_embeds = pooler_output − m).
 * The folder keeps the HF layout, so transformers and `logolab` load it unchanged.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDataDb } from '../src/data/db.js';
import { embedPixels } from '../src/embed/embedder.js';
import { LogolabError, namingErrors } from '../src/errors.js';
import { withAtomicDir } from '../src/io/atomic.js';
import { readSafetensors, rewriteDtype, writeSafetensors, type WriteTensor } from '../src/io/safetensors.js';
import { loadVisionModel } from '../src/models/vision/index.js';
import { decodeImage } from '../src/preprocess/image.js';
import { Progress } from '../src/util/progress.js';

export const CENTRE_BIAS = 'vision_model.post_layernorm.bias';

/** Mean pooler_output [H] (post_layernorm of the CLS token) over every reference crop of a prepared data dir. */
export async function meanPooled(modelDir: string, dataDir: string, opts: { quiet?: boolean } = {}): Promise<{ mean: Float64Array; crops: number }> {
  const db = openDataDb(dataDir);
  let paths: string[];
  try {
    paths = db.referenceCrops().map((c) => c.path);
  } finally {
    db.close();
  }
  if (paths.length === 0) throw new LogolabError(`${dataDir}: no reference crops to centre on`);
  const model = await loadVisionModel(modelDir, { quiet: true });
  const progress = new Progress({ label: 'centre', total: paths.length, unit: 'crop', quiet: opts.quiet });
  const { height: h, width: w } = model.processor.outputSize;
  const per = 3 * h * w;
  let mean: Float64Array | null = null;
  try {
    for (let s = 0; s < paths.length; s += 256) {
      const imgs = await Promise.all(paths.slice(s, s + 256).map((p) => decodeImage(p)));
      const pixels = new Float32Array(imgs.length * per);
      imgs.forEach((im, i) => pixels.set(namingErrors(paths[s + i], () => model.processor.process(im)), i * per));
      const { data, shape } = (await embedPixels(model, pixels, [imgs.length, 3, h, w], { batchSize: 64 })).pooler_output; // [N, H]
      const d = shape[1]!;
      mean ??= new Float64Array(d);
      for (let i = 0; i < imgs.length; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[i * d + j]!;
      progress.tick(imgs.length);
    }
  } finally {
    model.dispose();
  }
  progress.finish(`${paths.length} crops`);
  return { mean: mean!.map((v) => v / paths.length), crops: paths.length };
}

/**
 * Writes `out`: the HF folder `src` (stored as float32) with the mean pooler_output over `dataDir`'s
 * crops subtracted from post_layernorm's bias; export_metadata.json records it under `centring`. `out` must not exist.
 */
export async function centreModelFolder(src: string, dataDir: string, out: string, opts: { quiet?: boolean } = {}): Promise<{ meanNorm: number; crops: number }> {
  src = resolve(src);
  out = resolve(out);
  if (existsSync(out)) throw new LogolabError(`${out} exists: name a new folder`);
  const tensors = readSafetensors(join(src, 'model.safetensors'));
  const beta = tensors.get(CENTRE_BIAS);
  if (!beta || !(beta.data instanceof Float32Array)) throw new LogolabError(`${src}/model.safetensors: centring needs '${CENTRE_BIAS}' (an HF CLIP vision folder)`);
  const { mean, crops } = await meanPooled(src, dataDir, opts);
  if (mean.length !== beta.data.length) throw new LogolabError(`${src}: pooler_output has ${mean.length} values but '${CENTRE_BIAS}' ${beta.data.length}`);
  const centred = Float32Array.from(beta.data, (v, k) => v - mean[k]!);
  const meanNorm = Math.hypot(...mean);
  await withAtomicDir(out, (tmp) => {
    for (const f of readdirSync(src)) if (f !== 'model.safetensors' && f !== 'export_metadata.json' && !f.startsWith('.')) copyFileSync(join(src, f), join(tmp, f));
    const write = new Map<string, WriteTensor>();
    for (const [k, t] of tensors) {
      // integer buffers (position_ids) keep their stored width; floats are written as float32
      write.set(k, { shape: t.shape, data: k === CENTRE_BIAS ? centred : t.data, dtype: rewriteDtype(t) });
    }
    writeSafetensors(join(tmp, 'model.safetensors'), write);
    const metaPath = join(src, 'export_metadata.json');
    const meta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>) : {};
    meta.centring = { data: dataDir, crops, mean_pooler_output_norm: +meanNorm.toFixed(6), subtracted_from: CENTRE_BIAS };
    writeFileSync(join(tmp, 'export_metadata.json'), JSON.stringify(meta, null, 2) + '\n'); // tmp is renamed as a whole
  });
  return { meanNorm, crops };
}
