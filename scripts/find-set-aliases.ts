/**
 * Candidate cross-set aliases of the synth brand catalogue: a set-B brand (sources.ts brandSet)
 * whose logo is also drawn under another name in set A. The two npm packs name some brands
 * differently (simple-icons `googlechrome`, iconify `chrome`), and each name is hashed on its own,
 * so one logo can fall in both sets and a set-A model has then seen a "held-out" set-B brand.
 * This script only proposes pairs; a person judges them (look at the sheet), and the confirmed
 * ones go into src/data/synth/set-aliases.ts.
 *
 *   npx tsx scripts/find-set-aliases.ts <out dir> [--top N] [--min-score S] [--within-b]
 *
 * --within-b compares set B with itself instead (two set-B brands with one logo: the iconify
 * variants `x-monochromatic`, `x-icon-round`, `x-2`, … that normaliseKey keeps apart, or two pack
 * names for one brand): the same finders over every pair of drawings of two different set-B
 * brands, each pair reported once (the two slugs in sorted order, as `b` and `a`), and CSLS taken
 * over the other set-B brands' drawings. Confirmed pairs go into set-aliases.ts's
 * SET_B_DUPLICATES.
 *
 * Three finders, each over every drawing (sources.ts shapes(): a simple-icons glyph, an iconify
 * icon) of every brand of set B against every drawing of set A:
 *   exact       byte-identical drawing: the glyph's path data or the icon's body with its ids
 *               renumbered; also any single <path d> shared by drawings of the two sets
 *   name        one slug is the other with a word before or after it (googlechrome / chrome,
 *               kissmetrics / kissmetricsmonochromatic; the shorter at least 4 letters), or a
 *               simple-icons title / alias / iconify name of one brand normalises to a name of
 *               the other
 *   perceptual  each drawing (a glyph in black, an icon in colour) rendered, cut to its ink box
 *               and stretched to 32×32 as two maps: ink (opaque and far from white, by the
 *               smallest channel, so white details are holes as in a glyph) and its edge
 *               magnitude. score = the mean Pearson correlation of the two maps (−1 when the ink
 *               boxes' aspects differ by more than 1.3×: a wordmark is not an icon). Ranked by
 *               CSLS (2·score − each drawing's mean score to its 10 nearest drawings of the other
 *               set), so a plain disc that is near every disc ranks below a pair that stands out.
 *               Each B drawing proposes its best A drawing; reported: the --top (default 150)
 *               brand pairs by CSLS, at least --min-score (default 0).
 * Writes <out dir>/candidates.json (every candidate: B slug, A slug, the finders that proposed it,
 * its best drawing pair by CSLS, that pair's score and CSLS) and candidates-<k>.png (contact sheets, 40 pairs each:
 * B drawing left, A drawing right, numbered as in the JSON). <out dir> must not exist yet.
 *
 * Limits: a plain shape (a circle, a letter in a square) correlates with many unrelated logos, so
 * the perceptual score proposes, never decides; a restyled logo (new colours and a new outline)
 * can score low; a wordmark is never compared with an icon, so a brand whose two names carry
 * different forms (wordmark only in B, icon only in A) is found by name, if at all; and the name
 * finder proposes many unrelated pairs (google / googledrive), judged by eye like the rest.
 * With simple-icons 16.37.0 and @iconify-json/logos 1.2.19 (2,941 B × 2,832 A drawings, about
 * 1–2 min): 661 candidates (exact 1, shared path 18, name 529, perceptual 150), 65 confirmed
 * (two more, androidvertical and nodejsiconalt, were found while judging set B with itself).
 * --within-b --top 200 (2,941 drawings, under a minute): 428 candidates (exact 0, shared path 17,
 * name 226, perceptual 200), 33 confirmed.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withAtomicDir, writeFileAtomic } from '../src/io/atomic.js';
import { sizedSvg } from '../src/data/synth/render.js';
import { listBrands, normaliseKey, packageDir, shapes, type Brand, type Rendition, type Shape } from '../src/data/synth/sources.js';

/** shortest slug that the name finder extends by a word (shorter ones are inside too many names) */
const MIN_AFFIX_STEM = 4;
const SIDE = 32;
/** largest ratio of two drawings' ink-box aspects still compared */
const MAX_ASPECT_RATIO = 1.3;

