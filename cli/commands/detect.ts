/** `logolab detect`: DETR logo regions for images → boxes.json (and optional drawings). */
import type { CommandModule } from 'yargs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { readdirUtf8 } from '../../src/io/utf8-names.js';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import { numberOption } from '../options.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic.js';
import { checkOutputDir, isWithin, OUTPUT_MARKER, replaceOutputDir, type OutputGuard } from '../../src/io/output-dir.js';
import { assertOutputFile, type InputFile } from '../../src/io/file-kind.js';
import { isModelFolderFile } from '../../src/models/format.js';
import { detectorFolder } from '../../src/detect/load.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { loadDetector, DETR_DETECTOR_DEFAULTS, DETR_RANGES } from '../../src/detect/detector.js';
import { drawDetections } from '../../src/detect/visualize.js';
import { Progress } from '../../src/util/progress.js';
import { log } from '../../src/util/log.js';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.tif', '.tiff', '.avif']);

/** Files as given; folders expanded to their image files (sorted, not recursive). */
export function expandImagePaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new LogolabError(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) {
      // (a name that is not valid UTF-8 is refused: Node's listing would name no file)
      const isImage = (f: string) => IMAGE_EXT.has(extname(f).toLowerCase());
      out.push(...readdirUtf8(p, isImage).filter(isImage).sort().map((f) => join(p, f)));
    } else out.push(p);
  }
  if (!out.length) throw new LogolabError('no images given (files or folders of images)');
  return out;
}

/**
 * Drawing file names: the image's stem (.png), made unique by the input index when another input
 * already took it (photos/a.jpg and scans/a.jpg, a.jpg and a.png), so no drawing replaces another.
 */
export function drawingNames(files: readonly string[]): string[] {
  const taken = new Set<string>();
  return files.map((f, i) => {
    const stem = basename(f, extname(f));
    let name = `${stem}.png`;
    // case-folded: a.png and A.png are one file on case-insensitive filesystems
    for (let k = 0; taken.has(name.toLowerCase()); k++) name = `${stem}.${i}${k ? `.${k}` : ''}.png`;
    taken.add(name.toLowerCase());
    return name;
  });
}

