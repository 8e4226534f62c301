/**
 * Real brand logos from npm packages, grouped by brand, each with several renditions:
 *
 *  - `simple-icons` (CC0, ~3,500 brands): one-colour glyph + the brand's hex colour →
 *    renditions 'brand' (brand colour), 'black', 'white' (mono), 'inverted' (white glyph on a
 *    brand-colour plate), 'plate' (brand colour on a white plate).
 *  - `@iconify-json/logos` (~1,800 brands, full colour, often both a wordmark `x` and an icon
 *    `x-icon`, sometimes `-dark` / year variants) → 'colour', 'gray', 'plate' (on white) per variant.
 *
 * Brands from the two packs are joined on a normalised key (lowercase alphanumerics of the slug
 * without -icon/-dark/-YYYY suffixes), which is also the brand's folder/logo name: filesystem-
 * safe and free of '_' and '+', which the folder (Burnley) layout uses as separators.
 *
 * Disjoint brand sets: brandSet(slug) = 'A' when the first byte of sha256(slug) is even, else
 * 'B' — a fixed rule, independent of seed and package versions, so a model trained on set A
 * can be evaluated on unseen set B. The slugs are disjoint, not always the logos: a brand the
 * packs name differently can sit in both sets, or twice in set B; selectBrands skips such set-B
 * brands as labelled brands (set-aliases.ts). They stay in the distractor pool (writer), so one can
 * still appear unlabelled in a scene, even beside its labelled twin: taking them out would change
 * every set-B scene drawn so far.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LogolabError } from '../../errors.js';
import { makeRng } from '../../util/rng.js';
import { isSetBAlias, isSetBDuplicate, isSkippedInSetB } from './set-aliases.js';

export type BrandSet = 'A' | 'B' | 'all';

export interface Rendition {
  /** e.g. 'simple-icons:brand', 'logos:nike-icon:gray' */
  id: string;
  pack: 'simple-icons' | 'logos';
  style: 'brand' | 'black' | 'white' | 'inverted' | 'plate' | 'colour' | 'gray';
  /** SVG document without width/height (the renderer sets them) */
  svg: string;
  /** intrinsic aspect ratio width / height */
  aspect: number;
  /** true when the rendition carries its own opaque background plate */
  plated: boolean;
  /** 'wordmark' | 'icon' for the logos pack; 'glyph' for simple-icons */
  form: 'wordmark' | 'icon' | 'glyph';
}

export interface Brand {
  slug: string;
  title: string;
  set: 'A' | 'B';
  category: string;
  simpleIcon?: { slug: string; hex: string };
  logos: string[];
}

const require = createRequire(import.meta.url);
/** Root folder of an installed package (found from its main entry: not every package exports
 * its package.json). */
export function packageDir(pkg: string): string {
  let dir: string;
  try {
    dir = dirname(require.resolve(pkg));
  } catch {
    throw new LogolabError(`npm package '${pkg}' is not installed (needed by synth); run npm install`);
  }
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === pkg) return dir;
  }
  throw new LogolabError(`npm package '${pkg}': cannot find its folder`);
}

export function normaliseKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function brandSet(slug: string): 'A' | 'B' {
  return (createHash('sha256').update(slug).digest()[0]! & 1) === 0 ? 'A' : 'B';
}

/** Coarse alphabetical category (the packs carry no industry category; this one is honest). */
export function brandCategory(slug: string): string {
  const c = slug[0] ?? '0';
  if (c >= '0' && c <= '9') return '0-9';
  for (const [lo, hi] of [['a', 'e'], ['f', 'j'], ['k', 'o'], ['p', 't'], ['u', 'z']] as const) if (c >= lo && c <= hi) return `${lo.toUpperCase()}-${hi.toUpperCase()}`;
  return 'Other';
}

interface IconifyJson {
  icons: Record<string, { body: string; width?: number; height?: number }>;
  width?: number;
  height?: number;
}

let cache: { brands: Brand[]; logos: IconifyJson; siDir: string } | null = null;

