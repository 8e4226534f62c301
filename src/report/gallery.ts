/**
 * The worst mistakes of one model at one threshold, for the report's gallery:
 *   false positives  a logo matched in an image that does not hold it (counted as evaluation counts:
 *                    per (image, logo), its best region), highest similarity first;
 *   false negatives  an expected logo no region matched, shown on the region that holds it (the
 *                    ground-truth box it overlaps best), lowest similarity to that logo first, with
 *                    what the region was matched to instead or, when it matched nothing, its best
 *                    logo and the matcher's condition that logo failed (`unmatched`).
 * Each item names the region's box in its image (thumbnails.ts cuts the crop) and its true logo.
 * A region's similarity to a logo is the matcher's, on the scale of the similarity it matched with:
 * its best reference of that logo (simple, margin), the logo's aggregate over its references with
 * the run's aggregation (multi-ref: mean|max, as eval/details.ts ranks logos), or the logo's
 * averaged embedding (averaged). One scale per gallery: an FN's own-logo similarity and what it was
 * taken for compare directly.
 */
import { row } from '../match/similarity.js';
import { aggregatePerLogo, type MatchOptions } from '../match/matchers.js';
import { evaluate, type SimilaritySet } from '../eval/evaluate.js';
import type { Counting } from '../eval/counting.js';
import type { Box } from '../util/box.js';

export interface GalleryItem {
  image: string;
  /** index into the sample's images (same order as the prepared set) */
  imageIndex: number;
  /** null: no region covers the expected logo */
  box: Box | null;
  /** the logo the region was taken for (FP: the false match; FN: the match it got instead, or its best logo when it matched nothing) */
  takenFor: string | null;
  takenForSimilarity: number | null;
  /** FP: similarity of the false match; FN: the region's similarity to the logo it holds */
  similarity: number | null;
  /** the region's ground-truth logo (null: background / no box) */
  truth: string | null;
  /** FN whose region matched nothing: why its best logo (takenFor) was not matched */
  unmatched?: Unmatched;
  /** data: URI of the crop (filled in by thumbnails.ts) */
  thumb?: string;
}

/**
 * The matcher's condition a region's best logo failed: its similarity below the threshold, fewer
 * than min-matching-refs of its references at or above the threshold (multi-ref), or the margin
 * over the second best (reference for margin, logo for multi-ref and averaged) not met.
 */
export type Unmatched = 'threshold' | 'min-refs' | 'margin';

export interface ModelGallery {
  label: string;
  threshold: number;
  falsePositives: GalleryItem[];
  falseNegatives: GalleryItem[];
}

function iou(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const i = iw * ih;
  const u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i;
  return u > 0 ? i / u : 0;
}

/** The ground-truth logo a box shows: the gt box it overlaps best (IoU ≥ 0.5), else null. */
export function truthOf(box: Box, gt: readonly { logo: string; box?: Box }[]): string | null {
  let best: string | null = null;
  let bestIou = 0.5;
  for (const g of gt) {
    if (!g.box) continue;
    const v = iou(box, g.box);
    if (v >= bestIou) [best, bestIou] = [g.logo, v];
  }
  return best;
}

