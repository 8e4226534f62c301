/**
 * Which validation crops a run validates on when the split holds more than val_batches × P·K.
 * Cutting the list in logo-name order validated the first brands only (about half of LogoDet-3K's
 * at the cloud configs' size), so the best checkpoint and early stopping followed those brands.
 * Instead every logo gets a pair before any gets a third crop (precision@1 needs a second crop of
 * the logo), logos in a seeded order, crops in a seeded order within each; the chosen crops keep
 * the split's logo grouping, so each P·K validation chunk still holds positives for its loss.
 */
import { makeRng } from '../../src/util/rng.js';

export function validationSubset<T>(byLogo: ReadonlyMap<string, readonly T[]>, cap: number, seed: number): { logo: string; item: T }[] {
  const all = [...byLogo].flatMap(([logo, items]) => items.map((item) => ({ logo, item })));
  if (all.length <= cap) return all;
  const rng = makeRng(`val-subset:${seed}`);
  const logos = rng.shuffle([...byLogo.keys()]);
  const queues = new Map(logos.map((l) => [l, rng.shuffle([...byLogo.get(l)!])]));
  const taken = new Map<string, Set<T>>(logos.map((l) => [l, new Set<T>()]));
  let left = cap;
  // rounds of 2 crops per logo, then 1 at a time: pairs first, then more of each
  for (let round = 0; left > 0; round++) {
    let progressed = false;
    for (const l of logos) {
      const q = queues.get(l)!;
      for (let k = 0; k < (round === 0 ? 2 : 1) && left > 0 && q.length; k++, left--, progressed = true) taken.get(l)!.add(q.shift()!);
      if (left === 0) break;
    }
    if (!progressed) break;
  }
  return all.filter(({ logo, item }) => taken.get(logo)!.has(item));
}
