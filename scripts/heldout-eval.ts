/**
 * Held-out check of a baseline encoder on brand set B, with the demo's retrieval measure but on
 * scenes the demo never draws (its own synth seed, and the demo's brands removed):
 *
 *   npx tsx scripts/heldout-eval.ts make [dir]                 build the held-out data (once, ~1 min)
 *   npx tsx scripts/heldout-eval.ts eval <dir> <model|ckpt>…   metrics per model folder or .ckpt
 *   npx tsx scripts/heldout-eval.ts ckpts <dir> <checkpoint dir> <out.jsonl>
 *                                  every epoch_*.ckpt not yet in out.jsonl (appended, with its step;
 *                                  brand level at the top, drawing level under `drawing`)
 *
 * Data: `synth --brand-set B --seed 101`, 64 brands × 30 scenes (128–192 px, the demo's test-half
 * size) minus the brands `logolab demo` can draw (selectBrands(seed 7, 40) of set B: their folders,
 * and their annotations in the other brands' scenes), then `prepare`.
 * Metrics, over `logolab eval`'s sample (sampleTest: --num-logos 40 --refs-per-logo 10, seeds 42–44):
 *   precision@1  self-retrieval over the sampled reference crops, as the demo's table
 *   separation   mean cosine of same-logo crop pairs − mean cosine of different-logo pairs
 * at two levels of what "the same logo" is:
 *   brand    the demo's labels: a brand's icon, its wordmark and their colour styles are one logo.
 *            For brands never seen, pairing an icon with an unrelated wordmark cannot be inferred
 *            from the pixels. That caps separation (only 45–49 % of same-brand pairs in these
 *            samples are one drawing) but hardly precision@1 (98 % of crops have a crop of their
 *            own drawing in the sample).
 *   drawing  one drawing of a brand (sources.ts shapes(): its simple-icons glyph, each iconify icon)
 *            in any colour style and scene: what transfers to new brands. Same scenes, relabelled
 *            from the synth's renditions.json; the sample is 40 drawings × 10 crops.
 * Prints one JSON line per model and level (means over the seeds, and per seed).
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.js';
import { synthesize } from '../src/data/synth/index.js';
import { listBrands, selectBrands, shapes } from '../src/data/synth/sources.js';
import { prepareDataset } from '../src/data/prepare.js';
import { parseVoc, writeVoc } from '../src/data/voc.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { datasetFromDataDir, type DatasetIndex } from '../src/eval/dataset.js';
import { sampleTest } from '../src/eval/sample.js';
import { embedImages } from '../src/embed/embedder.js';
import { loadVisionModel, type VisionModel } from '../src/models/vision/index.js';
import { decodeImage } from '../src/preprocess/image.js';
import { loadCheckpoint } from '../training/checkpoint.js';
import { modelFromCheckpoint } from '../training/export.js';
import { embeddingMetrics } from '../training/validation.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const HELDOUT = { brands: 64, imagesPerBrand: 30, seed: 101, minSide: 128, maxSide: 192, demoSeed: 7, demoMaxBrands: 40 };

/**
 * Removes the annotations of `brands` from every XML under a synth folder (the logos stay in the
 * pixels, as distractors). Needed once their folders are gone: prepare files an object whose name
 * is no brand folder under the scene's own brand (LogoDet-3K's spelling rule), which would
 * mislabel it. Returns the number of annotations removed.
 */
export function stripAnnotations(synth: string, brands: ReadonlySet<string>): number {
  let stripped = 0;
  for (const cat of readdirSync(synth)) {
    if (!statSync(join(synth, cat)).isDirectory()) continue;
    for (const b of readdirSync(join(synth, cat))) for (const f of readdirSync(join(synth, cat, b)).filter((x) => x.endsWith('.xml'))) {
      const path = join(synth, cat, b, f);
      const a = parseVoc(readFileSync(path, 'utf8'), path);
      const keep = a.objects.filter((o) => !brands.has(o.name));
      if (keep.length === a.objects.length) continue;
      stripped += a.objects.length - keep.length;
      writeFileAtomic(path, writeVoc({ folder: b, filename: a.filename ?? f.replace(/\.xml$/, '.jpg'), width: a.width!, height: a.height!, objects: keep }));
    }
  }
  return stripped;
}

/** Written last by removeBrands: synth.json only says that the rendering finished. */
export const REMOVED_MARKER = 'heldout-removed.json';

