/** What `logolab synth` is asked for (SynthOptions) and what it reports (SynthSummary); the writer is writer.ts. */
import type { BrandSet } from './sources.js';

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

/** Largest scene side: a 4096² scene's float canvas is already 200 MB, and sharp refuses past 16383 px */
export const MAX_SCENE_SIDE = 4096;
