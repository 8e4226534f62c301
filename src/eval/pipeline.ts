/**
 * The one embedding pass: sampled reference crops + proposed regions of sampled test images →
 * embeddings (through the SQLite cache) → EmbeddedSet. Each file is decoded at most once, and
 * not at all when every crop of it is cached and the proposer needs no pixels. A proposer that
 * needs pixels (DETR) works on chunks of PIXEL_CHUNK images: each is decoded once, proposed on,
 * and its uncached crops are cut from the same pixels before the chunk is let go (bounded memory).
 */
import { LogolabError, namingErrors } from '../errors.js';
import { decodeImage, cropImage, type RgbImage } from '../preprocess/image.js';
import { assertFiniteEmbedding } from '../embed/embedder.js';
import { firstNonFinite } from '../util/finite.js';
import { Progress } from '../util/progress.js';
import type { CropEncoder } from './encoder.js';
import { cacheKey, FileHasher, type EmbeddingCache } from './cache.js';
import type { RegionProposer, Proposal } from './proposals.js';
import type { DatasetImage, DatasetRef } from './dataset.js';
import type { EmbeddedSet, EvalImage, EvalRef } from './types.js';
import type { Box } from '../util/box.js';

export interface EmbedOptions {
  cache?: EmbeddingCache | null;
  batchSize?: number;
  quiet?: boolean;
  /** file → pixels (default decodeImage; tests count the calls) */
  decode?: (path: string) => Promise<RgbImage>;
  /** test images held decoded at once for a proposer that needs pixels (default PIXEL_CHUNK) */
  pixelChunk?: number;
}

/** Test images whose decoded pixels are held at once when the proposer needs pixels. */
export const PIXEL_CHUNK = 32;

interface Item {
  path: string;
  box: Box | null;
  /** the size the data dir recorded for the picture the box was drawn on */
  size?: { width: number; height: number };
  key: string;
  out?: Float32Array;
}

/** Embeds crops of files (box null = the whole file), using and filling the cache. */
export async function embedItems(encoder: CropEncoder, items: Omit<Item, 'key' | 'out'>[], o: EmbedOptions = {}, preloaded?: Map<string, RgbImage>): Promise<Float32Array[]> {
  const hasher = new FileHasher();
  const all: Item[] = items.map((it) => ({ ...it, key: cacheKey(encoder.fingerprint, encoder.preprocess, hasher.hash(it.path), it.box) }));
  const todo: Item[] = [];
  for (const it of all) {
    const c = o.cache?.get(it.key);
    if (c && firstNonFinite(c) < 0) it.out = c; // a NaN entry (written by an older logolab) is recomputed
    else todo.push(it);
  }
  // group by file so each is decoded once; dedupe identical keys
  const byKey = new Map<string, Item[]>();
  for (const it of todo) (byKey.get(it.key) ?? byKey.set(it.key, []).get(it.key)!).push(it);
  const uniq = [...byKey.values()].map((v) => v[0]!);
  uniq.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bs = Math.max(1, o.batchSize ?? 16);
  const decode = o.decode ?? decodeImage;
  const prog = new Progress({ label: 'embed', total: uniq.length, unit: 'crop', quiet: o.quiet || uniq.length === 0 });
  let decodedPath = '';
  let decoded: RgbImage | null = null;
  for (let s = 0; s < uniq.length; s += bs) {
    const batch = uniq.slice(s, s + bs);
    const imgs: RgbImage[] = [];
    for (const it of batch) {
      if (it.path !== decodedPath) {
        decoded = preloaded?.get(it.path) ?? (await decode(it.path));
        decodedPath = it.path;
        // the boxes were recorded on a picture of this size: a file replaced since (another photo
        // under the same name) had its ground truth cropped from the wrong pixels, without a word
        if (it.size && (it.size.width !== decoded.width || it.size.height !== decoded.height)) {
          throw new LogolabError(`${it.path}: the image is ${decoded.width}x${decoded.height}, but its data dir recorded ${it.size.width}x${it.size.height}: the file changed since it was prepared, and its boxes belong to the other picture; re-run logolab prepare`);
        }
      }
      // a crop the image cannot give names its file: cropImage sees only pixels
      imgs.push(it.box ? namingErrors(it.path, () => cropImage(decoded!, it.box!)) : decoded!);
    }
    const names = batch.map((it) => (it.box ? `${it.path} box [${it.box.join(', ')}]` : it.path));
    const embs = await encoder.embed(imgs, names);
    // any encoder: a NaN/Inf embedding is an error naming its crop, never cached, never matched
    embs.forEach((e, i) => assertFiniteEmbedding(e, names[i]!));
    o.cache?.putMany(batch.map((it, i) => [it.key, embs[i]!]));
    batch.forEach((it, i) => {
      for (const same of byKey.get(it.key)!) same.out = embs[i]!;
    });
    prog.tick(batch.length);
  }
  if (uniq.length) prog.finish();
  return all.map((it) => it.out!);
}

