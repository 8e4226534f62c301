/** `logolab detect`: DETR logo regions for images → boxes.json (and optional drawings). */
import type { CommandModule } from 'yargs';
import { basename, extname, join, resolve } from 'node:path';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError } from '../../src/errors.js';
import { numberOption } from '../options.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { loadDetector, DETR_DETECTOR_DEFAULTS } from '../../src/detect/detector.js';
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
      out.push(...readdirSync(p).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort().map((f) => join(p, f)));
    } else out.push(p);
  }
  if (!out.length) throw new LogolabError('no images given (files or folders of images)');
  return out;
}

export const command: CommandModule = {
  command: 'detect <images..>',
  describe: 'find logo regions with a DETR detector; write boxes JSON (and drawings)',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'image files or folders' })
      .option('detector', { type: 'string', demandOption: true, describe: 'DETR folder (HF or converted) or HF repo id, detr:<dir|repo id>, or detr-r50 (random weights, for timing)' })
      .option('out', { type: 'string', describe: 'boxes JSON file (default: stdout)' })
      .option('threshold', numberOption('threshold', { default: DETR_DETECTOR_DEFAULTS.threshold, min: 0, max: 1, describe: 'score threshold (kept if score > threshold)' }))
      .option('min-box-size', numberOption('min-box-size', { default: DETR_DETECTOR_DEFAULTS.minBoxSize, min: 0, describe: 'drop boxes narrower or lower than this (px; 0 = off)' }))
      .option('nms-iou', numberOption('nms-iou', { default: DETR_DETECTOR_DEFAULTS.nmsIouThreshold, min: 0, max: 1, describe: 'NMS IoU threshold (1 = off)' }))
      .option('nms-per-class', { type: 'boolean', default: false, describe: 'NMS within each label only' })
      .option('integer-boxes', { type: 'boolean', default: false, describe: 'truncate boxes to integers as the HF pipeline (the reference) does' })
      .option('batch-size', numberOption('batch-size', { default: 1, int: true, min: 1, describe: 'images per forward pass (padded to a common size)' }))
      .option('visualize', { type: 'string', describe: 'folder for copies of the images with boxes and labels drawn (PNG)' }),
  handler: async (argv) => {
    await initBackend(argv.backend as string | undefined, { workload: 'detector' });
    const files = expandImagePaths((argv.images as string[]).map((p) => resolve(p)));
    const detector = loadDetector(argv.detector as string, {
      threshold: argv.threshold as number,
      minBoxSize: argv['min-box-size'] as number,
      nmsIouThreshold: argv['nms-iou'] as number,
      nmsPerClass: argv['nms-per-class'] as boolean,
      batchSize: argv['batch-size'] as number,
      integerBoxes: argv['integer-boxes'] as boolean,
    });
    const vis = argv.visualize ? resolve(argv.visualize as string) : null;
    if (vis) mkdirSync(vis, { recursive: true });
    const progress = new Progress({ label: 'detect', total: files.length, unit: 'img' });
    const images: unknown[] = [];
    try {
      const bs = detector.opts.batchSize;
      for (let i = 0; i < files.length; i += bs) {
        const chunk = files.slice(i, i + bs);
        const imgs = await Promise.all(chunk.map((f) => decodeImage(f)));
        const res = await detector.detect(imgs);
        for (let j = 0; j < chunk.length; j++) {
          const r = res[j]!;
          images.push({
            file: chunk[j],
            width: imgs[j]!.width,
            height: imgs[j]!.height,
            detections: r.boxes.map((b, k) => ({ box: b.map((v) => Math.round(v * 100) / 100), score: r.scores[k], label: r.labels[k], label_name: r.labelNames[k] })),
          });
          if (vis) {
            const name = `${basename(chunk[j]!, extname(chunk[j]!))}.png`;
            writeFileAtomic(join(vis, name), await drawDetections(imgs[j]!, r));
          }
        }
        progress.tick(chunk.length);
      }
    } finally {
      detector.dispose();
    }
    const result = {
      detector: detector.name,
      threshold: detector.opts.threshold,
      min_box_size: detector.opts.minBoxSize,
      nms_iou_threshold: detector.opts.nmsIouThreshold,
      nms_per_class: detector.opts.nmsPerClass,
      box_format: 'xyxy pixels (original image)',
      images,
    };
    if (argv.out) {
      writeJsonAtomic(resolve(argv.out as string), result);
      log('info', `wrote ${argv.out} (${images.length} images)${vis ? `, drawings in ${vis}` : ''}`);
    } else process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  },
};
