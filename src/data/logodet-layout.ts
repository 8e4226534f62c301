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

/** Scans the dataset: brand folders (sorted) and their sources. */
export function scanDataset(dataset: string, limitBrands?: number): { brands: BrandFolder[]; sources: Source[] } {
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
  return { brands, sources };
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
