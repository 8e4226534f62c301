/**
 * Benchmark (not a test): images/s of the training input path on this machine, one process:
 *   decode (JPEG ~500×400, sharp) → augment (medium) → processor (CLIP 224: resize, crop, normalise).
 * Each stage is timed alone, then the whole chain sequentially (also with the augment working on
 * the image pre-shrunk to the processor's short side), and with N decodes in flight
 * (sharp decodes on libuv's thread pool, so decode can overlap the JS work).
 *
 *   npx tsx scripts/bench-augment.ts [--seconds 2] [--strength medium] [--concurrency 2]
 */
import sharp from 'sharp';
import { decodeImage, type RgbImage } from '../src/preprocess/image.js';
import { augmentImage, type AugmentStrength } from '../src/preprocess/augment.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig, workingShortSide } from '../src/preprocess/processors.js';
import { makeRng } from '../src/util/rng.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SECONDS = Number(arg('seconds', '2'));
const STRENGTH = arg('strength', 'medium') as AugmentStrength;
const CONC = Number(arg('concurrency', '2'));

/** A photo-like 500×400 JPEG: smooth gradients, shapes and mild noise (so JPEG has work to do). */
async function makeJpeg(seed: number): Promise<Buffer> {
  const w = 500;
  const h = 400;
  const rng = makeRng(seed);
  const d = new Uint8Array(w * h * 3);
  const cx = rng.uniform(100, 400);
  const cy = rng.uniform(100, 300);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < 80 ** 2;
      const n = rng.int(24);
      const o = (y * w + x) * 3;
      d[o] = inside ? 200 + (n >> 1) : (x * 255) / w + n;
      d[o + 1] = inside ? 40 + n : (y * 255) / h;
      d[o + 2] = inside ? 60 : 128 + n;
    }
  }
  return sharp(d, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

interface Row { label: string; rate: number; ms: number; cpuMs: number }

/** CPU time of the whole process (all threads, so sharp's thread pool counts too), in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timeIt(label: string, fn: (i: number) => unknown | Promise<unknown>): Promise<Row> {
  for (let i = 0; i < 5; i++) await fn(i); // warm-up (JIT)
  const t0 = performance.now();
  const c0 = cpuMs();
  let n = 0;
  while (performance.now() - t0 < SECONDS * 1000) await fn(n++);
  const dt = (performance.now() - t0) / 1000;
  return { label, rate: n / dt, ms: (dt * 1000) / n, cpuMs: (cpuMs() - c0) / n };
}

const jpegs = await Promise.all([0, 1, 2, 3].map(makeJpeg));
const decoded: RgbImage[] = await Promise.all(jpegs.map((j) => decodeImage(j)));
const proc = imageProcessorFromConfig(defaultPreprocessorConfig('clip'));
const rng = makeRng(1);
const augmented = decoded.map((im) => augmentImage(im, STRENGTH, rng));

const rows: Row[] = [];
rows.push(await timeIt('decode (sharp, JPEG 500x400)', (i) => decodeImage(jpegs[i % 4]!)));
rows.push(await timeIt(`augment ${STRENGTH} (500x400)`, (i) => augmentImage(decoded[i % 4]!, STRENGTH, rng)));
rows.push(await timeIt('processor CLIP 224 (resize+crop+norm)', (i) => proc.process(augmented[i % 4]!)));
rows.push(await timeIt(`decode+augment+process, sequential`, async (i) => proc.process(augmentImage(await decodeImage(jpegs[i % 4]!), STRENGTH, rng))));
const side = workingShortSide(proc);
rows.push(await timeIt(`same, pre-shrunk to short side ${side} (workingShortSide)`, async (i) =>
  proc.process(augmentImage(await decodeImage(jpegs[i % 4]!), STRENGTH, rng, { workingShortSide: side }))));
// N decodes in flight: the JS stages of one image overlap the thread-pool decode of the next.
{
  for (let i = 0; i < 3; i++) proc.process(augmentImage(await decodeImage(jpegs[i % 4]!), STRENGTH, rng, { workingShortSide: side }));
  const t0 = performance.now();
  const c0 = cpuMs();
  let n = 0;
  let next = 0;
  const worker = async () => {
    while (performance.now() - t0 < SECONDS * 1000) {
      const img = await decodeImage(jpegs[next++ % 4]!);
      proc.process(augmentImage(img, STRENGTH, rng, { workingShortSide: side }));
      n++;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  const dt = (performance.now() - t0) / 1000;
  rows.push({ label: `same, pre-shrunk, ${CONC} decodes in flight`, rate: n / dt, ms: (dt * 1000) / n, cpuMs: (cpuMs() - c0) / n });
}

const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(`\nbench-augment: node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${SECONDS}s per row, strength ${STRENGTH}, load average ${load}`);
console.log('(cpu ms = process CPU time per image, sharp threads included. On a busy machine the wall rate understates;');
console.log(' 1000 / cpu ms estimates the rate of one idle core.)');
console.log(`| stage | images/s (wall) | ms/image (wall) | cpu ms/image | est. images/s, idle core |\n| --- | ---: | ---: | ---: | ---: |`);
for (const r of rows) console.log(`| ${r.label} | ${r.rate.toFixed(1)} | ${r.ms.toFixed(2)} | ${r.cpuMs.toFixed(2)} | ${(1000 / r.cpuMs).toFixed(0)} |`);
