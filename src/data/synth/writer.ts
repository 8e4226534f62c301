/**
 * `logolab synth`: writes a dataset of synthetic scenes built from real brand logos.
 *
 * Layout 'logodet3k' (ingested by `logolab prepare`):
 *   <out>/synth.json                          manifest (seed, brands, counts; no timestamps)
 *   <out>/<Category>/<brand>/<n>.jpg + .xml   scenes of that brand (VOC boxes for EVERY annotated
 *                                             logo in the scene, which may include a second
 *                                             selected brand), n = 1..imagesPerBrand
 *   <out>/Negatives/none/<n>.jpg + .xml       scenes without any selected brand (XML with no
 *                                             <object>); they may hold unlabelled distractors
 * Layout 'folders' (the reference's Burnley test layout, read by src/data/folders.ts):
 *   <out>/<brand>_reference_images/<k>.png    clean renditions of the brand
 *   <out>/test_images/<a>[+<b>]_<nnnn>.jpg    filename prefix = the selected brands present
 *   <out>/test_images/negative_<nnnn>.jpg
 *
 * Determinism: every scene has its own generator seeded by (seed, brand, index), so output bytes
 * depend only on the options (and the installed sharp/libvips, fonts and logo packages), not on
 * concurrency or timing. The whole folder is built under a temp name and renamed at the end; an
 * existing --out is replaced only while it holds nothing but an earlier synth's files (output.ts).
 */