interface Drawing {
  shape: Shape;
  /** the rendition compared: a glyph in black, an icon in colour */
  rendition: Rendition;
  /** exact fingerprint: glyph path data or icon body with ids renumbered */
  body: string;
  paths: string[];
  /** [SIDE*SIDE] per map, zero mean and unit norm (all zeros for a blank map) */
  maps?: Float32Array[];
  /** width / height of the ink box */
  aspect?: number;
}

interface Candidate {
  b: string;
  a: string;
  finders: Set<string>;
  reasons: string[];
  score: number;
  csls: number;
  bDrawing?: Drawing;
  aDrawing?: Drawing;
}

/** The compared rendition of a shape: the simple-icons glyph in black, an iconify icon in colour. */
function drawingOf(shape: Shape): Drawing {
  const r = shape.renditions.find((x) => x.style === 'black' || x.style === 'colour') ?? shape.renditions[0]!;
  const inner = r.svg.replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '');
  // iconify prefixes ids with the icon's own name: renumber them in order of appearance
  const ids = new Map<string, string>();
  for (const m of inner.matchAll(/\bid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `i${ids.size}`);
  let body = inner.replace(/\s+/g, ' ');
  for (const [from, to] of ids) body = body.split(from).join(to);
  if (r.pack === 'simple-icons') body = body.replace(/ fill="[^"]*"/, '');
  const paths = [...inner.matchAll(/\bd="([^"]+)"/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim()).filter((d) => d.length >= 40);
  return { shape, rendition: r, body, paths };
}

async function renderRgba(r: Rendition, side: number): Promise<Buffer> {
  // rendered at twice the side, then fitted into the square
  return sharp(Buffer.from(sizedSvg(r, side * 2))).ensureAlpha().resize(side, side, { fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 0 } }).ensureAlpha().raw().toBuffer();
}

function standardise(v: Float32Array): Float32Array {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - m) ** 2;
  const s = ss > 1e-9 ? 1 / Math.sqrt(ss) : 0;
  for (let i = 0; i < v.length; i++) v[i] = (v[i]! - m) * s;
  return v;
}

/**
 * Darkness on white, alpha, and edge magnitude of the darkness map, each [SIDE*SIDE], of the
 * drawing's ink box (alpha > 0.1) stretched to a square, and that box's aspect. Stretched, not
 * padded: padding puts every wide drawing with an opaque backing into one identical band, which
 * correlates perfectly with any other; the aspect is compared on its own instead.
 */