export function buildGallery(label: string, p: SimilaritySet, gt: readonly (readonly { logo: string; box?: Box }[])[], o: MatchOptions, threshold: number, counting: Counting, limit = 8): ModelGallery {
  const { set } = p;
  const logoIndex = new Map(set.logos.map((l, i) => [l, i]));
  /**
   * per-logo similarities [L] of region r of image i, as the matcher scores logos (−∞: a logo
   * without references); multi-ref also its per-logo count [L] of references at or above the threshold
   */
  const logoScores = (i: number, r: number): { score: ArrayLike<number>; count?: Int32Array } => {
    if (o.method === 'averaged') return { score: row(p.logoSims[i]!, r) };
    const sims = row(p.refSims[i]!, r);
    // multi-ref's match similarity is the aggregate (a mean is below the best reference)
    if (o.method === 'multi-ref') return aggregatePerLogo(sims, p.index.refLabels, threshold, o.aggregation);
    const best = new Float64Array(set.logos.length).fill(-Infinity);
    for (let j = 0; j < sims.length; j++) {
      const l = p.index.refLabels.labels[j]!;
      if (sims[j]! > best[l]!) best[l] = sims[j]!;
    }
    return { score: best };
  };
  const simTo = (i: number, r: number, l: number): number => logoScores(i, r).score[l]!;
  /** The logo region r of image i scores highest, and (multi-ref) how many of its references reach the threshold. */
  const bestLogo = (i: number, r: number): { logo: string; sim: number; refsAtThreshold: number } => {
    const { score: sc, count } = logoScores(i, r);
    let b = 0;
    let s = -Infinity;
    for (let l = 0; l < set.logos.length; l++) {
      const v = sc[l]!;
      if (v > s) [b, s] = [l, v];
    }
    return { logo: set.logos[b]!, sim: s, refsAtThreshold: count?.[b] ?? 0 };
  };
  /**
   * Why a region that matched nothing did not match its best logo b (bestLogo's). b scores highest
   * of all logos (ties to the lower index, as in the matchers), so once it passes multi-ref's
   * min-refs it is the matcher's best candidate; simple matches every reference at or above the
   * threshold, so a region it left unmatched is below it.
   */
  const whyUnmatched = (b: { sim: number; refsAtThreshold: number }): Unmatched => {
    if (o.method === 'multi-ref') {
      // none of its references reaches the threshold: that says more than "fewer than min-refs"
      if (b.refsAtThreshold === 0) return 'threshold';
      if (b.refsAtThreshold < o.minMatchingRefs) return 'min-refs';
    }
    return b.sim >= threshold && o.method !== 'simple' ? 'margin' : 'threshold';
  };
  /**
   * The logos region r of image i holds: its gt box (IoU ≥ 0.5); without boxes to match (a folder
   * layout) or with one region for the whole image (--detector whole-image), the image's own labels.
   */
  const holds = (i: number, r: number): string[] => {
    const g = gt[i] ?? [];
    const regs = set.images[i]!.regions;
    const t = truthOf(regs[r]!.box, g);
    if (t !== null) return [t];
    return regs.length === 1 || g.every((x) => !x.box) ? [...new Set(g.map((x) => x.logo))].sort() : [];
  };
  const run = evaluate(p, { ...o, threshold }, counting);
  const fps: GalleryItem[] = [];
  const fns: GalleryItem[] = [];
  run.outcomes.forEach((out, i) => {
    const im = set.images[i]!;
    const exp = new Set(out.expected);
    const bestFalse = new Map<string, (typeof out.matches)[number]>();
    for (const m of out.matches) {
      if (exp.has(m.logo)) continue;
      const prev = bestFalse.get(m.logo);
      if (!prev || m.similarity > prev.similarity) bestFalse.set(m.logo, m);
    }
    for (const m of bestFalse.values()) {
      const box = im.regions[m.region]!.box;
      const truth = holds(i, m.region);
      fps.push({ image: im.name, imageIndex: i, box, takenFor: m.logo, takenForSimilarity: m.similarity, similarity: m.similarity, truth: truth.length ? truth.join(', ') : null });
    }
    const matched = new Set(out.matches.map((m) => m.logo));
    for (const l of [...exp].sort()) {
      if (matched.has(l)) continue;
      // the region holding l (of several, as without boxes: the one most similar to l)
      const li = logoIndex.get(l)!;
      let r = -1;
      for (let k = 0; k < im.regions.length; k++) if (holds(i, k).includes(l) && (r < 0 || simTo(i, k, li) > simTo(i, r, li))) r = k;
      if (r < 0) {
        fns.push({ image: im.name, imageIndex: i, box: null, takenFor: null, takenForSimilarity: null, similarity: null, truth: l });
        continue;
      }
      const got = out.matches.find((m) => m.region === r);
      const item: GalleryItem = { image: im.name, imageIndex: i, box: im.regions[r]!.box, takenFor: null, takenForSimilarity: null, similarity: simTo(i, r, li), truth: l };
      if (got) [item.takenFor, item.takenForSimilarity] = [got.logo, got.similarity];
      else {
        const b = bestLogo(i, r);
        [item.takenFor, item.takenForSimilarity, item.unmatched] = [b.logo, b.sim, whyUnmatched(b)];
      }
      fns.push(item);
    }
  });
  fps.sort((a, b) => b.similarity! - a.similarity! || a.imageIndex - b.imageIndex);
  fns.sort((a, b) => (a.similarity ?? -Infinity) - (b.similarity ?? -Infinity) || a.imageIndex - b.imageIndex);
  return { label, threshold, falsePositives: fps.slice(0, limit), falseNegatives: fns.slice(0, limit) };
}
