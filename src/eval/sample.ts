/**
 * The Python original's test sample (test_logo_detection.py; its sampling code is not in the diff, so
 * this follows its README and result blocks — see the report for the assumptions):
 *   1. logos with ≥1 reference crop and ≥1 test image, in name order, shuffled; take num_logos;
 *   2. per logo: refs_per_logo reference crops (fewer when the logo has fewer — the Python original's
 *      "Total reference embeddings: 189" for 20×10);
 *   3. per logo: positive_samples images containing it and negative_samples images not containing
 *      it, never an image a sampled reference crop was cut from (the reference could test a region
 *      against its own crop);
 *   4. the test set is the union, in id order; an image's expected logos = its ground-truth logos
 *      among the sampled logos.
 * Every choice goes through makeRng(seed) over sorted inputs, so the same seed gives the same sample
 * on every run (the Python original's "Test images processed" varied 2350–2361 for one seed).
 */
import { LogolabError } from '../errors.js';
import { makeRng } from '../util/rng.js';
import { log } from '../util/log.js';
import type { DatasetIndex, DatasetImage, DatasetRef } from './dataset.js';

export interface SampleOptions {
  numLogos: number;
  refsPerLogo: number;
  positiveSamples: number;
  negativeSamples: number;
  seed: number;
}

export interface Sample {
  logos: string[]; // sorted
  refs: DatasetRef[];
  images: (DatasetImage & { expected: string[] })[];
  options: SampleOptions;
}

function take<T>(rng: ReturnType<typeof makeRng>, xs: T[], n: number): T[] {
  return rng.shuffle([...xs]).slice(0, n);
}

/**
 * Says when a per-logo count asked for is more than some sampled logos have: all of theirs are
 * taken (as the Python original's min() does), so the summary's totals, not the option, tell what
 * was used. `have`: what each sampled logo has.
 */
function warnShort(option: string, asked: number, have: number[], what: string): void {
  const short = have.filter((n) => n < asked);
  if (short.length) log('warn', `${option} ${asked}: ${short.length} of the ${have.length} sampled logos have fewer ${what} (as few as ${Math.min(...short)}); all of theirs are used`);
}

export function sampleTest(ds: DatasetIndex, o: SampleOptions): Sample {
  for (const k of ['numLogos', 'refsPerLogo', 'positiveSamples', 'negativeSamples'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new LogolabError(`${k}: must be an integer ≥ 0, got ${o[k]}`);
  }
  if (o.numLogos < 1 || o.refsPerLogo < 1) throw new LogolabError('num-logos and refs-per-logo must be ≥ 1');
  const rng = makeRng(o.seed);
  const refsBy = new Map<string, DatasetRef[]>();
  for (const r of ds.refs) (refsBy.get(r.logo) ?? refsBy.set(r.logo, []).get(r.logo)!).push(r);
  const imagesWith = new Map<string, DatasetImage[]>();
  for (const im of ds.images) for (const l of new Set(im.gt.map((g) => g.logo))) (imagesWith.get(l) ?? imagesWith.set(l, []).get(l)!).push(im);
  const eligible = ds.logos.filter((l) => (refsBy.get(l)?.length ?? 0) > 0 && (imagesWith.get(l)?.length ?? 0) > 0);
  if (eligible.length === 0) throw new LogolabError(`${ds.source}: no logo has both reference crops and test images`);
  if (eligible.length < o.numLogos) log('warn', `num-logos ${o.numLogos}: only ${eligible.length} logos have both reference crops and test images; sampling all ${eligible.length}`);
  const logos = take(rng, eligible, o.numLogos).sort();
  const refs: DatasetRef[] = [];
  for (const l of logos) refs.push(...take(rng, refsBy.get(l)!, o.refsPerLogo));
  warnShort('refs-per-logo', o.refsPerLogo, logos.map((l) => refsBy.get(l)!.length), 'reference crops');
  const used = new Set(refs.map((r) => r.sourceImage).filter((x): x is string => !!x));
  const pool = ds.images.filter((im) => !used.has(im.id));
  const chosen = new Set<string>();
  const have = { pos: [] as number[], neg: [] as number[] };
  for (const l of logos) {
    const pos = pool.filter((im) => im.gt.some((g) => g.logo === l));
    const neg = pool.filter((im) => !im.gt.some((g) => g.logo === l));
    have.pos.push(pos.length);
    have.neg.push(neg.length);
    for (const im of take(rng, pos, o.positiveSamples)) chosen.add(im.id);
    for (const im of take(rng, neg, o.negativeSamples)) chosen.add(im.id);
  }
  warnShort('positive-samples', o.positiveSamples, have.pos, 'test images holding it');
  warnShort('negative-samples', o.negativeSamples, have.neg, 'test images without it');
  const logoSet = new Set(logos);
  const images = pool
    .filter((im) => chosen.has(im.id))
    .map((im) => ({ ...im, expected: [...new Set(im.gt.map((g) => g.logo).filter((l) => logoSet.has(l)))].sort() }));
  return { logos, refs, images, options: o };
}

/**
 * No sampling (the Burnley test): every logo, every reference, every test image. `options` records
 * what was used so summaries can print it.
 */
export function sampleAll(ds: DatasetIndex): Sample {
  const logoSet = new Set(ds.logos);
  const perLogo = Math.max(0, ...ds.logos.map((l) => ds.refs.filter((r) => r.logo === l).length));
  return {
    logos: [...ds.logos].sort(),
    refs: [...ds.refs],
    images: ds.images.map((im) => ({ ...im, expected: [...new Set(im.gt.map((g) => g.logo).filter((l) => logoSet.has(l)))].sort() })),
    options: { numLogos: ds.logos.length, refsPerLogo: perLogo, positiveSamples: 0, negativeSamples: 0, seed: 0 },
  };
}
