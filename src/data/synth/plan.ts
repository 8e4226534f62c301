/**
 * What a `logolab synth` run will write, settled before any rendering: its options checked (one
 * error naming the flag), the brands (or shapes) selected, the distractor pool, the --out guard and
 * the contact sheet's place, and the list of scenes (jobs) in output order.
 */
import { relative, resolve, sep } from 'node:path';
import { LogolabError, UsageError } from '../../errors.js';
import { isWithin } from '../../io/output-dir.js';
import { makeRng } from '../../util/rng.js';
import { MAX_SCENE_SIDE, type SynthOptions } from './options.js';
import { checkSynthOut } from './output.js';
import { listBrands, selectBrands, shapes, type Brand, type Shape } from './sources.js';

export interface Job {
  kind: 'brand' | 'negative';
  brand?: Brand;
  /** labelBy 'shape': index into the shape list */
  shape?: number;
  index: number; // 1-based within brand / negatives
  global: number; // 1-based over all jobs
}

/** Checks `opts` and --out (checkSynthOut) and lists the run's scenes; throws on a bad option. */
export function planSynth(opts: SynthOptions) {
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
  return { layout, brandSet, M, minSide, maxSide, labelBy, T, rps, selected, shapeList, pool, nNeg, nRef, sheetIn, guard, jobs };
}