function load() {
  if (cache) return cache;
  const siDir = join(packageDir('simple-icons'), 'icons');
  const siData = JSON.parse(readFileSync(join(packageDir('simple-icons'), 'data', 'simple-icons.json'), 'utf8')) as { title: string; slug: string; hex: string }[];
  const logos = JSON.parse(readFileSync(join(packageDir('@iconify-json/logos'), 'icons.json'), 'utf8')) as IconifyJson;
  const byKey = new Map<string, Brand>();
  const get = (key: string, title: string) => {
    let b = byKey.get(key);
    if (!b) byKey.set(key, (b = { slug: key, title, set: brandSet(key), category: brandCategory(key), logos: [] }));
    return b;
  };
  for (const s of siData) {
    const key = normaliseKey(s.slug);
    if (!key) continue;
    const b = get(key, s.title);
    if (!b.simpleIcon) b.simpleIcon = { slug: s.slug, hex: s.hex };
  }
  for (const name of Object.keys(logos.icons).sort()) {
    const base = name.replace(/(-icon)?(-dark)?(-\d{4})?$/, '').replace(/-icon$/, '');
    const key = normaliseKey(base);
    if (!key) continue;
    get(key, base.replace(/-/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase())).logos.push(name);
  }
  const brands = [...byKey.values()].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  cache = { brands, logos, siDir };
  return cache;
}

/** Every brand available, sorted by slug. */
export function listBrands(set: BrandSet = 'all'): Brand[] {
  const all = load().brands;
  return set === 'all' ? all.slice() : all.filter((b) => b.set === set);
}

/** Whether selectBrands can return the brand for this set: set B leaves out its aliases of set-A brands and its duplicates of other set-B brands (set-aliases.ts). */
function isDrawable(b: Brand, set: BrandSet = 'all'): boolean {
  return set !== 'B' || !isSkippedInSetB(b.slug);
}

/** The brands selectBrands draws from, sorted by slug (listBrands less what isDrawable leaves out). */
export function drawableBrands(set: BrandSet = 'all'): Brand[] {
  return listBrands(set).filter((b) => isDrawable(b, set));
}

/** What drawableBrands leaves out of a set, e.g. ' (67 aliases of set-A brands and 33 duplicates of set-B brands left out)'; '' when nothing. */
export function leftOutNote(set: BrandSet = 'all'): string {
  const out = listBrands(set).filter((b) => !isDrawable(b, set));
  if (out.length === 0) return '';
  const aliases = out.filter((b) => isSetBAlias(b.slug)).length, duplicates = out.filter((b) => isSetBDuplicate(b.slug)).length;
  return ` (${[aliases ? `${aliases} aliases of set-A brands` : '', duplicates ? `${duplicates} duplicates of set-B brands` : ''].filter(Boolean).join(' and ')} left out)`;
}

/**
 * N brands, a deterministic function of (seed, set, catalogue): brands with renditions from both
 * packs first (richer appearance variety), each tier shuffled by the seeded generator. Set B
 * skips its aliases of set-A brands and its duplicates of other set-B brands (set-aliases.ts) in
 * draw order, taking the next brand: the shuffle runs over the same pool as without them, so a
 * draw that meets none is unchanged.
 */
export function selectBrands(opts: { seed: number; count: number; set?: BrandSet }): Brand[] {
  const set = opts.set ?? 'all';
  const pool = listBrands(set);
  const drawable = (b: Brand) => isDrawable(b, set);
  const available = pool.filter(drawable).length;
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new LogolabError(`--brands: ${String(opts.count)} is not a positive integer`);
  if (opts.count > available) throw new LogolabError(`--brands: ${opts.count} requested but brand set ${set} has ${available}${leftOutNote(set)}`);
  const rng = makeRng(`synth-brands:${opts.seed}`);
  const rich = rng.shuffle(pool.filter((b) => b.simpleIcon && b.logos.length > 0));
  const rest = rng.shuffle(pool.filter((b) => !(b.simpleIcon && b.logos.length > 0)));
  return [...rich, ...rest].filter(drawable).slice(0, opts.count);
}

