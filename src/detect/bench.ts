/**
 * Detector throughput: images/s of the whole detect() path (preprocess → forward → post-process) on
 * synthetic images of a given size, after a warm-up (wasm compiles/pack weights on first use).
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../errors.js';
import { makeRng } from '../util/rng.js';
import { Progress } from '../util/progress.js';
import type { RgbImage } from '../preprocess/image.js';
import { loadDetector, type DetrDetector } from './detector.js';
import { backboneForward, transformerForward } from './model.js';
import { featureMask } from './position.js';
import { profileKernels, type KernelProfile } from '../backend/kernel-profile.js';

export interface BenchDetectOptions {
  detector: string; // <dir> | detr:<dir> | detr-r50
  /** shortest edge the images are resized to (longest edge capped at 1333/800 × this) */
  size: number;
  /** input image width × height before resizing (default 4:3 at `size`) */
  imageWidth?: number;
  imageHeight?: number;
  images: number;
  warmup: number;
  batchSize: number;
  seed?: number;
  /** time preprocess / backbone / transformer+heads on one extra image */
  breakdown?: boolean;
  /** per-kernel times of the timed images (tf.profile; adds little overhead on cpu/wasm) */
  profile?: boolean;
}

export interface BenchDetectResult {
  detector: string;
  backend: string;
  input_hw: [number, number];
  batch_size: number;
  images: number;
  warmup: number;
  seconds: number;
  images_per_s: number;
  ms_per_image: number;
  /** process CPU time (all threads) per timed image: less sensitive than wall time to other load on a shared machine */
  cpu_s_per_image: number;
  peak_tensors: number;
  load_s: number;
  breakdown_ms?: { preprocess: number; backbone: number; transformer: number };
  kernel_profile?: KernelProfile;
}

function noiseImage(w: number, h: number, seed: number): RgbImage {
  const rng = makeRng(seed);
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { width: w, height: h, data };
}

export async function benchDetect(o: BenchDetectOptions): Promise<BenchDetectResult> {
  if (!(o.images >= 1) || !(o.warmup >= 0) || !(o.size >= 32)) throw new LogolabError('bench detect: --images ≥ 1, --warmup ≥ 0 and --size ≥ 32 required');
  // the checkpoint's processor, with the shortest edge set to `size` (longest scaled alike)
  const size = { shortest_edge: o.size, longest_edge: Math.round((o.size * 1333) / 800) };
  const tl = performance.now();
  const det = loadDetector(o.detector, { threshold: 0.5, batchSize: o.batchSize, seed: o.seed ?? 0, processor: { size } });
  const loadS = (performance.now() - tl) / 1000;
  try {
    const w = o.imageWidth ?? Math.round((o.size * 4) / 3);
    const h = o.imageHeight ?? o.size;
    const img = noiseImage(w, h, o.seed ?? 0);
    const [ih, iw] = det.processor.outputSize(h, w);
    for (let i = 0; i < o.warmup; i++) await det.detect([img]);
    const prog = new Progress({ label: 'bench detect', total: o.images, unit: 'img' });
    let peak = 0;
    const timed = async () => {
      for (let done = 0; done < o.images; done += o.batchSize) {
        const n = Math.min(o.batchSize, o.images - done);
        await det.detect(Array.from({ length: n }, () => img));
        peak = Math.max(peak, tf.memory().numTensors);
        prog.tick(n);
      }
    };
    const t0 = performance.now(), c0 = process.cpuUsage();
    const profile = o.profile ? (await profileKernels(timed)).profile : (await timed(), undefined);
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const breakdown = o.breakdown ? await timeStages(det, img) : undefined;
    return { detector: det.name, backend: tf.getBackend(), input_hw: [ih, iw], batch_size: o.batchSize, images: o.images, warmup: o.warmup, seconds: Math.round(sec * 1000) / 1000, images_per_s: o.images / sec, ms_per_image: (sec * 1000) / o.images, cpu_s_per_image: Math.round((cpu.user + cpu.system) / 1e3 / o.images) / 1e3, peak_tensors: peak, load_s: Math.round(loadS * 100) / 100, ...(breakdown ? { breakdown_ms: breakdown } : {}), ...(profile ? { kernel_profile: profile } : {}) };
  } finally {
    det.dispose();
  }
}

/** One image through the stages separately (each awaited, so the times do not overlap). */
async function timeStages(det: DetrDetector, img: RgbImage): Promise<{ preprocess: number; backbone: number; transformer: number }> {
  const r = (v: number) => Math.round(v * 10) / 10;
  let t = performance.now();
  const b = det.processor.processBatch([img]);
  const preprocess = performance.now() - t;
  t = performance.now();
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(b.pixelValues, [1, 3, b.height, b.width]), [0, 2, 3, 1]) as tf.Tensor4D);
  const feat = backboneForward(det.model.weights, x);
  x.dispose();
  await feat.data();
  const backbone = performance.now() - t;
  t = performance.now();
  const [, fh, fw] = feat.shape;
  const out = transformerForward(det.model.config, det.model.weights, feat, featureMask(b.pixelMask, 1, b.height, b.width, fh, fw));
  await out.logits.data();
  await out.predBoxes.data();
  const transformer = performance.now() - t;
  tf.dispose([feat, out.logits, out.predBoxes, out.lastHiddenState]);
  return { preprocess: r(preprocess), backbone: r(backbone), transformer: r(transformer) };
}
