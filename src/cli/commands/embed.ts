/**
 * `logolab embed --model <dir> --pixels in.safetensors --out out.safetensors`
 *     pixel_values [N,3,H,W] → image_embeds (not normalised), pooler_output, last_hidden_state (HF names)
 * `logolab embed --model <dir> <images or folders>... --out file.jsonl|file.safetensors [--batch-size N] [--normalize]`
 *     one record per image: jsonl {"path", "embedding"}; safetensors `embeddings` [N, D] + metadata `paths`.
 * --model: an HF checkpoint folder or a converted one. Output is written atomically at the end: on
 * any error there is no (partial) output file.
 */
import type { CommandModule } from 'yargs';
import { writeSync } from 'node:fs';
import { extname } from 'node:path';
import { initBackend } from '../../backend/index.js';
import { LogolabError } from '../../errors.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import { withAtomicFile } from '../../io/atomic.js';
import { embedImages, embedPixels, DEFAULT_BATCH_SIZE } from '../../embed/embedder.js';
import { listImages } from '../../embed/files.js';
import { decodeImage } from '../../preprocess/image.js';
import { PREPROCESS_MODES, type PreprocessMode } from '../../preprocess/processors.js';
import { loadVisionModel, type VisionModel } from '../../models/vision/index.js';
import { log, Progress } from '../../util/progress.js';
// [H7 evaluation] `embed --data`: export the embeddings exchange file (src/eval/exchange.ts)
import { exportDataEmbeddings } from '../../eval/exchange.js';
import { makeProposer } from '../../eval/proposals.js';
import { EmbeddingCache } from '../../eval/cache.js';
import { defaultCachePath } from '../../eval/run.js';
import { visionCropEncoder } from '../../eval/vision-encoder.js';

async function embedPixelsFile(model: VisionModel, pixelsPath: string, out: string, batchSize: number): Promise<void> {
  if (extname(out) !== '.safetensors') throw new LogolabError(`--out ${out}: with --pixels the output must be a .safetensors file`);
  const tensors = readSafetensors(pixelsPath);
  const px = tensors.get('pixel_values');
  if (!px) throw new LogolabError(`${pixelsPath}: missing tensor 'pixel_values'`);
  if (px.dtype !== 'float32') throw new LogolabError(`${pixelsPath}: tensor 'pixel_values' must be a float tensor`);
  const n = px.shape[0] ?? 0;
  const progress = new Progress({ label: 'embed', total: n, unit: 'img' });
  const r = await embedPixels(model, px.data as Float32Array, px.shape, { batchSize, progress });
  progress.finish();
  writeSafetensors(out, r, { format: 'pt', model_fingerprint: model.fingerprint() });
}

async function embedFiles(model: VisionModel, inputs: string[], out: string, batchSize: number, normalize: boolean): Promise<void> {
  const ext = extname(out);
  if (ext !== '.jsonl' && ext !== '.safetensors') throw new LogolabError(`--out ${out}: must end in .jsonl or .safetensors`);
  const paths = listImages(inputs);
  const progress = new Progress({ label: 'embed', total: paths.length, unit: 'img' });
  const embeddings: Float32Array[] = [];
  // decode one batch at a time: memory stays at one batch of images
  for (let i = 0; i < paths.length; i += batchSize) {
    const imgs = await Promise.all(paths.slice(i, i + batchSize).map((p) => decodeImage(p)));
    embeddings.push(...(await embedImages(model, imgs, { batchSize, normalize, progress })));
  }
  progress.finish();
  const d = embeddings[0]!.length;
  if (ext === '.safetensors') {
    const all = new Float32Array(paths.length * d);
    embeddings.forEach((e, i) => all.set(e, i * d));
    writeSafetensors(out, { embeddings: { shape: [paths.length, d], data: all } }, { paths: JSON.stringify(paths), normalized: String(normalize), model_fingerprint: model.fingerprint() });
  } else {
    withAtomicFile(out, (fd) => {
      for (let i = 0; i < paths.length; i++) writeSync(fd, JSON.stringify({ path: paths[i], embedding: Array.from(embeddings[i]!) }) + '\n');
    });
  }
  log('info', `wrote ${paths.length} embeddings (dim ${d}${normalize ? ', L2-normalised' : ''}) to ${out}`);
}

