/**
 * Benchmark (not a test): worker scaling of the training input pipeline, side by side in one run.
 * Runs `logolab bench loader` (cli/commands/bench/loader.ts) for each worker count in turn,
 * round-robin for --reps rounds (so a shared machine's load changes hit every count alike), and
 * prints the median images/s per count, its ratio to the first count, and the load average.
 * Without --data it synthesizes and prepares a small set first (not timed).
 *
 *   npx tsx scripts/bench-loader.ts [--data <prepared dir>] [--workers 0,1,2] [--reps 3] [--seconds 10]
 *     [--augmentation medium] [--image-size 224] [--json out.json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/writer.js';
import { prepareDataset } from '../src/data/prepare.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import type { AugmentStrength } from '../src/preprocess/augment.js';
import { benchLoader, type LoaderBenchResult } from '../cli/commands/bench/loader.js';

const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : d;
};
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)]!;

let root: string | null = null;
let data = arg('data', '');
try {
  if (!data) {
    root = mkdtempSync(join(tmpdir(), 'logolab-bench-loader-'));
    await synthesize({ out: join(root, 'ds'), brands: 16, seed: 1, imagesPerBrand: 12, quiet: true });
    await prepareDataset({ dataset: join(root, 'ds'), out: join(root, 'data'), quiet: true });
    data = join(root, 'data');
  }
  const counts = arg('workers', '1,2').split(',').map(Number);
  const reps = Number(arg('reps', '3'));
  const load0 = loadavg();
  const runs: LoaderBenchResult[] = [];
  for (let r = 0; r < reps; r++) {
    for (const workers of counts) {
      const res = await benchLoader({ data, workers, imageSize: Number(arg('image-size', '224')), augmentation: arg('augmentation', 'medium') as AugmentStrength, seconds: Number(arg('seconds', '10')) });
      process.stderr.write(`round ${r + 1}/${reps}, ${workers} workers: ${res.images_per_s} images/s, ${res.images_per_cpu_s} images per CPU-s (load ${res.loadavg.join(' ')})\n`);
      runs.push(res);
    }
  }
  const of = (w: number) => runs.filter((x) => x.workers === w);
  const rows = counts.map((w) => ({ workers: w, images_per_s: median(of(w).map((x) => x.images_per_s)), images_per_cpu_s: median(of(w).map((x) => x.images_per_cpu_s)), runs: of(w).map((x) => x.images_per_s) }));
  const base = rows[0]!.images_per_s;
  const summary = { load_average_before: load0.map((v) => +v.toFixed(2)), load_average_after: loadavg().map((v) => +v.toFixed(2)), cores: runs[0]!.cores, rows: rows.map((r) => ({ ...r, ratio: +(r.images_per_s / base).toFixed(2) })) };
  console.log(`| workers | images/s (median of ${reps}) | ratio to ${counts[0]} | images per CPU-s | runs (images/s) |\n|---|---|---|---|---|`);
  for (const r of summary.rows) console.log(`| ${r.workers} | ${r.images_per_s.toFixed(1)} | ${r.ratio.toFixed(2)}× | ${r.images_per_cpu_s.toFixed(1)} | ${r.runs.join(', ')} |`);
  console.log(`load average ${summary.load_average_before.join(' ')} → ${summary.load_average_after.join(' ')} on ${summary.cores} cores`);
  if (process.argv.includes('--json')) writeJsonAtomic(arg('json', 'bench-loader.json'), { ...summary, runs });
} finally {
  if (root) rmSync(root, { recursive: true, force: true });
}
