/**
 * The evaluation's view of a dataset: logos, reference crops and test images with ground truth.
 * Built from a prepared data dir (src/data/db.ts) or read back from an embeddings exchange file,
 * so sampling works the same on both and `--embeddings` gives the same sample as computing in place.
 */
import type { Metadata } from 'sharp';
import { basename } from 'node:path';
import { openDataDb } from '../data/db.js';
import { readFolderDataset } from '../data/folders.js';
import { LogolabError, firstLine } from '../errors.js';
import { notRegularFile } from '../io/file-kind.js';
import { imageMetadata } from '../preprocess/image.js';
import type { Box } from '../util/box.js';

export interface DatasetRef {
  id: string;
  logo: string;
  /** the crop file (embedded whole) */
  path: string;
  /** image id the crop was cut from (excluded from the test images when the crop is sampled) */
  sourceImage?: string;
  /** the crop's box in its source image (information only) */
  box?: Box;
}

export interface DatasetImage {
  id: string;
  name: string;
  path: string;
  width: number;
  height: number;
  /** ground-truth objects (empty = negative); boxes may be absent (folder layout) */
  gt: { logo: string; box?: Box }[];
}

export interface DatasetIndex {
  /** where it came from (data dir or exchange file) */
  source: string;
  /** 'folders': the Burnley layout (read directly, or a data dir prepared from one): evaluated whole, no sampling */
  layout?: 'folders';
  logos: string[];
  refs: DatasetRef[];
  images: DatasetImage[];
}

export function datasetFromDataDir(dir: string): DatasetIndex {
  const db = openDataDb(dir);
  try {
    const folders = db.layout() === 'folders';
    const refs = db.referenceCrops().map((c) => ({ id: `ref:${c.id}`, logo: c.logoName, path: c.path, ...(c.sourceImageId !== null ? { sourceImage: `img:${c.sourceImageId}`, box: c.box } : {}) }));
    const gt = db.groundTruthAll();
    const images = db.testImages().map((t) => ({
      id: `img:${t.id}`,
      name: t.file,
      path: t.path,
      width: t.width,
      height: t.height,
      gt: (gt.get(t.id) ?? []).map((g) => (g.box ? { logo: g.logoName, box: g.box } : { logo: g.logoName })),
    }));
    const logos = [...new Set([...refs.map((r) => r.logo), ...images.flatMap((i) => i.gt.map((g) => g.logo))])].sort();
    return { source: db.dir, logos, refs, images, ...(folders ? { layout: 'folders' as const } : {}) };
  } finally {
    db.close();
  }
}

/**
 * The Burnley folder layout (src/data/folders.ts): every reference image of every logo, every test
 * image, ground truth from filename prefixes, no boxes (use whole-image or detr:<dir> regions).
 * Image sizes come from the file headers (EXIF orientation applied, as decodeImage does).
 */
export async function datasetFromFolders(root: string): Promise<DatasetIndex> {
  const fd = readFolderDataset(root);
  const refs: DatasetRef[] = fd.logos.flatMap((l) => l.references.map((p) => ({ id: `ref:${l.name}/${basename(p)}`, logo: l.name, path: p })));
  const images: DatasetImage[] = [];
  for (const t of fd.testImages) {
    let m: Metadata;
    const special = notRegularFile(t.path);
    if (special) throw new LogolabError(`cannot read image ${special}`);
    try {
      m = await imageMetadata(t.path);
    } catch (e) {
      throw new LogolabError(`cannot read image ${t.path}: ${firstLine(e)}`);
    }
    const swap = (m.orientation ?? 1) >= 5;
    images.push({ id: `img:${t.file}`, name: t.file, path: t.path, width: (swap ? m.height : m.width) ?? 0, height: (swap ? m.width : m.height) ?? 0, gt: t.expected.map((logo) => ({ logo })) });
  }
  return { source: fd.root, logos: fd.logos.map((l) => l.name).sort(), refs, images, layout: 'folders' };
}