/** The full embedding pass over a set of references and test images. */
export async function embedSet(
  encoder: CropEncoder,
  proposer: RegionProposer,
  refs: DatasetRef[],
  images: (DatasetImage & { expected?: string[] })[],
  logos: string[],
  o: EmbedOptions = {},
  meta: Record<string, unknown> = {},
): Promise<EmbeddedSet> {
  const refItems = refs.map((r) => ({ path: r.path, box: null }));
  // a recorded size (0: unknown, e.g. an exchange file's) is checked against the decoded picture
  const sizeOf = (im: DatasetImage) => (im.width > 0 && im.height > 0 ? { size: { width: im.width, height: im.height } } : {});
  const regionItems = (ims: DatasetImage[], props: Proposal[][]) => ims.flatMap((im, i) => props[i]!.map((p) => ({ path: im.path, box: p.box as Box | null, ...sizeOf(im) })));
  const proposals: Proposal[][] = [];
  let embs: Float32Array[];
  if (!proposer.needsPixels) {
    for (const im of images) proposals.push(await proposer.propose(im, null));
    embs = await embedItems(encoder, [...refItems, ...regionItems(images, proposals)], o);
  } else {
    embs = await embedItems(encoder, refItems, o);
    const decode = o.decode ?? decodeImage;
    const prog = new Progress({ label: `propose + embed (${proposer.name})`, total: images.length, unit: 'img', quiet: o.quiet });
    const step = Math.max(1, o.pixelChunk ?? PIXEL_CHUNK);
    for (let s = 0; s < images.length; s += step) {
      const chunk = images.slice(s, s + step);
      const pixels = new Map<string, RgbImage>();
      for (const im of chunk) {
        const rgb = pixels.get(im.path) ?? (await decode(im.path));
        pixels.set(im.path, rgb);
        proposals.push(await proposer.propose(im, rgb));
      }
      embs.push(...(await embedItems(encoder, regionItems(chunk, proposals.slice(s)), { ...o, quiet: true }, pixels)));
      prog.tick(chunk.length);
    }
    prog.finish();
  }
  const outRefs: EvalRef[] = refs.map((r, j) => ({ id: r.id, logo: r.logo, embedding: embs[j]!, source: r.path, ...(r.box ? { box: r.box } : {}) }));
  let k = refs.length;
  const logoSet = new Set(logos);
  const outImages: EvalImage[] = images.map((im, i) => ({
    id: im.id,
    name: im.name,
    expected: im.expected ?? [...new Set(im.gt.map((g) => g.logo).filter((l) => logoSet.has(l)))].sort(),
    regions: proposals[i]!.map((p, r) => ({ id: `${im.id}#${r}`, box: p.box, score: p.score, embedding: embs[k++]! })),
  }));
  return { logos: [...logos].sort(), refs: outRefs, images: outImages, meta: { model: encoder.name, fingerprint: encoder.fingerprint, preprocess: encoder.preprocess, detector: proposer.name, ...(proposer.fingerprint ? { detectorFingerprint: proposer.fingerprint } : {}), ...(proposer.settings ? { detectorSettings: proposer.settings } : {}), ...meta } };
}