/**
 * Removes the folders of `brands` and their annotations in other scenes, then writes
 * REMOVED_MARKER. Both steps are idempotent, so a run killed between them redoes them.
 */
export function removeBrands(synth: string, brands: ReadonlySet<string>): { removed: number; stripped: number } {
  let removed = 0;
  for (const cat of readdirSync(synth)) {
    if (!statSync(join(synth, cat)).isDirectory()) continue;
    for (const b of readdirSync(join(synth, cat))) if (brands.has(b)) {
      rmSync(join(synth, cat, b), { recursive: true });
      removed++;
    }
  }
  const stripped = stripAnnotations(synth, brands);
  writeFileAtomic(join(synth, REMOVED_MARKER), JSON.stringify({ removed_brands: [...brands].sort() }, null, 2) + '\n');
  return { removed, stripped };
}

export async function makeHeldout(dir: string): Promise<void> {
  const synth = join(dir, 'synthB'), data = join(dir, 'data');
  if (!existsSync(join(synth, 'synth.json'))) {
    await synthesize({ out: synth, brands: HELDOUT.brands, imagesPerBrand: HELDOUT.imagesPerBrand, seed: HELDOUT.seed, brandSet: 'B', minSide: HELDOUT.minSide, maxSide: HELDOUT.maxSide, negatives: 0, recordRenditions: true });
  }
  if (!existsSync(join(synth, REMOVED_MARKER))) {
    const demo = new Set(selectBrands({ seed: HELDOUT.demoSeed, count: HELDOUT.demoMaxBrands, set: 'B' }).map((b) => b.slug));
    const { removed, stripped } = removeBrands(synth, demo);
    process.stderr.write(`held-out: removed ${removed} brands the demo can draw, and ${stripped} annotations of them in other scenes\n`);
  }
  await prepareDataset({ dataset: synth, out: data });
}

async function loadModel(p: string): Promise<{ model: VisionModel; dispose: () => void }> {
  if (p.endsWith('.ckpt')) {
    const tm = await modelFromCheckpoint(loadCheckpoint(p), p);
    return { model: tm.model, dispose: () => tm.dispose() };
  }
  const m = await loadVisionModel(p, { quiet: true });
  return { model: m, dispose: () => m.dispose() };
}

export type Level = 'brand' | 'drawing';
export const LEVELS: readonly Level[] = ['brand', 'drawing'];

/**
 * The held-out data with every reference crop and ground-truth box labelled by its drawing
 * (`<slug>-<k>`), from `<heldout dir>/synthB/renditions.json` (objects matched by image and box).
 */
export function byDrawing(ds: DatasetIndex, renditionsJson: string): DatasetIndex {
  if (!existsSync(renditionsJson)) throw new Error(`${renditionsJson} is missing: rebuild the held-out data with 'heldout-eval.ts make' (synth --record-renditions)`);
  const drawn = JSON.parse(readFileSync(renditionsJson, 'utf8')) as Record<string, { name: string; box: number[]; rendition: string }[]>;
  const brands = new Map(listBrands('B').map((b) => [b.slug, b]));
  const shapeOf = new Map<string, string>(); // '<slug> <rendition id>' → drawing label
  const label = (image: string, logo: string, box: readonly number[] | undefined): string => {
    const o = drawn[image]?.find((x) => x.name === logo && box !== undefined && x.box.every((v, k) => v === box[k]));
    if (!o) throw new Error(`${renditionsJson}: no ${logo} object at ${JSON.stringify(box)} in ${image}`);
    const key = `${logo} ${o.rendition}`;
    if (!shapeOf.has(key)) {
      const b = brands.get(logo);
      if (!b) throw new Error(`${renditionsJson}: ${logo} is not a set-B brand`);
      for (const s of shapes(b)) for (const r of s.renditions) shapeOf.set(`${logo} ${r.id}`, s.label);
    }
    const l = shapeOf.get(key);
    if (!l) throw new Error(`${renditionsJson}: ${o.rendition} is not a rendition of ${logo}`);
    return l;
  };
  const nameOf = new Map(ds.images.map((im) => [im.id, im.name]));
  const refs = ds.refs.map((r) => ({ ...r, logo: label(nameOf.get(r.sourceImage ?? '') ?? '', r.logo, r.box) }));
  const images = ds.images.map((im) => ({ ...im, gt: im.gt.map((g) => ({ ...g, logo: label(im.name, g.logo, g.box) })) }));
  const logos = [...new Set([...refs.map((r) => r.logo), ...images.flatMap((i) => i.gt.map((g) => g.logo))])].sort();
  return { ...ds, logos, refs, images };
}

