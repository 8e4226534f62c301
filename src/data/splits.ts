/**
 * Train/val/test splits with the Python original's semantics (training/dataset.py, LogoDataset), but
 * drawn from our seeded alea generator (src/util/rng.ts) so every machine gets the same split.
 *
 * Input: logo name → items (crop paths), iterated in the given order — pass the DB's
 * ORDER BY name mapping (DataDb.logoToImages()) to match the reference.
 *
 *  - level 'logo' (test on unseen brands): shuffle a copy of the logo list once;
 *    trainEnd = int(n·train), valEnd = trainEnd + int(n·val); train = [0,trainEnd),
 *    val = [trainEnd,valEnd), test = the rest.
 *  - level 'image' (unseen images of seen brands): ONE generator for the whole pass; for each
 *    logo in order shuffle a copy of its items; n = 1 → train only; n = 2 → [0] train, [1] val;
 *    else trainEnd = max(1, int(n·train)), valEnd = trainEnd + max(1, int(n·val)), slices as
 *    above; empty parts are left out of their map. With `groupOf` (the photo a crop was cut
 *    from), the units shuffled and sliced are a logo's photos, not its crops: two boxes of one
 *    brand in one photo land on the same side (the original split crops, so a photo's second box
 *    could validate on its first). Without groups, or with one crop per photo, the split is the
 *    original's exactly.
 *
 * int() is truncation of the same IEEE double product Python computes, so sizes match Python
 * exactly (e.g. int(10·0.7) = 7 although 10·0.7 = 7.000000000000001).
 */
import { LogolabError } from '../errors.js';
import { makeRng } from '../util/rng.js';

export type SplitLevel = 'logo' | 'image';

export interface SplitOptions {
  level: SplitLevel;
  train: number;
  val: number;
  test: number;
  seed: number;
}

/** Which photo an item comes from (null: its own unit), for image-level splits. */
export type GroupOf<T> = (item: T) => string | number | null;

export interface SplitInfo {
  splitLevel: SplitLevel;
  totalLogos: number;
  trainLogos: number;
  valLogos: number;
  testLogos: number;
  trainImages: number;
  valImages: number;
  testImages: number;
}

export interface DataSplits<T> {
  level: SplitLevel;
  /** every logo, input order; labels index into it */
  allLogos: string[];
  /** logo name → label (index in allLogos), shared by all splits */
  labelOf: Map<string, number>;
  train: Map<string, T[]>;
  val: Map<string, T[]>;
  test: Map<string, T[]>;
  info: SplitInfo;
}

export function validateSplitOptions(o: SplitOptions): void {
  if (o.level !== 'logo' && o.level !== 'image') throw new LogolabError(`split level: '${String(o.level)}' is not 'logo' or 'image'`);
  for (const k of ['train', 'val', 'test'] as const) {
    const v = o[k];
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw new LogolabError(`${k}_split: ${String(v)} is not in [0, 1]`);
  }
  if (o.train + o.val + o.test > 1 + 1e-6) throw new LogolabError(`train_split + val_split + test_split = ${o.train + o.val + o.test} > 1`);
  if (!Number.isInteger(o.seed)) throw new LogolabError(`seed: ${String(o.seed)} is not an integer`);
}

/** Items in units of one photo each, in first-appearance order (null keys: one unit per item). */
function unitsOf<T>(items: T[], groupOf?: GroupOf<T>): T[][] {
  if (!groupOf) return items.map((it) => [it]);
  const units: T[][] = [];
  const byKey = new Map<string | number, T[]>();
  for (const it of items) {
    const k = groupOf(it);
    const u = k === null ? undefined : byKey.get(k);
    if (u) u.push(it);
    else {
      const fresh = [it];
      units.push(fresh);
      if (k !== null) byKey.set(k, fresh);
    }
  }
  return units;
}

export function splitData<T>(logoToItems: Map<string, T[]>, opts: SplitOptions, groupOf?: GroupOf<T>): DataSplits<T> {
  validateSplitOptions(opts);
  const allLogos = [...logoToItems.keys()];
  const labelOf = new Map(allLogos.map((l, i) => [l, i] as const));
  const rng = makeRng(opts.seed);
  const train = new Map<string, T[]>();
  const val = new Map<string, T[]>();
  const test = new Map<string, T[]>();
  if (opts.level === 'logo') {
    const logos = rng.shuffle(allLogos.slice());
    const n = logos.length;
    const trainEnd = Math.trunc(n * opts.train);
    const valEnd = trainEnd + Math.trunc(n * opts.val);
    logos.forEach((l, i) => (i < trainEnd ? train : i < valEnd ? val : test).set(l, logoToItems.get(l)!));
  } else {
    for (const [logo, items] of logoToItems) {
      const s = rng.shuffle(unitsOf(items, groupOf)); // units: one photo's crops each
      const n = s.length;
      if (n === 0) continue;
      if (n === 1) {
        train.set(logo, s.flat());
        continue;
      }
      if (n === 2 && opts.val > 0) {
        train.set(logo, s[0]!);
        val.set(logo, s[1]!);
        continue;
      }
      // a positive fraction gets at least one unit; 0 gets none (val_split 0: no validation, as
      // at the logo level — it used to validate on one photo per logo all the same)
      const units = (f: number) => (f > 0 ? Math.max(1, Math.trunc(n * f)) : 0);
      const trainEnd = units(opts.train);
      const valEnd = trainEnd + units(opts.val);
      const tr = s.slice(0, trainEnd).flat();
      const va = s.slice(trainEnd, valEnd).flat();
      const te = s.slice(valEnd).flat();
      if (tr.length) train.set(logo, tr);
      if (va.length) val.set(logo, va);
      if (te.length) test.set(logo, te);
    }
  }
  const count = (m: Map<string, T[]>) => [...m.values()].reduce((a, v) => a + v.length, 0);
  return {
    level: opts.level,
    allLogos,
    labelOf,
    train,
    val,
    test,
    info: {
      splitLevel: opts.level,
      totalLogos: allLogos.length,
      trainLogos: train.size,
      valLogos: val.size,
      testLogos: test.size,
      trainImages: count(train),
      valImages: count(val),
      testImages: count(test),
    },
  };
}
