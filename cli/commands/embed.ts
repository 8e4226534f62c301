/**
 * `logolab embed --model <dir> --pixels in.safetensors --out out.safetensors`
 *     pixel_values [N,3,H,W] → image_embeds (not normalised), pooler_output, last_hidden_state (HF names)
 * `logolab embed --model <dir> <images or folders>... --out file.jsonl|file.safetensors [--batch-size N] [--normalize]`
 *     one record per image: jsonl {"path", "model_fingerprint", "normalized", "embedding"} per line;
 *     safetensors `embeddings` [N, D] + metadata `paths`, `normalized`, `model_fingerprint`.
 * --model: an HF checkpoint folder or a converted one. Output is written atomically at the end: on
 * any error there is no (partial) output file. An existing --out is replaced only when it is a
 * logolab embeddings file (src/embed/output.ts) or with --overwrite, and never when it is an input.
 */
import type { CommandModule } from 'yargs';
import { existsSync, statSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import { numberOption } from '../options.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { withAtomicFile } from '../../src/io/atomic.js';
import { assertOutputFile, type InputFile } from '../../src/io/file-kind.js';
import { embeddingsOutput } from '../../src/embed/output.js';
import { firstNonFinite, nonFiniteName } from '../../src/util/finite.js';
import { checkPixelShape, embedImages, embedPixels, DEFAULT_BATCH_SIZE } from '../../src/embed/embedder.js';
import { IMAGE_EXTENSIONS, listImages } from '../../src/embed/files.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import { PREPROCESS_MODES, type PreprocessMode } from '../../src/preprocess/processors.js';
import { loadVisionModel, type VisionModel } from '../../src/models/vision/index.js';
import { Progress } from '../../src/util/progress.js';
import { log } from '../../src/util/log.js';
import { exportDataEmbeddings } from '../../src/eval/exchange.js';
import { DETR_RANGES } from '../../src/detect/detector.js';
import { DETR_DEFAULTS, makeProposer } from '../../src/eval/proposals.js';
import { assertCachePath, DEFAULT_DETECTOR, evalInputs, refuseDetrFlags } from './_eval-shared.js';
import { EmbeddingCache } from '../../src/eval/cache.js';
import { defaultCachePath } from '../../src/eval/run.js';
import { visionCropEncoder } from '../../src/eval/vision-encoder.js';
import { parseShardSpec } from '../../src/eval/shard.js';

async function embedPixelsFile(model: VisionModel, pixelsPath: string, out: string, batchSize: number): Promise<void> {
  if (extname(out) !== '.safetensors') throw new LogolabError(`--out ${out}: with --pixels the output must be a .safetensors file`);
  const tensors = readSafetensors(pixelsPath);
  const px = tensors.get('pixel_values');
  if (!px) throw new LogolabError(`${pixelsPath}: missing tensor 'pixel_values'`);
  if (px.dtype !== 'float32') throw new LogolabError(`${pixelsPath}: tensor 'pixel_values' must be a float tensor`);
  const bad = firstNonFinite(px.data);
  if (bad >= 0) throw new LogolabError(`${pixelsPath}: tensor 'pixel_values' holds ${nonFiniteName(px.data[bad]!)} at index ${bad}`);
  const what = `${pixelsPath}: tensor 'pixel_values'`;
  const [n, , h, w] = checkPixelShape(px.shape, what);
  // HF's CLIP/SigLIP refuse other sizes unless interpolate_pos_encoding=True; the towers here always
  // interpolate (as DINOv2 does), so say which HF call these outputs equal
  if (model.family !== 'dinov2' && (h !== model.config.image_size || w !== model.config.image_size))
    log('warn', `${pixelsPath}: pixel_values are ${h}×${w}, the model's image_size is ${model.config.image_size}: position embeddings are interpolated (the outputs equal HF's with interpolate_pos_encoding=True)`);
  const progress = new Progress({ label: 'embed', total: n, unit: 'img' });
  const r = await embedPixels(model, px.data as Float32Array, px.shape, { batchSize, progress, name: what });
  progress.finish();
  const d = r.image_embeds.shape[1]!;
  const badOut = firstNonFinite(r.image_embeds.data);
  if (badOut >= 0) throw new LogolabError(`${pixelsPath}: image ${Math.floor(badOut / d)}: the model produced a non-finite embedding; its weights overflow or are broken`);
  writeSafetensors(out, r, { format: 'pt', model_fingerprint: model.fingerprint() });
}

/** The output format of image files, by --out's extension. */
function jsonlOrSafetensors(out: string): '.jsonl' | '.safetensors' {
  const ext = extname(out);
  if (ext !== '.jsonl' && ext !== '.safetensors') throw new LogolabError(`--out ${out}: must end in .jsonl or .safetensors`);
  return ext;
}

async function embedFiles(model: VisionModel, inputs: string[], out: string, batchSize: number, normalize: boolean, skipBad = false): Promise<void> {
  const ext = jsonlOrSafetensors(out);
  const listed = listImages(inputs);
  const progress = new Progress({ label: 'embed', total: listed.length, unit: 'img' });
  const embeddings: Float32Array[] = [];
  const paths: string[] = [];
  const skipped: string[] = [];
  // decode one batch at a time: memory stays at one batch of images
  for (let i = 0; i < listed.length; i += batchSize) {
    const chunk = listed.slice(i, i + batchSize);
    const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
    // each failure carries the file's own reason (decodeImage re-decodes it alone: vips-errors.ts)
    const decoded = await Promise.all(chunk.map((p) => decodeImage(p).catch(asError)));
    const ok: { path: string; img: RgbImage }[] = [];
    decoded.forEach((d, k) => {
      if (!(d instanceof Error)) return void ok.push({ path: chunk[k]!, img: d });
      if (!skipBad || !(d instanceof LogolabError)) throw d instanceof LogolabError ? new LogolabError(`${d.message} (--skip-bad skips unreadable images)`) : d;
      skipped.push(d.message);
      progress.tick(1);
    });
    paths.push(...ok.map((o) => o.path));
    embeddings.push(...(await embedImages(model, ok.map((o) => o.img), { batchSize, normalize, progress, names: ok.map((o) => o.path) })));
  }
  progress.finish();
  if (skipped.length) log('warn', `skipped ${skipped.length} unreadable image${skipped.length > 1 ? 's' : ''} (--skip-bad):\n  ${skipped.join('\n  ')}`);
  if (!paths.length) throw new LogolabError(`no image could be read (${skipped.length} skipped); nothing written to ${out}`);
  const d = embeddings[0]!.length;
  if (ext === '.safetensors') {
    const all = new Float32Array(paths.length * d);
    embeddings.forEach((e, i) => all.set(e, i * d));
    writeSafetensors(out, { embeddings: { shape: [paths.length, d], data: all } }, { paths: JSON.stringify(paths), normalized: String(normalize), model_fingerprint: model.fingerprint() });
  } else {
    // every record carries the model identity the safetensors output keeps in its metadata: raw
    // image_embeds and --normalize ones look alike, and embeddings of two models cannot be compared
    const fingerprint = model.fingerprint();
    withAtomicFile(out, (fd) => {
      for (let i = 0; i < paths.length; i++) writeSync(fd, JSON.stringify({ path: paths[i], model_fingerprint: fingerprint, normalized: normalize, embedding: Array.from(embeddings[i]!) }) + '\n');
    });
  }
  log('info', `wrote ${paths.length} embeddings (dim ${d}${normalize ? ', L2-normalised' : ''}) to ${out}`);
}

/**
 * The image paths as inputs --out must not replace: a file named is read whatever its extension; a
 * folder is read for its images only (an output kept beside them may be rewritten).
 */
function imageInputs(paths: string[]): InputFile[] {
  const isFolder = (p: string) => existsSync(p) && statSync(p).isDirectory();
  return paths.map((p) => ({ path: p, what: isFolder(p) ? 'input folder' : 'input image', folder: true, reads: (rel: string) => IMAGE_EXTENSIONS.includes(extname(rel).toLowerCase()) }));
}

export const command: CommandModule = {
  command: 'embed [inputs..]',
  describe: 'embed images (files/folders → .jsonl|.safetensors) or a pixel_values tensor (→ HF outputs)',
  builder: (y) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'image files or folders (walked recursively)' })
      .option('model', { type: 'string', demandOption: true, describe: 'HF checkpoint folder, converted logolab folder, or HF repo id (org/name[@rev], local HF cache)' })
      .option('pixels', { type: 'string', describe: 'safetensors file with pixel_values [N,3,H,W] (instead of images)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output .jsonl or .safetensors (written atomically)' })
      .option('batch-size', numberOption('batch-size', { default: DEFAULT_BATCH_SIZE, int: true, min: 1, describe: 'images per forward pass' }))
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise the embeddings (image files only)' })
      .option('skip-bad', { type: 'boolean', default: false, describe: 'skip images that cannot be read (listed at the end) instead of stopping' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace an existing --out that is not an earlier logolab embeddings file (never an input)' })
      // no yargs defaults below: a given option that the mode does not read is a usage error
      .option('preprocess-mode', { type: 'string', choices: PREPROCESS_MODES as unknown as string[], describe: "image files and --data: the model's own (recorded at export), else default" })
      // --adapter: applied by loadVisionModel (a logolab export applies its own adapter/ without it)
      .option('adapter', { type: 'string', describe: 'LoRA adapter folder applied to the model' })
      .option('data', { type: 'string', describe: 'prepared data dir: export every reference crop and test region (ids + boxes) for eval/compare --embeddings' })
      .option('folders', { type: 'boolean', describe: 'with --data: the folder is a Burnley layout (<logo>_reference_images/, test_images/)' })
      .option('detector', { type: 'string', describe: `with --data: region proposals gt-boxes | whole-image | detr:<dir> [default: ${DEFAULT_DETECTOR}]` })
      .option('detr-threshold', numberOption('detr-threshold', { ...DETR_RANGES.threshold, describe: `with --data and a DETR detector: score threshold [default: ${DETR_DEFAULTS.threshold}]` }))
      .option('min-box-size', numberOption('min-box-size', { ...DETR_RANGES.minBoxSize, describe: `with --data and a DETR detector: drop smaller boxes (px) [default: ${DETR_DEFAULTS.minBoxSize}]` }))
      .option('nms-iou', numberOption('nms-iou', { ...DETR_RANGES.nmsIouThreshold, describe: `with --data and a DETR detector: NMS IoU threshold [default: ${DETR_DEFAULTS.nmsIou}]` }))
      .option('cache', { type: 'string', describe: 'with --data: embedding cache file (default $LOGOLAB_CACHE, else <data>/embedding_cache.sqlite; with --shard none unless one of these two names it); --no-cache to skip' })
      .option('shard', { type: 'string', describe: 'with --data: embed shard INDEX/COUNT only (auto/COUNT: INDEX from $JOB_COMPLETION_INDEX, $SLURM_ARRAY_TASK_ID or $LOGOLAB_SHARD_INDEX); join with merge-embeddings' }),
  handler: async (argv) => {
    const inputs = (argv.inputs as string[] | undefined) ?? [];
    const pixels = argv.pixels as string | undefined;
    const given = (f: string) => argv[f] !== undefined;
    // --data: export the embeddings exchange file of a data dir (src/eval/exchange.ts)
    if (argv.data !== undefined) {
      if (pixels || inputs.length) throw new LogolabError('--data exports a data dir; do not also give --pixels or image paths');
      // the exchange file holds raw embeddings (eval/compare normalise them) and has no skipping
      if (argv.normalize) throw new LogolabError('--normalize applies to image files; --data exports raw embeddings (eval and compare normalise them)');
      if (argv['skip-bad']) throw new LogolabError('--skip-bad applies to image files; with --data an unreadable crop or image is an error naming it');
      if (extname(argv.out as string) !== '.safetensors') throw new LogolabError(`--out ${argv.out as string}: with --data the output must be a .safetensors file`);
      const shard = argv.shard !== undefined ? parseShardSpec(String(argv.shard)) : undefined;
      if (shard) log('info', `shard ${shard.index}/${shard.count}${shard.from ? ` (INDEX from ${shard.from})` : ''}`);
      const detector = (argv.detector as string | undefined) ?? DEFAULT_DETECTOR;
      refuseDetrFlags(argv, detector);
      // the data dir, model, adapter and cache it reads, as for eval
      assertOutputFile(argv.out as string, '--out', evalInputs(argv), embeddingsOutput(argv.overwrite as boolean));
      // sharded workers usually share the data volume across hosts, where SQLite's WAL (shared
      // memory of one host) is unsafe: no cache unless one is named (--cache or $LOGOLAB_CACHE);
      // resolved before the model loads, and $LOGOLAB_CACHE is not read with --no-cache
      const data = argv.data as string;
      const cachePath = argv.cache === false ? null : typeof argv.cache === 'string' ? argv.cache : process.env.LOGOLAB_CACHE !== undefined || !shard ? defaultCachePath(data) : null;
      if (cachePath) assertCachePath(argv, cachePath);
      await initBackend(argv.backend as string | undefined, { workload: detector.startsWith('detr:') ? 'detector' : 'encoder' });
      const model = await loadVisionModel(argv.model as string, { adapter: argv.adapter as string | undefined, preprocessMode: argv['preprocess-mode'] as PreprocessMode | undefined });
      const o = { detrThreshold: (argv['detr-threshold'] as number | undefined) ?? DETR_DEFAULTS.threshold, minBoxSize: (argv['min-box-size'] as number | undefined) ?? DETR_DEFAULTS.minBoxSize, nmsIou: (argv['nms-iou'] as number | undefined) ?? DETR_DEFAULTS.nmsIou };
      const proposer = makeProposer(detector, o);
      const cache = cachePath ? EmbeddingCache.open(cachePath) : null;
      try {
        const name = argv.adapter ? `${argv.model as string} + ${argv.adapter as string}` : (argv.model as string);
        const enc = visionCropEncoder(model, { name, batchSize: argv['batch-size'] as number });
        const r = await exportDataEmbeddings(argv.data as string, enc, proposer, argv.out as string, { cache, batchSize: argv['batch-size'] as number, folders: argv.folders === true, shard });
        log('info', `wrote ${r.refs} reference and ${r.regions} region embeddings (dim ${r.dim}, ${proposer.name}${shard ? `, shard ${shard.index}/${shard.count}: ${r.images} images` : ''}) to ${argv.out as string}`);
      } finally {
        cache?.close();
        proposer.dispose?.();
        model.dispose();
      }
      return;
    }
    // the --data export's options; yargs reads --no-cache as cache: false
    for (const f of ['shard', 'detector', 'detr-threshold', 'min-box-size', 'nms-iou', 'folders', 'cache']) {
      if (given(f)) throw new UsageError(`--${f === 'cache' && argv.cache === false ? 'no-cache' : f}: applies to --data exports, not to image files or --pixels`);
    }
    // pixel_values are already preprocessed
    if (pixels && given('preprocess-mode')) throw new UsageError('--preprocess-mode: --pixels reads preprocessed pixel_values; the mode applies to image files and --data');
    if (pixels && inputs.length) throw new LogolabError('give either --pixels or image paths, not both');
    if (!pixels && !inputs.length) throw new LogolabError('give image files/folders or --pixels <file.safetensors>');
    if (pixels && argv.normalize) throw new LogolabError('--normalize applies to image files; --pixels writes HF outputs unnormalised');
    if (pixels && argv['skip-bad']) throw new LogolabError('--skip-bad applies to image files; --pixels reads one tensor');
    // every mode checks --out against all it reads: the model and adapter folders (evalInputs, as
    // --data does; `--out <model>/model.safetensors` replaced the weights), the --pixels file or the images
    // the extension first: an existing notes.txt is refused as the wrong kind of output, not as a file we did not write
    if (!pixels) jsonlOrSafetensors(argv.out as string);
    assertOutputFile(argv.out as string, '--out', [...evalInputs(argv), ...(pixels ? [{ path: pixels, what: '--pixels file' }] : imageInputs(inputs))], embeddingsOutput(argv.overwrite as boolean));
    const batchSize = argv['batch-size'] as number;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new LogolabError(`--batch-size: must be a positive integer, got ${batchSize}`);
    // check inputs before the (slow) model load
    if (!pixels) listImages(inputs);
    await initBackend(argv.backend as string | undefined, { workload: 'encoder' });
    const model = await loadVisionModel(argv.model as string, { adapter: argv.adapter as string | undefined, preprocessMode: argv['preprocess-mode'] as PreprocessMode | undefined });
    try {
      log('info', `model ${argv.model}: ${model.family}, ${model.layers.length} layers, processor ${model.processor.kind} ${model.processor.outputSize.height}×${model.processor.outputSize.width}`);
      if (pixels) await embedPixelsFile(model, pixels, argv.out as string, batchSize);
      else await embedFiles(model, inputs, argv.out as string, batchSize, argv.normalize as boolean, argv['skip-bad'] as boolean);
    } finally {
      model.dispose();
    }
  },
};