export const command: CommandModule = {
  command: 'detect <images..>',
  describe: 'find logo regions with a DETR detector; write boxes JSON (and drawings)',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'image files or folders' })
      .option('detector', { type: 'string', demandOption: true, describe: 'DETR folder (HF or converted) or HF repo id, detr:<dir|repo id>, or detr-r50 (random weights, for timing)' })
      .option('out', { type: 'string', describe: 'boxes JSON file (default: stdout)' })
      .option('threshold', numberOption('threshold', { default: DETR_DETECTOR_DEFAULTS.threshold, ...DETR_RANGES.threshold, describe: 'score threshold (kept if score > threshold)' }))
      .option('min-box-size', numberOption('min-box-size', { default: DETR_DETECTOR_DEFAULTS.minBoxSize, ...DETR_RANGES.minBoxSize, describe: 'drop boxes narrower or lower than this (px; 0 = off)' }))
      .option('nms-iou', numberOption('nms-iou', { default: DETR_DETECTOR_DEFAULTS.nmsIouThreshold, ...DETR_RANGES.nmsIouThreshold, describe: 'NMS IoU threshold (1 = off)' }))
      .option('nms-per-class', { type: 'boolean', default: false, describe: 'NMS within each label only' })
      .option('integer-boxes', { type: 'boolean', default: false, describe: 'truncate boxes to integers as the HF pipeline (the reference) does' })
      .option('batch-size', numberOption('batch-size', { default: 1, int: true, min: 1, describe: 'images per forward pass (padded to a common size)' }))
      .option('visualize', { type: 'string', describe: 'folder for copies of the images with boxes and labels drawn (PNG); replaced as a whole' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace a non-empty --visualize folder that is not an earlier one (never one holding an input image)' }),
  handler: async (argv) => {
    const files = expandImagePaths((argv.images as string[]).map((p) => resolve(p)));
    const vis = argv.visualize ? resolve(argv.visualize as string) : null;
    // one path for the JSON file and the drawings' folder failed only at the end, after every image
    if (vis && argv.out !== undefined && resolve(argv.out as string) === vis) throw new UsageError(`--out ${String(argv.out)} and --visualize ${String(argv.visualize)}: one path for the boxes JSON file and the drawings' folder; give the file another path (e.g. ${join(String(argv.visualize), 'boxes.json')})`);
    // the run reads the images and the detector's weights and configs: no output may replace them
    const detDir = detectorFolder(argv.detector as string);
    const inputs: InputFile[] = [...files.map((f) => ({ path: f, what: 'input image' })), ...(detDir ? [{ path: detDir, what: '--detector folder', folder: true, reads: isModelFolderFile }] : [])];
    // the drawings' folder is replaced as a whole: checked before any work, and never one holding an input
    const guard: OutputGuard = { command: 'detect', flag: '--visualize', overwrite: argv.overwrite as boolean, protect: inputs.map(({ path, what }) => ({ path, what })) };
    if (vis) checkOutputDir(vis, guard);
    if (argv.out !== undefined) assertOutputFile(argv.out as string, '--out', inputs);
    const names = drawingNames(files);
    // --out inside --visualize is written into the new folder before it replaces the old one, so
    // the folder's marker lists it as detect's own (written after, the next run refused the folder
    // as holding a file detect did not write)
    const outIn = vis && argv.out && isWithin(resolve(argv.out as string), vis) ? relative(vis, resolve(argv.out as string)) : null;
    const taken = outIn ? [...names, OUTPUT_MARKER].find((n) => n.toLowerCase() === outIn.toLowerCase()) : undefined;
    if (taken) throw new UsageError(`--out ${String(argv.out)}: is ${taken === OUTPUT_MARKER ? "the --visualize folder's marker file" : `the drawing of ${files[names.indexOf(taken)]}`} in --visualize ${String(argv.visualize)}; give the boxes JSON file another name`);
    await initBackend(argv.backend as string | undefined, { workload: 'detector' });
    const detector = loadDetector(argv.detector as string, {
      threshold: argv.threshold as number,
      minBoxSize: argv['min-box-size'] as number,
      nmsIouThreshold: argv['nms-iou'] as number,
      nmsPerClass: argv['nms-per-class'] as boolean,
      batchSize: argv['batch-size'] as number,
      integerBoxes: argv['integer-boxes'] as boolean,
    });
    const progress = new Progress({ label: 'detect', total: files.length, unit: 'img' });
    const images: unknown[] = [];
    const result = () => ({
      detector: detector.name,
      threshold: detector.opts.threshold,
      min_box_size: detector.opts.minBoxSize,
      nms_iou_threshold: detector.opts.nmsIouThreshold,
      nms_per_class: detector.opts.nmsPerClass,
      box_format: 'xyxy pixels (original image)',
      images,
    });
    // drawings go to a temp folder that replaces --visualize once every image is done
    const run = async (drawDir: string | null) => {
      const bs = detector.opts.batchSize;
      for (let i = 0; i < files.length; i += bs) {
        const chunk = files.slice(i, i + bs);
        // decodeImage gives each failure its own file's reason, however many decode at once
        const imgs = await Promise.all(chunk.map((f) => decodeImage(f)));
        const res = await detector.detect(imgs, { names: chunk });
        for (let j = 0; j < chunk.length; j++) {
          const r = res[j]!;
          images.push({
            file: chunk[j],
            width: imgs[j]!.width,
            height: imgs[j]!.height,
            detections: r.boxes.map((b, k) => ({ box: b.map((v) => Math.round(v * 100) / 100), score: r.scores[k], label: r.labels[k], label_name: r.labelNames[k] })),
            ...(drawDir ? { drawing: names[i + j] } : {}),
          });
          if (drawDir) writeFileAtomic(join(drawDir, names[i + j]!), await drawDetections(imgs[j]!, r));
        }
        progress.tick(chunk.length);
      }
      if (drawDir && outIn) writeJsonAtomic(join(drawDir, outIn), result());
    };
    try {
      if (vis) await replaceOutputDir(vis, guard, run);
      else await run(null);
    } finally {
      detector.dispose();
    }
    if (argv.out) {
      if (!outIn) writeJsonAtomic(resolve(argv.out as string), result());
      log('info', `wrote ${argv.out} (${images.length} images)${vis ? `, drawings in ${vis}` : ''}`);
    } else process.stdout.write(JSON.stringify(result(), null, 2) + '\n');
  },
};
