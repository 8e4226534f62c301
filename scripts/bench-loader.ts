/**
 * Benchmark (not a test): training input throughput of training/data/loader.ts on this machine —
 * P×K batches of prepared reference crops: decode (sharp) → augment (medium by default) →
 * CLIP processor (resize shortest edge 224, centre crop, normalise) → [B,3,224,224].
 * Builds a small synth dataset and prepares it first (not timed).
 *
 *   npx tsx scripts/bench-loader.ts [--batches 6] [--p 8] [--k 4] [--strength medium] [--concurrency 4] [--prefetch 2] [--workers 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/writer.js';
import { prepareDataset } from '../src/data/prepare.js';
import { openDataDb } from '../src/data/db.js';
import { splitData } from '../src/data/splits.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig } from '../src/preprocess/processors.js';
import type { AugmentStrength } from '../src/preprocess/augment.js';
import { PxKSampler } from '../training/data/sampler.js';
import { BatchLoader } from '../training/data/loader.js';

const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : d;
};
const root = mkdtempSync(join(tmpdir(), 'logolab-bench-loader-'));
try {
  await synthesize({ out: join(root, 'ds'), brands: 12, seed: 1, imagesPerBrand: 6, quiet: true });
  await prepareDataset({ dataset: join(root, 'ds'), out: join(root, 'data'), quiet: true });
  const db = openDataDb(join(root, 'data'));
  const sp = splitData(db.logoToImages(), { level: 'image', train: 1, val: 0, test: 0, seed: 1 });
  db.close();
  const P = Number(arg('p', '8')), K = Number(arg('k', '4')), N = Number(arg('batches', '6'));
  const sampler = new PxKSampler(sp.train, sp.labelOf, { logosPerBatch: P, samplesPerLogo: K, batchesPerEpoch: N, seed: 1 });
  const processor = imageProcessorFromConfig(defaultPreprocessorConfig('clip', 224));
  const W = Number(arg('workers', '2'));
  for (const [conc, workers] of [[1, 0], [Number(arg('concurrency', '4')), 0], [Math.max(4, 2 * W), W]] as const) {
    const loader = new BatchLoader(sampler, { processor, augment: arg('strength', 'medium') as AugmentStrength, seed: 1, concurrency: conc, workers, prefetch: Number(arg('prefetch', '2')) });
    if (workers) await loader.loadBatch(1, 0); // start-up (tsx compile in each worker) not timed
    const t0 = performance.now();
    let imgs = 0;
    for await (const b of loader.epoch(0)) imgs += b.labels.length;
    const s = (performance.now() - t0) / 1000;
    await loader.close();
    console.log(`loader P=${P} K=${K} (B=${P * K}) ${arg('strength', 'medium')} → CLIP 224, concurrency ${conc}, workers ${workers}: ${imgs} images in ${s.toFixed(2)} s = ${(imgs / s).toFixed(1)} images/s`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