export async function mapsOf(r: Rendition): Promise<{ maps: Float32Array[]; aspect: number }> {
  const L = 4 * SIDE;
  const px = await renderRgba(r, L);
  let x0 = L, y0 = L, x1 = -1, y1 = -1;
  for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) if (px[4 * (y * L + x) + 3]! > 25) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  const n = SIDE * SIDE;
  if (x1 < 0) return { maps: [new Float32Array(n), new Float32Array(n)], aspect: 1 };
  const box = { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  const sq = await sharp(px, { raw: { width: L, height: L, channels: 4 } }).extract(box).resize(SIDE, SIDE, { fit: 'fill' }).raw().toBuffer();
  // ink: how far an opaque pixel is from white, by its smallest channel, so a saturated yellow is
  // ink as much as black, and a colour logo's white details are holes as in a one-colour glyph
  const ink = new Float32Array(n), edge = new Float32Array(n);
  for (let i = 0; i < n; i++) ink[i] = (sq[4 * i + 3]! / 255) * (1 - Math.min(sq[4 * i]!, sq[4 * i + 1]!, sq[4 * i + 2]!) / 255);
  for (let y = 1; y < SIDE - 1; y++) for (let x = 1; x < SIDE - 1; x++) {
    const d = (dy: number, dx: number) => ink[(y + dy) * SIDE + x + dx]!;
    const gx = d(-1, 1) + 2 * d(0, 1) + d(1, 1) - d(-1, -1) - 2 * d(0, -1) - d(1, -1);
    const gy = d(1, -1) + 2 * d(1, 0) + d(1, 1) - d(-1, -1) - 2 * d(-1, 0) - d(-1, 1);
    edge[y * SIDE + x] = Math.hypot(gx, gy);
  }
  return { maps: [standardise(ink), standardise(edge)], aspect: box.width / box.height };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Every form a brand is known by: slug, simple-icons slug, title and aliases, iconify names. */
function namesOf(b: Brand, siMeta: Map<string, string[]>): Set<string> {
  const out = new Set([b.slug, normaliseKey(b.title)]);
  if (b.simpleIcon) for (const n of siMeta.get(b.simpleIcon.slug) ?? []) out.add(normaliseKey(n));
  for (const l of b.logos) out.add(normaliseKey(l.replace(/(-icon)?(-dark)?(-\d{4})?$/, '')));
  out.delete('');
  return out;
}

function simpleIconsMeta(): Map<string, string[]> {
  type Entry = { slug: string; title: string; aliases?: { aka?: string[]; dup?: { title: string }[]; loc?: Record<string, string> } };
  const data = JSON.parse(readFileSync(join(packageDir('simple-icons'), 'data', 'simple-icons.json'), 'utf8')) as Entry[];
  return new Map(data.map((e) => [e.slug, [e.title, ...(e.aliases?.aka ?? []), ...(e.aliases?.dup ?? []).map((d) => d.title), ...Object.values(e.aliases?.loc ?? {})]]));
}

/** One slug is the other with a word before or after it (googlechrome/chrome, kissmetrics/kissmetricsmonochromatic). */
function nameRule(x: string, y: string): string | null {
  if (x === y) return 'same name';
  for (const [long, short] of [[x, y], [y, x]] as const) {
    if (short.length < MIN_AFFIX_STEM || long.length <= short.length) continue;
    if (long.startsWith(short)) return `'${short}' + '${long.slice(short.length)}'`;
    if (long.endsWith(short)) return `'${long.slice(0, long.length - short.length)}' + '${short}'`;
  }
  return null;
}

async function sheet(path: string, items: { k: number; c: Candidate }[], sides: string[]): Promise<void> {
  const T = 96, cellW = 2 * T + 12, cellH = T + 34, cols = 4, rows = Math.ceil(items.length / cols);
  const W = cols * cellW + (cols + 1) * 8, H = rows * cellH + (rows + 1) * 8;
  const comps: OverlayOptions[] = [];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  let text = '';
  for (const [i, { k, c }] of items.entries()) {
    const ox = 8 + (i % cols) * (cellW + 8), oy = 8 + Math.floor(i / cols) * (cellH + 8);
    for (const [j, d] of [c.bDrawing, c.aDrawing].entries()) {
      if (!d) continue;
      const tile = await sharp(await renderRgba(d.rendition, T), { raw: { width: T, height: T, channels: 4 } }).flatten({ background: '#ffffff' }).png().toBuffer();
      comps.push({ input: tile, left: ox + j * (T + 12), top: oy });
    }
    text += `<text x="${ox}" y="${oy + T + 14}" font-size="12" font-family="DejaVu Sans" fill="#fff">${k}. ${esc(c.b)} (${sides[0]}) ~ ${esc(c.a)} (${sides[1]})</text>`;
    text += `<text x="${ox}" y="${oy + T + 28}" font-size="11" font-family="DejaVu Sans" fill="#ccc">${c.score.toFixed(2)} csls ${c.csls.toFixed(2)} ${esc([...c.finders].join('+'))}</text>`;
  }
  comps.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${text}</svg>`), left: 0, top: 0 });
  writeFileAtomic(path, await sharp({ create: { width: W, height: H, channels: 3, background: '#333333' } }).composite(comps).png().toBuffer());
}

async function main(argv: string[]): Promise<void> {
  const out = argv[0];
  const opt = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    const v = i < 0 ? dflt : Number(argv[i + 1]);
    if (!Number.isFinite(v)) throw new Error(`${flag}: '${argv[i + 1]}' is not a number`);
    return v;
  };
  if (!out || out.startsWith('--')) throw new Error('usage: find-set-aliases.ts <out dir> [--top N] [--min-score S] [--within-b]');
  if (existsSync(out)) throw new Error(`${out}: exists; give a new folder`);
  const top = opt('--top', 150), minScore = opt('--min-score', 0);
  // within B: the "A" side is set B itself (the same drawings), a pair of one brand is no candidate,
  // and each pair is kept once, its slugs in sorted order
  const within = argv.includes('--within-b');
  const sides = within ? ['B', 'B'] : ['B', 'A'];

  const siMeta = simpleIconsMeta();
  const setB = listBrands('B'), setA = within ? setB : listBrands('A');
  const drawingsB = setB.flatMap((b) => shapes(b).map(drawingOf)), drawingsA = within ? drawingsB : setA.flatMap((b) => shapes(b).map(drawingOf));
  const cands = new Map<string, Candidate>();
  // the finders skip a brand against itself (possible within B only)
  const cand = (x: string, y: string): Candidate => {
    const [b, a] = within && y < x ? [y, x] : [x, y];
    const key = `${b} ${a}`;
    let c = cands.get(key);
    if (!c) cands.set(key, (c = { b, a, finders: new Set(), reasons: [], score: -1, csls: -9 }));
    return c;
  };

  // exact drawings and shared paths
  const bodyA = new Map<string, Drawing[]>(), pathA = new Map<string, Drawing[]>();
  for (const d of drawingsA) {
    bodyA.set(d.body, [...(bodyA.get(d.body) ?? []), d]);
    for (const p of d.paths) pathA.set(p, [...(pathA.get(p) ?? []), d]);
  }
  for (const d of drawingsB) {
    for (const a of bodyA.get(d.body) ?? []) {
      if (a.shape.brand === d.shape.brand) continue;
      const c = cand(d.shape.brand.slug, a.shape.brand.slug);
      c.finders.add('exact');
      c.reasons.push(`${d.shape.label} and ${a.shape.label} are byte-identical drawings`);
    }
    for (const p of d.paths) for (const a of pathA.get(p) ?? []) {
      if (a.shape.brand === d.shape.brand) continue;
      const c = cand(d.shape.brand.slug, a.shape.brand.slug);
      if (c.finders.has('exact')) continue;
      c.finders.add('path');
      c.reasons.push(`${d.shape.label} and ${a.shape.label} share a path (${p.length} chars)`);
    }
  }

  // names
  const nameA = new Map<string, Brand[]>();
  for (const b of setA) for (const n of namesOf(b, siMeta)) nameA.set(n, [...(nameA.get(n) ?? []), b]);
  for (const b of setB) {
    const mine = namesOf(b, siMeta);
    for (const n of mine) for (const a of nameA.get(n) ?? []) {
      if (a === b) continue;
      const c = cand(b.slug, a.slug);
      c.finders.add('name');
      c.reasons.push(`both known as '${n}'`);
    }
    for (const a of setA) {
      if (a === b) continue;
      const rule = nameRule(b.slug, a.slug);
      if (rule) {
        const c = cand(b.slug, a.slug);
        c.finders.add('name');
        c.reasons.push(`slugs differ by ${rule}`);
      }
    }
  }

  // perceptual
  const drawings = within ? drawingsB : [...drawingsA, ...drawingsB];
  process.stderr.write(`rendering ${drawings.length} drawings at ${SIDE} px…\n`);
  for (const d of drawings) Object.assign(d, await mapsOf(d.rendition));
  process.stderr.write(`comparing ${drawingsB.length} × ${drawingsA.length} drawings…\n`);
  const nA = drawingsA.length, nB = drawingsB.length;
  // ink boxes of other shapes (a wordmark and an icon) are not one drawing: −1
  // within B, two drawings of one brand are no pair (−1, below any real score)
  const score = (x: Drawing, y: Drawing) => (x.shape.brand === y.shape.brand ? -1 : Math.max(x.aspect!, y.aspect!) / Math.min(x.aspect!, y.aspect!) > MAX_ASPECT_RATIO ? -1 : (dot(x.maps![0]!, y.maps![0]!) + dot(x.maps![1]!, y.maps![1]!)) / 2);
  const S = new Float32Array(nB * nA); // [B drawing, A drawing]
  for (let i = 0; i < nB; i++) for (let j = within ? i : 0; j < nA; j++) S[i * nA + j] = within ? (S[j * nA + i] = score(drawingsB[i]!, drawingsA[j]!)) : score(drawingsB[i]!, drawingsA[j]!);
  // CSLS (cross-domain similarity local scaling): a plain disc is close to every disc; a drawing's
  // mean score to its K nearest drawings of the other set is subtracted, so a hub ranks below a
  // pair that stands out for both drawings
  const K = 10;
  const topMean = (get: (k: number) => number, n: number) => {
    const v = Float32Array.from({ length: n }, (_, k) => get(k)).sort().reverse();
    let m = 0;
    for (let k = 0; k < K; k++) m += v[k]!;
    return m / K;
  };
  const rB = Float32Array.from({ length: nB }, (_, i) => topMean((j) => S[i * nA + j]!, nA));
  const rA = Float32Array.from({ length: nA }, (_, j) => topMean((i) => S[i * nA + j]!, nB));
  const csls = (i: number, j: number) => 2 * S[i * nA + j]! - rB[i]! - rA[j]!;
  const brandBest = new Map<string, number>();
  for (let i = 0; i < nB; i++) {
    let bj = -1;
    for (let j = 0; j < nA; j++) if (drawingsA[j]!.shape.brand !== drawingsB[i]!.shape.brand && (bj < 0 || csls(i, j) > csls(i, bj))) bj = j;
    if (bj < 0) continue;
    const [x, y] = [drawingsB[i]!.shape.brand.slug, drawingsA[bj]!.shape.brand.slug];
    const key = within && y < x ? `${y} ${x}` : `${x} ${y}`;
    brandBest.set(key, Math.max(brandBest.get(key) ?? -9, csls(i, bj)));
  }
  const ranked = [...brandBest].filter(([, v]) => v >= minScore).sort((p, q) => q[1] - p[1]).slice(0, top);
  for (const [key] of ranked) {
    const [b, a] = key.split(' ') as [string, string];
    cand(b, a).finders.add('perceptual');
  }
  // every candidate gets its best drawing pair (by CSLS) and that pair's plain score
  const idx = (ds: Drawing[]) => {
    const m = new Map<string, number[]>();
    ds.forEach((d, k) => m.set(d.shape.brand.slug, [...(m.get(d.shape.brand.slug) ?? []), k]));
    return m;
  };
  const idxA = idx(drawingsA), idxB = idx(drawingsB);
  for (const c of cands.values()) for (const i of idxB.get(c.b)!) for (const j of idxA.get(c.a)!) {
    if (c.bDrawing === undefined || csls(i, j) > c.csls) Object.assign(c, { csls: csls(i, j), score: S[i * nA + j]!, bDrawing: drawingsB[i], aDrawing: drawingsA[j] });
  }

  const list = [...cands.values()].sort((p, q) => q.csls - p.csls || (p.b < q.b ? -1 : 1));
  await withAtomicDir(resolve(out), async (tmp) => {
    writeFileAtomic(join(tmp, 'candidates.json'), JSON.stringify(list.map((c, i) => ({ k: i + 1, sets: sides.join('~'), b: c.b, a: c.a, finders: [...c.finders], score: Number(c.score.toFixed(4)), csls: Number(c.csls.toFixed(4)), drawings: [c.bDrawing?.rendition.id && `${c.bDrawing.shape.label} ${c.bDrawing.rendition.id}`, c.aDrawing?.rendition.id && `${c.aDrawing.shape.label} ${c.aDrawing.rendition.id}`], reasons: [...new Set(c.reasons)] })), null, 1) + '\n');
    for (let s = 0; s * 40 < list.length; s++) await sheet(join(tmp, `candidates-${s + 1}.png`), list.slice(s * 40, s * 40 + 40).map((c, i) => ({ k: s * 40 + i + 1, c })), sides);
  });
  const count = (f: string) => list.filter((c) => c.finders.has(f)).length;
  process.stdout.write(`${list.length} candidate pairs (exact ${count('exact')}, path ${count('path')}, name ${count('name')}, perceptual ${count('perceptual')}: best CSLS ≥ ${minScore}, top ${top}) → ${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`find-set-aliases: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
