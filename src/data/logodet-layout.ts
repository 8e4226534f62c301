/**
 * The LogoDet-3K layout as prepare reads it: `<Category>/<Brand>/<stem>.{jpg,…}` + `<stem>.xml`
 * sources (scanDataset), and which brand folder an object's <name> names (objectBrandResolver).
 * A brand folder name found in two categories becomes the logo "Folder (Category)" the second time.
 */
import { statSync } from 'node:fs';
import { readdirUtf8 } from '../io/utf8-names.js';
import { basename, extname, join } from 'node:path';
import { LogolabError } from '../errors.js';
import { log } from '../util/log.js';
import { fileHash } from './sync.js';
import { decodeXml, parseVoc } from './voc.js';

export const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff'];

export interface Source {
  /** key: "<Category>/<Brand>/<stem>" */
  key: string;
  category: string;
  brand: string;
  stem: string;
  image?: string;
  xml?: string;
}

export interface BrandFolder {
  category: string;
  folder: string;
  /** logo name in the DB (folder name, or "Folder (Category)" on a cross-category collision) */
  name: string;
}

const sortStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Scans the dataset: brand folders (sorted), those scanned (`used`: the first N with --limit-brands) and their sources. */
export function scanDataset(dataset: string, limitBrands?: number): { brands: BrandFolder[]; used: BrandFolder[]; sources: Source[] } {
  if (!isDir(dataset)) throw new LogolabError(`--dataset ${dataset}: not a folder`);
  const brands: BrandFolder[] = [];
  const names = new Set<string>();
  // (folders with names that are not UTF-8 are refused; files at these levels are never read)
  for (const cat of readdirUtf8(dataset, () => false).sort(sortStr)) {
    if (cat.startsWith('.') || !isDir(join(dataset, cat))) continue;
    for (const b of readdirUtf8(join(dataset, cat), () => false).sort(sortStr)) {
      if (b.startsWith('.') || !isDir(join(dataset, cat, b))) continue;
      const name = names.has(b) ? `${b} (${cat})` : b;
      names.add(name);
      brands.push({ category: cat, folder: b, name });
    }
  }
  if (brands.length === 0) throw new LogolabError(`--dataset ${dataset}: no <Category>/<Brand>/ folders found (expected the LogoDet-3K layout)`);
  if (limitBrands !== undefined && (!Number.isInteger(limitBrands) || limitBrands < 1)) throw new LogolabError(`--limit-brands: ${String(limitBrands)} is not a positive integer`);
  const used = limitBrands ? brands.slice(0, limitBrands) : brands;
  const sources: Source[] = [];
  for (const bf of used) {
    const dir = join(dataset, bf.category, bf.folder);
    const byStem = new Map<string, Source>();
    let files = 0;
    for (const f of readdirUtf8(dir, (n) => !n.startsWith('.') && (IMAGE_EXTS.includes(extname(n).toLowerCase()) || extname(n).toLowerCase() === '.xml')).sort(sortStr)) {
      if (f.startsWith('.')) continue;
      const ext = extname(f).toLowerCase();
      const stem = basename(f, extname(f));
      const isImg = IMAGE_EXTS.includes(ext);
      if (!isImg && ext !== '.xml') continue;
      files++;
      let s = byStem.get(stem);
      if (!s) byStem.set(stem, (s = { key: `${bf.category}/${bf.folder}/${stem}`, category: bf.category, brand: bf.folder, stem }));
      if (ext === '.xml') s.xml = join(dir, f);
      else if (!s.image) s.image = join(dir, f);
      // several images with one stem share its XML: the first by name is the source, the others are named
      else log('warn', `prepare: ${bf.category}/${bf.folder}/${f} shares the stem '${stem}' with ${basename(s.image)}, which is the image of ${stem}.xml; ${f} is not ingested`);
    }
    if (files === 0) log('warn', `prepare: brand folder ${bf.category}/${bf.folder} is empty (no images or XML files); it has no data`);
    sources.push(...[...byStem.values()].sort((a, b) => sortStr(a.key, b.key)));
  }
  return { brands, used, sources };
}

/** The brand folder an object's <name> names, seen from the image's own folder (rules: prepare.ts's header). */
export function objectBrandResolver(brands: readonly BrandFolder[]): (name: string, own: BrandFolder) => BrandFolder {
  const nfc = (x: string) => x.normalize('NFC');
  const exact = new Map<string, BrandFolder[]>();
  const lower = new Map<string, BrandFolder[]>();
  const add = (m: Map<string, BrandFolder[]>, k: string, b: BrandFolder) => (m.get(k) ?? m.set(k, []).get(k)!).push(b);
  for (const b of brands) {
    add(exact, nfc(b.folder), b);
    add(lower, nfc(b.folder).toLowerCase(), b);
  }
  const pick = (list: BrandFolder[] | undefined, own: BrandFolder) => (list ? (list.includes(own) ? own : (list.find((b) => b.category === own.category) ?? list[0])) : undefined);
  return (name, own) => pick(exact.get(nfc(name)), own) ?? pick(lower.get(nfc(name).toLowerCase()), own) ?? own;
}

/**
 * Which recorded source keys ('<Category>/<Brand>/<stem>') a run over `used` (the first N of
 * `brands`) answers for, so that it removes what the same run without --limit-brands removes
 * there: those under a scanned brand folder, even one now empty, and those under a folder that is
 * gone but sorts among the scanned ones (it would have been scanned). Others are left alone.
 */