import sharp from 'sharp';
import { writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { LogolabError, UsageError } from '../../errors.js';
import { withAtomicDir, writeFileAtomic } from '../../io/atomic.js';
import { isWithin } from '../../io/output-dir.js';
import { Progress } from '../../util/progress.js';
import { makeRng, type Rng } from '../../util/rng.js';
import { writeVoc } from '../voc.js';
import { canvasToBytes, makeCanvas, rasterize, warpComposite } from './render.js';
import { composeScene, type LabelledTarget, type Scene, type SceneSpec } from './scene.js';
import { listBrands, renditions, selectBrands, shapes, type Brand, type BrandSet, type Shape } from './sources.js';
import { packageVersion } from '../../backend/index.js';
import { mkdirp } from '../../io/mkdirp.js';
import { checkSynthOut, MANIFEST_FILE, NEGATIVE_PREFIX, NEGATIVES_FOLDER, REFERENCE_SUFFIX, RENDITIONS_FILE, TEST_IMAGES_FOLDER, writeSynthMarker } from './output.js';

export { NEGATIVE_PREFIX, NEGATIVES_FOLDER } from './output.js';

export type SynthLayout = 'logodet3k' | 'folders';

export interface SynthOptions {
  out: string;
  brands: number;
  seed: number;
  imagesPerBrand?: number;
  /** number of negative scenes (default: 15% of the positive scenes, at least 1) */
  negatives?: number;
  layout?: SynthLayout;
  brandSet?: BrandSet;
  minSide?: number;
  maxSide?: number;
  /** folders layout only: clean reference images per brand (default 4) */
  referencesPerBrand?: number;
  contactSheet?: string;
  concurrency?: number;
  quiet?: boolean;
  /**
   * What a logo (object name, folder) is: 'brand' (default) — one per brand, any of its renditions
   * per scene; 'shape' — one per brand shape (sources.ts shapes(): the simple-icons glyph, each
   * iconify icon), so positives differ in scene and colour but never in drawing (pre-training:
   * a wordmark and an unrelated icon of one brand teach memorisation, not invariance).
   * Folders are `<Category>/<slug>-<k>`; imagesPerBrand is then scenes per shape.
   */
  labelBy?: 'brand' | 'shape';
  /**
   * labelBy 'shape': annotated logos per scene — the folder's own shape plus targetsPerScene − 1
   * others in a fixed rotation (scene m of label i adds labels i + k·⌊N/T⌋ + m − 1 mod N), so every
   * label is drawn imagesPerBrand × targetsPerScene times, fewer where placement fails or where the
   * rotation comes back to the scene's own label (k·⌊N/T⌋ + m − 1 ≡ 0 mod N: that slot is left
   * empty; kept so, as the shipped baseline's data were made with it). At most N.
   */
  targetsPerScene?: number;
  /**
   * labelBy 'shape': keep only this many renditions of each shape (a seeded choice per shape), e.g.
   * 1 = every appearance of a label has the same colours (positives differ only in scene).
   */
  renditionsPerShape?: number;
  /**
   * logodet3k layout only: also write `renditions.json`, for each scene (`<Category>/<folder>/<n>.jpg`)
   * its annotated objects in XML order with the rendition drawn (`simple-icons:black`,
   * `logos:<icon>:plate`): evaluation by drawing instead of brand. Consumes no randomness, so the
   * scenes are byte-identical with and without it.
   */
  recordRenditions?: boolean;
  /** replace a non-empty --out that is not (only) an earlier synth output; never the working directory */
  overwrite?: boolean;
}

export interface SynthSummary {
  out: string;
  layout: SynthLayout;
  seed: number;
  brandSet: BrandSet;
  brands: { slug: string; title: string; category: string; set: string }[];
  images: number;
  negatives: number;
  objects: number;
  distractors: number;
  referenceImages: number;
}

interface Job {
  kind: 'brand' | 'negative';
  brand?: Brand;
  /** labelBy 'shape': index into the shape list */
  shape?: number;
  index: number; // 1-based within brand / negatives
  global: number; // 1-based over all jobs
}

interface Done {
  job: Job;
  /** the folder's own logo name (green in the contact sheet) */
  own?: string;
  scene: Scene;
  jpeg: Buffer;
}

async function encodeScene(scene: Scene): Promise<Buffer> {
  const { width, height } = scene.canvas;
  let img = sharp(canvasToBytes(scene.canvas), { raw: { width, height, channels: 3 } });
  if (scene.blurSigma >= 0.3) img = img.blur(scene.blurSigma);
  return img.jpeg({ quality: scene.jpegQuality }).toBuffer();
}

function sceneSpec(rng: Rng, job: Job, selected: Brand[], pool: Brand[], o: Required<Pick<SynthOptions, 'minSide' | 'maxSide'>>) {
  const targets: Brand[] = [];
  if (job.kind === 'brand') {
    targets.push(job.brand!);
    if (rng.next() < 0.25) targets.push(job.brand!);
    if (selected.length > 1 && rng.next() < 0.3) {
      let other = selected[rng.int(selected.length)]!;
      if (other.slug === job.brand!.slug) other = selected[(selected.indexOf(other) + 1) % selected.length]!;
      targets.push(other);
    }
  }
  const nd = job.kind === 'negative' ? 1 + rng.int(3) : rng.int(3);
  const distractors = pool.length ? Array.from({ length: nd }, () => pool[rng.int(pool.length)]!) : [];
  return { targets, distractors, minSide: o.minSide, maxSide: o.maxSide };
}

/** Largest scene side: a 4096² scene's float canvas is already 200 MB, and sharp refuses past 16383 px */
export const MAX_SCENE_SIDE = 4096;

const asTarget = (s: Shape): LabelledTarget => ({ name: s.label, key: s.brand.slug, renditions: s.renditions });

/** labelBy 'shape': the job's own shape, T − 1 others in rotation, 0–2 unlabelled distractors of other brands. */
function shapeSceneSpec(rng: Rng, job: Job, all: Shape[], T: number, pool: Brand[], o: Required<Pick<SynthOptions, 'minSide' | 'maxSide'>>): SceneSpec {
  const N = all.length;
  const i = job.shape!;
  const labelled = [asTarget(all[i]!)];
  const stride = Math.max(1, Math.floor(N / T));
  for (let k = 1; k < T; k++) {
    const j = (i + k * stride + job.index - 1) % N;
    if (j !== i) labelled.push(asTarget(all[j]!));
  }
  const own = new Set(labelled.map((t) => t.key));
  const distractors: Brand[] = [];
  for (let n = rng.int(3); n > 0; n--) {
    const b = pool[rng.int(pool.length)]!;
    if (!own.has(b.slug)) distractors.push(b);
  }
  return { targets: [], labelledTargets: labelled, distractors, minSide: o.minSide, maxSide: o.maxSide };
}

/** Clean reference image (folders layout): the rendition on white, with margin, PNG. */
async function referenceImage(brand: Brand, rendIndex: number): Promise<Buffer> {
  const r = renditions(brand)[rendIndex]!;
  const raster = await rasterize(brand.slug, r, 160);
  const pad = 16;
  const w = raster.width + 2 * pad, h = raster.height + 2 * pad;
  const c = makeCanvas(w, h);
  // dark card for white-ink renditions, white otherwise
  const bgv = r.style === 'white' ? 30 : 255;
  c.data.fill(bgv);
  warpComposite(c, raster, [[pad, pad], [pad + raster.width, pad], [pad + raster.width, pad + raster.height], [pad, pad + raster.height]]);
  return sharp(canvasToBytes(c), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

export async function synthesize(opts: SynthOptions): Promise<SynthSummary> {
  const layout = opts.layout ?? 'logodet3k';
  if (layout !== 'logodet3k' && layout !== 'folders') throw new LogolabError(`--layout: '${String(layout)}' is not logodet3k or folders`);
  const brandSet = opts.brandSet ?? 'all';
  if (!['A', 'B', 'all'].includes(brandSet)) throw new LogolabError(`--brand-set: '${String(brandSet)}' is not A, B or all`);
  const M = opts.imagesPerBrand ?? 6;
  if (!Number.isInteger(M) || M < 1) throw new LogolabError(`--images-per-brand: ${String(M)} is not a positive integer`);
  const minSide = opts.minSide ?? 256, maxSide = opts.maxSide ?? 512;
  for (const [flag, v] of [['--min-side', minSide], ['--max-side', maxSide]] as const) {
    if (!(Number.isInteger(v) && v >= 64 && v <= MAX_SCENE_SIDE)) throw new LogolabError(`${flag} ${v}: a scene side must be an integer in [64, ${MAX_SCENE_SIDE}] px`);
  }
  if (minSide > maxSide) throw new LogolabError(`--min-side ${minSide} exceeds --max-side ${maxSide}`);
  const labelBy = opts.labelBy ?? 'brand';
  if (labelBy !== 'brand' && labelBy !== 'shape') throw new LogolabError(`--label-by: '${String(labelBy)}' is not brand or shape`);
  const T = opts.targetsPerScene ?? 1;
  if (!Number.isInteger(T) || T < 1) throw new LogolabError(`--targets-per-scene: ${String(T)} is not a positive integer`);
  if (T > 1 && labelBy !== 'shape') throw new LogolabError('--targets-per-scene > 1 needs --label-by shape');
  if (layout === 'folders' && labelBy !== 'brand') throw new LogolabError('--label-by shape writes the logodet3k layout only');
  // options of the other layout would be ignored: the logodet3k layout writes no reference images
  // (prepare crops them from the scenes' boxes), and renditions.json is keyed by the logodet3k
  // scene paths that evaluation by drawing reads
  if (opts.referencesPerBrand !== undefined && layout !== 'folders') throw new UsageError(`--references-per-brand: applies to --layout folders only (the ${layout} layout writes no reference images: prepare crops them from the scenes' boxes)`);
  if (opts.recordRenditions && layout !== 'logodet3k') throw new UsageError(`--record-renditions: applies to --layout logodet3k only (renditions.json is keyed by its scene paths); the ${layout} layout would write none`);
  const selected = selectBrands({ seed: opts.seed, count: opts.brands, set: brandSet });
  const rps = opts.renditionsPerShape;
  if (rps !== undefined && (!Number.isInteger(rps) || rps < 1 || labelBy !== 'shape')) throw new LogolabError(`--renditions-per-shape: ${String(rps)} needs --label-by shape and a positive integer`);
  const keep = (s: Shape): Shape => (rps === undefined || s.renditions.length <= rps ? s : { ...s, renditions: makeRng(`synth-shape-renditions:${opts.seed}:${s.label}`).shuffle(s.renditions.slice()).slice(0, rps) });
  const shapeList = labelBy === 'shape' ? selected.flatMap((b) => shapes(b)).map(keep) : [];
  // the rotation draws T distinct labels from N: more than N would repeat labels in one scene
  if (labelBy === 'shape' && T > shapeList.length) throw new LogolabError(`--targets-per-scene ${T}: exceeds the ${shapeList.length} shapes of the selected brands`);
  const selectedSlugs = new Set(selected.map((b) => b.slug));
  // unlabelled distractors come from the same brand set but outside the selection, so a set-A
  // dataset never shows set-B logos (and vice versa)
  // (shape labels: any brand of the set other than the scene's own — every brand may be selected)
  const pool = labelBy === 'shape' ? listBrands(brandSet) : listBrands(brandSet).filter((b) => !selectedSlugs.has(b.slug));
  const nNeg = opts.negatives ?? Math.max(1, Math.round(0.15 * selected.length * M));
  if (!Number.isInteger(nNeg) || nNeg < 0) throw new LogolabError(`--negatives: ${String(nNeg)} is not a non-negative integer`);
  const nRef = opts.referencesPerBrand ?? 4;
  if (!Number.isInteger(nRef) || nRef < 1) throw new LogolabError(`--references-per-brand: ${String(nRef)} is not a positive integer`);
  // a contact sheet inside --out is built into the new folder (and listed in its marker): written
  // after the swap, it would be a file synth did not write and block the next run
  const sheetIn = opts.contactSheet !== undefined && isWithin(opts.contactSheet, opts.out) ? relative(resolve(opts.out), resolve(opts.contactSheet)) : null;
  if (sheetIn === '') throw new UsageError(`--contact-sheet ${opts.contactSheet}: is the --out folder itself; give a .png file name`);
  // before the (long) rendering; again before the swap, for files added to --out meanwhile. A synth
  // from before the marker wrote the same --contact-sheet there after its swap: that file is synth's
  // own in such a folder, but not a subfolder holding it (the user's results/ with sheet.png in it)
  const guard = { overwrite: opts.overwrite, sheet: sheetIn === null || sheetIn.includes(sep) ? undefined : sheetIn };
  checkSynthOut(opts.out, guard);

  const jobs: Job[] = [];
  if (labelBy === 'shape') shapeList.forEach((s, k) => {
    for (let i = 1; i <= M; i++) jobs.push({ kind: 'brand', brand: s.brand, shape: k, index: i, global: jobs.length + 1 });
  });
  else for (const b of selected) for (let i = 1; i <= M; i++) jobs.push({ kind: 'brand', brand: b, index: i, global: jobs.length + 1 });
  for (let j = 1; j <= nNeg; j++) jobs.push({ kind: 'negative', index: j, global: jobs.length + 1 });

  const summary: SynthSummary = {
    out: opts.out,
    layout,
    seed: opts.seed,
    brandSet,
    brands: selected.map((b) => ({ slug: b.slug, title: b.title, category: b.category, set: b.set })),
    images: 0,
    negatives: 0,
    objects: 0,
    distractors: 0,
    referenceImages: 0,
  };
  // contact sheet: the first scene of up to 30 brands + up to 6 negatives
  const sheetJobs = new Set(jobs.filter((j) => (j.kind === 'brand' && j.index === 1) || j.kind === 'negative').filter((j, k, a) => (j.kind === 'brand' ? a.slice(0, k).filter((x) => x.kind === 'brand').length < 30 : j.index <= 6)).map((j) => j.global));
  const sheet: Done[] = [];
  const drawn: Record<string, { name: string; box: [number, number, number, number]; rendition: string }[]> = {};
  const progress = new Progress({ label: 'synth', total: jobs.length, unit: 'img', quiet: opts.quiet });

  await withAtomicDir(opts.out, async (tmp) => {
    const write = (rel: string[], data: Buffer | string) => {
      const dir = join(tmp, ...rel.slice(0, -1));
      mkdirp(dir);
      writeFileSync(join(dir, rel[rel.length - 1]!), data);
    };
    const runJob = async (job: Job) => {
      const shape = job.shape === undefined ? undefined : shapeList[job.shape]!;
      const rng = makeRng(shape ? `synth:${opts.seed}:shape:${shape.label}:${job.index}` : job.kind === 'brand' ? `synth:${opts.seed}:${job.brand!.slug}:${job.index}` : `synth:${opts.seed}:negative:${job.index}`);
      const spec = shape ? shapeSceneSpec(rng, job, shapeList, T, pool, { minSide, maxSide }) : sceneSpec(rng, job, selected, pool, { minSide, maxSide });
      const scene = await composeScene(rng, spec);
      const jpeg = await encodeScene(scene);
      const { width, height } = scene.canvas;
      if (layout === 'logodet3k') {
        const folder = shape ? [shape.brand.category, shape.label] : job.kind === 'brand' ? [job.brand!.category, job.brand!.slug] : [...NEGATIVES_FOLDER];
        const name = `${job.index}`;
        write([...folder, `${name}.jpg`], jpeg);
        write([...folder, `${name}.xml`], writeVoc({ folder: folder[1]!, filename: `${name}.jpg`, width, height, objects: scene.objects }));
        if (opts.recordRenditions) drawn[[...folder, `${name}.jpg`].join('/')] = scene.objects.map((o) => ({ name: o.name, box: o.box, rendition: o.rendition }));
      } else {
        const present = [...new Set(scene.objects.map((o) => o.name))].sort();
        const prefix = present.length ? present.join('+') : NEGATIVE_PREFIX;
        write([TEST_IMAGES_FOLDER, `${prefix}_${String(job.global).padStart(5, '0')}.jpg`], jpeg);
      }
      summary.images++;
      if (scene.objects.length === 0) summary.negatives++;
      summary.objects += scene.objects.length;
      summary.distractors += scene.distractors.length;
      if (sheetJobs.has(job.global)) sheet.push({ job, own: shape?.label ?? job.brand?.slug, scene: { ...scene, canvas: { width, height, data: new Float32Array(0) } }, jpeg });
      progress.tick();
    };
    // a small async pool overlaps sharp's threaded encode with the JS scene work
    const conc = Math.max(1, opts.concurrency ?? 2);
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < jobs.length) await runJob(jobs[next++]!);
      }),
    );
    if (layout === 'folders') {
      for (const b of selected) {
        const rs = renditions(b);
        const rng = makeRng(`synth-refs:${opts.seed}:${b.slug}`);
        const order = rng.shuffle(rs.map((_, i) => i)).slice(0, Math.min(nRef, rs.length));
        for (let k = 0; k < order.length; k++) {
          write([`${b.slug}${REFERENCE_SUFFIX}`, `${k + 1}.png`], await referenceImage(b, order[k]!));
          summary.referenceImages++;
        }
      }
    }
    const manifest = {
      generator: 'logolab synth',
      version: 1,
      layout,
      seed: opts.seed,
      brandSet,
      imagesPerBrand: M,
      negatives: nNeg,
      sceneSize: [minSide, maxSide],
      packages: { 'simple-icons': packageVersion('simple-icons'), '@iconify-json/logos': packageVersion('@iconify-json/logos'), sharp: packageVersion('sharp') },
      brands: selected.map((b) => ({ slug: b.slug, title: b.title, category: b.category, set: b.set, renditions: renditions(b).map((r) => r.id) })),
      // (only with shape labels, so brand-label manifests stay byte-identical)
      ...(labelBy === 'shape' ? { labelBy, targetsPerScene: T, ...(rps !== undefined ? { renditionsPerShape: rps } : {}), shapes: shapeList.map((s) => ({ label: s.label, renditions: s.renditions.map((r) => r.id) })) } : {}),
      counts: { images: summary.images, negativeImages: summary.negatives, objects: summary.objects, distractors: summary.distractors, referenceImages: summary.referenceImages },
    };
    write([MANIFEST_FILE], JSON.stringify(manifest, null, 2) + '\n');
    // keys sorted: the pool finishes scenes in any order
    if (opts.recordRenditions && layout === 'logodet3k') write([RENDITIONS_FILE], JSON.stringify(Object.fromEntries(Object.keys(drawn).sort().map((k) => [k, drawn[k]])), null, 1) + '\n');
    if (sheetIn !== null) await writeContactSheet(join(tmp, sheetIn), sheet.sort((a, b) => a.job.global - b.job.global));
    writeSynthMarker(tmp);
    checkSynthOut(opts.out, guard);
  });
  progress.finish(`${summary.images} images, ${summary.objects} boxes`);
  if (opts.contactSheet && sheetIn === null) await writeContactSheet(opts.contactSheet, sheet.sort((a, b) => a.job.global - b.job.global));
  return summary;
}