type LevelMetrics = { model: string; level: Level; p1: number; sep: number; pos: number; neg: number; mapR: number; per: { seed: number; p1: number; sep: number; pos: number; neg: number; mapR: number; n: number }[] };

/** One model's metrics at each of `levels`, the model (or checkpoint) loaded once. */
export async function heldoutMetricsAt(dataDir: string, modelPath: string, levels: readonly Level[], seeds = [42, 43, 44], numLogos = 40): Promise<LevelMetrics[]> {
  const brandDs = datasetFromDataDir(dataDir);
  const { model, dispose } = await loadModel(modelPath);
  try {
    const out: LevelMetrics[] = [];
    for (const level of levels) {
      const ds = level === 'drawing' ? byDrawing(brandDs, join(dataDir, '..', 'synthB', 'renditions.json')) : brandDs;
      const per: LevelMetrics['per'] = [];
      for (const seed of seeds) {
        const s = sampleTest(ds, { numLogos, refsPerLogo: 10, positiveSamples: 0, negativeSamples: 0, seed });
        const imgs = await Promise.all(s.refs.map((r) => decodeImage(r.path)));
        const embs = await embedImages(model, imgs, { batchSize: 64, normalize: true });
        const dim = embs[0]!.length;
        const flat = new Float32Array(embs.length * dim); // [N, D]
        embs.forEach((e, i) => flat.set(e, i * dim));
        const idx = new Map(s.logos.map((l, i) => [l, i]));
        const m = embeddingMetrics(flat, dim, Int32Array.from(s.refs, (r) => idx.get(r.logo)!));
        per.push({ seed, p1: m.precision_at_1, sep: m.separation, pos: m.mean_pos_sim, neg: m.mean_neg_sim, mapR: m.map_at_r, n: s.refs.length });
      }
      const mean = (k: 'p1' | 'sep' | 'pos' | 'neg' | 'mapR') => per.reduce((a, r) => a + r[k], 0) / per.length;
      out.push({ model: modelPath, level, p1: mean('p1'), sep: mean('sep'), pos: mean('pos'), neg: mean('neg'), mapR: mean('mapR'), per });
    }
    return out;
  } finally {
    dispose();
  }
}

const rounded = (r: Pick<LevelMetrics, 'p1' | 'sep' | 'pos' | 'neg' | 'mapR'>) => ({ p1: +r.p1.toFixed(4), sep: +r.sep.toFixed(4), pos: +r.pos.toFixed(4), neg: +r.neg.toFixed(4), mapR: +r.mapR.toFixed(4) });

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, dir = join(ROOT, 'runs', 'heldout'), ...models] = process.argv.slice(2);
  await initBackend(process.env.LOGOLAB_BACKEND ?? 'auto', { quiet: true });
  if (cmd === 'make') await makeHeldout(resolve(dir));
  else if (cmd === 'eval') {
    for (const m of models) {
      for (const r of await heldoutMetricsAt(join(resolve(dir), 'data'), m, LEVELS)) process.stdout.write(JSON.stringify({ ...r, ...rounded(r) }) + '\n');
    }
  } else if (cmd === 'ckpts') {
    const [ckDir, out] = models as [string, string];
    const done = new Set(existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { checkpoint: string }).checkpoint) : []);
    const cks = readdirSync(ckDir).filter((f) => /^epoch_\d+\.ckpt$/.test(f)).sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
    for (const f of cks.filter((c) => !done.has(c))) {
      const step = loadCheckpoint(join(ckDir, f)).state.global_step;
      const [r, d] = (await heldoutMetricsAt(join(resolve(dir), 'data'), join(ckDir, f), ['brand', 'drawing'])) as [LevelMetrics, LevelMetrics];
      appendFileSync(out, JSON.stringify({ checkpoint: f, step, ...rounded(r), drawing: rounded(d) }) + '\n');
      process.stdout.write(`${f} step ${step}: brand p1 ${r.p1.toFixed(4)} sep ${r.sep.toFixed(4)} | drawing p1 ${d.p1.toFixed(4)} sep ${d.sep.toFixed(4)}\n`);
    }
  } else throw new Error('usage: heldout-eval.ts make [dir] | eval <dir> <model dir | .ckpt>… | ckpts <dir> <checkpoint dir> <out.jsonl>');
}