export function scopeOf(brands: readonly BrandFolder[], used: readonly BrandFolder[]): (key: string) => boolean {
  if (used.length === brands.length) return () => true;
  const scanned = new Set(used.map((b) => `${b.category}/${b.folder}`));
  const present = new Set(brands.map((b) => `${b.category}/${b.folder}`));
  const last = used[used.length - 1]!;
  return (key) => {
    const [category = '', folder = ''] = key.split('/');
    if (scanned.has(`${category}/${folder}`)) return true;
    if (present.has(`${category}/${folder}`)) return false;
    const c = sortStr(category, last.category);
    return c < 0 || (c === 0 && sortStr(folder, last.folder) <= 0);
  };
}

/**
 * Each source's signature (its progress row's; prepare keeps a recorded source whose signature is
 * unchanged) and, for a copy, the earlier source whose image has the same bytes.
 *
 * Besides its files' hashes (contentSignature's format) the signature holds what else decides its
 * rows, as a fresh prepare would write them: the brand folder, logo name and category each object's
 * <name> resolves to — which depend on the OTHER brand folders (a new `Food/Acme` renames
 * `Tech/Acme`'s logo; a new `Tech/Bolt` takes the objects named Bolt) — and the source its image
 * repeats. So adding or removing folders, or the first of two copies, re-ingests the sources whose
 * rows change, and a re-run equals a fresh prepare.
 *
 * Copies: the first source (in scan order) whose XML parses keeps an image content; a later
 * source with the same image bytes whose objects name no logo the first's do not is a duplicate
 * (prepare skips it), else an image-level split could put one photo in train and test. A copy that
 * names other logos (one photo filed under two brands, each annotating its own) is ingested, its
 * boxes being data the first lacks, and named in a warning (`sameBytesAs`). Sources that are
 * skipped anyway (no XML, a malformed one, an unreadable image) neither keep nor lose an image content.
 */
export interface SourcePlan {
  signature: string;
  /** an earlier source's image has the same bytes, and this one names no other logo: skipped */
  duplicateOf?: Source;
  /** an earlier source's image has the same bytes, but this one names other logos: ingested, warned */
  sameBytesAs?: Source;
}

/** Each source's signature and copy status, in source order; `onSource` is called after each (progress). */
export function planSources(sources: readonly Source[], brands: readonly BrandFolder[], onSource?: () => void): Map<string, SourcePlan> {
  const brandOf = objectBrandResolver(brands);
  const folderOf = new Map(brands.map((b) => [`${b.category}/${b.folder}`, b] as const));
  const firstWith = new Map<string, { source: Source; logos: Set<string> }>();
  const plans = new Map<string, SourcePlan>();
  for (const s of sources) {
    let xmlBytes: Buffer | undefined;
    const xmlHash = fileHash(s.xml, (b) => (xmlBytes = b));
    const imageHash = fileHash(s.image);
    let logos: string[] | null = null;
    if (xmlBytes && s.xml) {
      try {
        const own = folderOf.get(`${s.category}/${s.brand}`)!;
        const resolved = parseVoc(decodeXml(xmlBytes, s.xml), s.xml).objects.map((o) => brandOf(o.name, own));
        logos = [...new Set(resolved)].map((b) => `${b.category}/${b.folder}=${b.name}`);
      } catch {
        // a malformed XML: prepare skips the source, its hash already covers a fix
      }
    }
    let duplicateOf: Source | undefined;
    let sameBytesAs: Source | undefined;
    if (logos && /^[0-9a-f]{64}$/.test(imageHash)) {
      const first = firstWith.get(imageHash);
      if (!first) firstWith.set(imageHash, { source: s, logos: new Set(logos) });
      else if (logos.every((l) => first.logos.has(l))) duplicateOf = first.source;
      else sameBytesAs = first.source;
    }
    const signature = `sha256:${xmlHash}:${imageHash}|logos:${(logos ?? []).join(',')}${duplicateOf ? `|copy-of:${duplicateOf.key}` : ''}`;
    plans.set(s.key, { signature, ...(duplicateOf ? { duplicateOf } : {}), ...(sameBytesAs ? { sameBytesAs } : {}) });
    onSource?.();
  }
  return plans;
}

/** The first three [copy, original] pairs of a warning, as "copy = original". */
const firstPairs = (copies: [string, string][]) => copies.slice(0, 3).map(([c, o]) => `${c} = ${o}`).join(', ');

/** The warning for copies prepare ingested because they name other logos ([copy, original], dataset-relative, sorted): one line. */
export function sameBytesWarning(copies: [string, string][]): string {
  const pairs = firstPairs(copies) + (copies.length > 3 ? `, … (${copies.length} in all)` : '');
  return `prepare: ${pairs}: the same photo under two sources annotating other logos; both are ingested (their boxes differ), so an image-level split may put that photo on both sides — keep one source with all its boxes`;
}

/** The warning for the copies prepare skipped ([copy, original], dataset-relative, sorted): one line. */
export function duplicatesWarning(copies: [string, string][]): string {
  const what = copies.length === 1 ? `${copies[0]![0]} has the same bytes as ${copies[0]![1]}; the copy is` : `${copies.length} images have the same bytes as an earlier source's image (${firstPairs(copies)}${copies.length > 3 ? ', …' : ''}); they are`;
  return `prepare: ${what} not ingested (duplicate_image), so one photo cannot be in both train and test`;
}