/** Grid of scenes with their boxes: green = the folder's brand, cyan = another selected brand, red = unlabelled distractor. */
async function writeContactSheet(path: string, items: Done[]): Promise<void> {
  const T = 200, cols = 6, rows = Math.max(1, Math.ceil(items.length / cols)), gap = 4;
  const W = cols * T + (cols + 1) * gap, H = rows * T + (rows + 1) * gap;
  const sheet = Buffer.alloc(W * H * 3, 40);
  for (let k = 0; k < items.length; k++) {
    const { scene, jpeg, own } = items[k]!;
    const { width, height } = scene.canvas;
    const s = Math.min(T / width, T / height);
    const tw = Math.round(width * s), th = Math.round(height * s);
    const tile = await sharp(jpeg).resize(tw, th).raw().toBuffer();
    const ox = gap + (k % cols) * (T + gap) + Math.floor((T - tw) / 2), oy = gap + Math.floor(k / cols) * (T + gap) + Math.floor((T - th) / 2);
    for (let y = 0; y < th; y++) tile.copy(sheet, ((oy + y) * W + ox) * 3, y * tw * 3, (y + 1) * tw * 3);
    const rect = (b: [number, number, number, number], col: [number, number, number]) => {
      const x0 = ox + Math.floor(b[0] * s), y0 = oy + Math.floor(b[1] * s), x1 = ox + Math.min(tw - 1, Math.ceil(b[2] * s) - 1), y1 = oy + Math.min(th - 1, Math.ceil(b[3] * s) - 1);
      const put = (x: number, y: number) => {
        if (x >= ox && y >= oy && x < ox + tw && y < oy + th) col.forEach((v, ch) => (sheet[(y * W + x) * 3 + ch] = v));
      };
      // 2-px outline, inside the box
      for (let x = x0; x <= x1; x++) for (const y of [y0, y0 + 1, y1 - 1, y1]) put(x, y);
      for (let y = y0; y <= y1; y++) for (const x of [x0, x0 + 1, x1 - 1, x1]) put(x, y);
    };
    for (const d of scene.distractors) rect(d.box, [230, 40, 40]);
    for (const o of scene.objects) rect(o.box, own !== undefined && o.name === own ? [40, 230, 60] : [40, 220, 230]);
  }
  writeFileAtomic(path, await sharp(sheet, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
}
