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
import { join } from 'node:path';
import { withAtomicDir } from '../../io/atomic.js';
import { Progress } from '../../util/progress.js';
import { makeRng } from '../../util/rng.js';
import { writeVoc } from '../voc.js';
import { canvasToBytes, makeCanvas, rasterize, warpComposite } from './render.js';
import { composeScene, type Scene } from './scene.js';
import { renditions, type Brand } from './sources.js';
import { packageVersion } from '../../backend/index.js';
import { mkdirp } from '../../io/mkdirp.js';
import { checkSynthOut, MANIFEST_FILE, NEGATIVE_PREFIX, NEGATIVES_FOLDER, REFERENCE_SUFFIX, RENDITIONS_FILE, TEST_IMAGES_FOLDER, writeSynthMarker } from './output.js';
import { writeContactSheet, type Done } from './contact-sheet.js';
import type { SynthOptions, SynthSummary } from './options.js';
import { planSynth, type Job } from './plan.js';
import { sceneSpec, shapeSceneSpec } from './scene-spec.js';

export { NEGATIVE_PREFIX, NEGATIVES_FOLDER } from './output.js';
export { MAX_SCENE_SIDE, type SynthLayout, type SynthOptions, type SynthSummary } from './options.js';

async function encodeScene(scene: Scene): Promise<Buffer> {
  const { width, height } = scene.canvas;
  let img = sharp(canvasToBytes(scene.canvas), { raw: { width, height, channels: 3 } });
  if (scene.blurSigma >= 0.3) img = img.blur(scene.blurSigma);
  return img.jpeg({ quality: scene.jpegQuality }).toBuffer();
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
  const { layout, brandSet, M, minSide, maxSide, labelBy, T, rps, selected, shapeList, pool, nNeg, nRef, sheetIn, guard, jobs } = planSynth(opts);

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