export const command: CommandModule = {
  command: 'embed [inputs..]',
  describe: 'embed images (files/folders → .jsonl|.safetensors) or a pixel_values tensor (→ HF outputs)',
  builder: (y) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'image files or folders (walked recursively)' })
      .option('model', { type: 'string', demandOption: true, describe: 'HF checkpoint folder or converted logolab folder' })
      .option('pixels', { type: 'string', describe: 'safetensors file with pixel_values [N,3,H,W] (instead of images)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output .jsonl or .safetensors (written atomically)' })
      .option('batch-size', { type: 'number', default: DEFAULT_BATCH_SIZE })
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise the embeddings (image files only)' })
      .option('preprocess-mode', { type: 'string', choices: PREPROCESS_MODES as unknown as string[], default: 'default' })
      // --adapter: applied by loadVisionModel through the loader src/models/lora registers (registerAdapterLoader)
      .option('adapter', { type: 'string', describe: 'LoRA adapter folder applied to the model' })
      // [H7 evaluation] exchange-file export of a prepared data dir
      .option('data', { type: 'string', describe: 'prepared data dir: export every reference crop and test region (ids + boxes) for eval/compare --embeddings' })
      .option('folders', { type: 'boolean', default: false, describe: 'with --data: the folder is a Burnley layout (<logo>_reference_images/, test_images/)' })
      .option('detector', { type: 'string', default: 'gt-boxes', describe: 'with --data: region proposals gt-boxes | whole-image | detr:<dir>' })
      .option('detr-threshold', { type: 'number', default: 0.5 })
      .option('min-box-size', { type: 'number', default: 20 })
      .option('nms-iou', { type: 'number', default: 0.5 })
      .option('cache', { type: 'string', describe: 'with --data: embedding cache file (default <data>/embedding_cache.sqlite); --no-cache to skip' }),
  handler: async (argv) => {
    const inputs = (argv.inputs as string[] | undefined) ?? [];
    const pixels = argv.pixels as string | undefined;
    // [H7 evaluation] --data: the embeddings exchange file
    if (argv.data !== undefined) {
      if (pixels || inputs.length) throw new LogolabError('--data exports a data dir; do not also give --pixels or image paths');
      if (extname(argv.out as string) !== '.safetensors') throw new LogolabError(`--out ${argv.out as string}: with --data the output must be a .safetensors file`);
      await initBackend(argv.backend as string | undefined, { workload: String(argv.detector).startsWith('detr:') ? 'detector' : 'encoder' });
      const mode = argv['preprocess-mode'] as PreprocessMode;
      const model = await loadVisionModel(argv.model as string, { adapter: argv.adapter as string | undefined, preprocessMode: mode });
      const o = { detrThreshold: argv['detr-threshold'] as number, minBoxSize: argv['min-box-size'] as number, nmsIou: argv['nms-iou'] as number };
      const proposer = makeProposer(argv.detector as string, o);
      const cachePath = argv.cache === false ? null : typeof argv.cache === 'string' ? argv.cache : defaultCachePath(argv.data as string);
      const cache = cachePath ? EmbeddingCache.open(cachePath) : null;
      try {
        const name = argv.adapter ? `${argv.model as string} + ${argv.adapter as string}` : (argv.model as string);
        const enc = visionCropEncoder(model, { name, preprocessMode: mode, batchSize: argv['batch-size'] as number });
        const r = await exportDataEmbeddings(argv.data as string, enc, proposer, argv.out as string, { cache, batchSize: argv['batch-size'] as number, folders: argv.folders as boolean });
        log('info', `wrote ${r.refs} reference and ${r.regions} region embeddings (dim ${r.dim}, ${proposer.name}) to ${argv.out as string}`);
      } finally {
        cache?.close();
        proposer.dispose?.();
        model.dispose();
      }
      return;
    }
    if (pixels && inputs.length) throw new LogolabError('give either --pixels or image paths, not both');
    if (!pixels && !inputs.length) throw new LogolabError('give image files/folders or --pixels <file.safetensors>');
    if (pixels && argv.normalize) throw new LogolabError('--normalize applies to image files; --pixels writes HF outputs unnormalised');
    const batchSize = argv['batch-size'] as number;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new LogolabError(`--batch-size: must be a positive integer, got ${batchSize}`);
    // check inputs before the (slow) model load
    if (!pixels) listImages(inputs);
    await initBackend(argv.backend as string | undefined, { workload: 'encoder' });
    const model = await loadVisionModel(argv.model as string, { adapter: argv.adapter as string | undefined, preprocessMode: argv['preprocess-mode'] as PreprocessMode });
    try {
      log('info', `model ${argv.model}: ${model.family}, ${model.layers.length} layers, processor ${model.processor.kind} ${model.processor.outputSize.height}×${model.processor.outputSize.width}`);
      if (pixels) await embedPixelsFile(model, pixels, argv.out as string, batchSize);
      else await embedFiles(model, inputs, argv.out as string, batchSize, argv.normalize as boolean);
    } finally {
      model.dispose();
    }
  },
};