function hexRgb(hex: string): [number, number, number] {
  const v = parseInt(hex, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function luminance([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function esc(s: string) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

const renditionCache = new Map<string, Rendition[]>();

/** All renditions of a brand (stable order). */
export function renditions(brand: Brand): Rendition[] {
  const hit = renditionCache.get(brand.slug);
  if (hit) return hit;
  const { logos, siDir } = load();
  const out: Rendition[] = [];
  if (brand.simpleIcon) {
    const file = join(siDir, `${brand.simpleIcon.slug}.svg`);
    const raw = readFileSync(file, 'utf8');
    const paths = [...raw.matchAll(/<path\b[^>]*\bd="([^"]+)"/g)].map((m) => m[1]!);
    if (paths.length === 0) throw new LogolabError(`${file}: no <path d=…> found`);
    const d = paths.join(' ');
    const hex = brand.simpleIcon.hex;
    const rgb = hexRgb(hex);
    // very light or very dark brand colours still read as "brand" on a contrasting background
    const glyph = (fill: string, plate?: string) => {
      const pad = 4;
      return plate
        ? `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${-pad} ${-pad} ${24 + 2 * pad} ${24 + 2 * pad}"><rect x="${-pad}" y="${-pad}" width="${24 + 2 * pad}" height="${24 + 2 * pad}" rx="5" fill="${plate}"/><path fill="${fill}" d="${esc(d)}"/></svg>`
        : `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="${fill}" d="${esc(d)}"/></svg>`;
    };
    out.push({ id: 'simple-icons:brand', pack: 'simple-icons', style: 'brand', svg: glyph(`#${hex}`), aspect: 1, plated: false, form: 'glyph' });
    out.push({ id: 'simple-icons:black', pack: 'simple-icons', style: 'black', svg: glyph('#111111'), aspect: 1, plated: false, form: 'glyph' });
    out.push({ id: 'simple-icons:white', pack: 'simple-icons', style: 'white', svg: glyph('#ffffff'), aspect: 1, plated: false, form: 'glyph' });
    const plateInk = luminance(rgb) > 200 ? '#111111' : '#ffffff';
    out.push({ id: 'simple-icons:inverted', pack: 'simple-icons', style: 'inverted', svg: glyph(plateInk, `#${hex}`), aspect: 1, plated: true, form: 'glyph' });
    const onWhite = luminance(rgb) > 200 ? '#111111' : `#${hex}`;
    out.push({ id: 'simple-icons:plate', pack: 'simple-icons', style: 'plate', svg: glyph(onWhite, '#ffffff'), aspect: 1, plated: true, form: 'glyph' });
  }
  const dw = logos.width ?? 16;
  const dh = logos.height ?? 16;
  for (const name of brand.logos) {
    const ic = logos.icons[name]!;
    const w = ic.width ?? dw;
    const h = ic.height ?? dh;
    const form = /-icon(-dark)?(-\d{4})?$/.test(name) ? 'icon' : 'wordmark';
    const base = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}">${ic.body}</svg>`;
    const pad = Math.round(Math.max(w, h) * 0.12);
    const plate = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${-pad} ${-pad} ${w + 2 * pad} ${h + 2 * pad}"><rect x="${-pad}" y="${-pad}" width="${w + 2 * pad}" height="${h + 2 * pad}" rx="${pad}" fill="#ffffff"/>${ic.body}</svg>`;
    out.push({ id: `logos:${name}:colour`, pack: 'logos', style: 'colour', svg: base, aspect: w / h, plated: false, form });
    out.push({ id: `logos:${name}:gray`, pack: 'logos', style: 'gray', svg: base, aspect: w / h, plated: false, form });
    out.push({ id: `logos:${name}:plate`, pack: 'logos', style: 'plate', svg: plate, aspect: (w + 2 * pad) / (h + 2 * pad), plated: true, form });
  }
  renditionCache.set(brand.slug, out);
  return out;
}

/**
 * One drawing of a brand: its simple-icons glyph (every colour style of it) or one iconify icon
 * (colour, gray, plate). Renditions of one shape differ only in colour and backing plate, so they
 * are the same identity for shape-level labels (`synth --label-by shape`); a brand's wordmark and
 * its icon are two shapes.
 */
export interface Shape {
  /** `<brand slug>-<k>`, k = 1-based index in renditions() order (filesystem-safe, no '_' or '+') */
  label: string;
  brand: Brand;
  renditions: Rendition[];
}

/** The brand's shapes, in renditions() order (the simple-icons glyph first). */
export function shapes(brand: Brand): Shape[] {
  const groups = new Map<string, Rendition[]>();
  for (const r of renditions(brand)) {
    const key = r.pack === 'simple-icons' ? 'simple-icons' : r.id.slice(0, r.id.lastIndexOf(':'));
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((rs, i) => ({ label: `${brand.slug}-${i + 1}`, brand, renditions: rs }));
}
