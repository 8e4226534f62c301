/**
 * Scene backgrounds (gradients, value noise, textures, soft blobs) and clutter (shapes and text,
 * rendered as one SVG overlay). Everything is drawn from the scene's seeded generator.
 */
import type { Rng } from '../../util/rng.js';
import { addNoise, type Canvas, type Pt } from './render.js';

export type Rgb = [number, number, number];

export function randomColour(rng: Rng): Rgb {
  // HSV sampling gives more natural spreads than uniform RGB
  const h = rng.next() * 6, s = rng.next() ** 0.7, v = 0.15 + 0.85 * rng.next();
  const i = Math.floor(h), f = h - i;
  const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  return [r! * 255, g! * 255, b! * 255];
}

const hex = (c: Rgb) => '#' + c.map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('');

function fill(c: Canvas, f: (x: number, y: number, out: Rgb) => void): void {
  const o: Rgb = [0, 0, 0];
  for (let y = 0, i = 0; y < c.height; y++)
    for (let x = 0; x < c.width; x++, i += 3) {
      f(x, y, o);
      c.data[i] = o[0];
      c.data[i + 1] = o[1];
      c.data[i + 2] = o[2];
    }
}

const mix = (a: Rgb, b: Rgb, t: number, o: Rgb) => {
  o[0] = a[0] + (b[0] - a[0]) * t;
  o[1] = a[1] + (b[1] - a[1]) * t;
  o[2] = a[2] + (b[2] - a[2]) * t;
};

/** Smooth value noise in [0,1] on a lattice of `cells` cells per side, several octaves. */
function valueNoise(rng: Rng, w: number, h: number, cells: number, octaves: number): Float32Array {
  const out = new Float32Array(w * h);
  let amp = 1, norm = 0, n = cells;
  for (let o = 0; o < octaves; o++, amp *= 0.5, n *= 2) {
    const gw = n + 2, gh = Math.ceil((n * h) / w) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => rng.next());
    for (let y = 0; y < h; y++) {
      const gy = (y / w) * n, y0 = Math.floor(gy), fy = gy - y0, sy = fy * fy * (3 - 2 * fy);
      for (let x = 0; x < w; x++) {
        const gx = (x / w) * n, x0 = Math.floor(gx), fx = gx - x0, sx = fx * fx * (3 - 2 * fx);
        const a = grid[y0 * gw + x0]!, b = grid[y0 * gw + x0 + 1]!, c = grid[(y0 + 1) * gw + x0]!, d = grid[(y0 + 1) * gw + x0 + 1]!;
        out[y * w + x]! += amp * (a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy);
      }
    }
    norm += amp;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

export const BACKGROUND_KINDS = ['linear', 'radial', 'noise', 'stripes', 'checker', 'blobs', 'solid'] as const;

/** Paints a random background; returns its kind. */
export function paintBackground(c: Canvas, rng: Rng): string {
  const kind = BACKGROUND_KINDS[rng.int(BACKGROUND_KINDS.length)]!;
  const a = randomColour(rng), b = randomColour(rng), k = randomColour(rng);
  const { width: w, height: h } = c;
  if (kind === 'linear') {
    const th = rng.next() * Math.PI * 2, dx = Math.cos(th), dy = Math.sin(th);
    const span = Math.abs(dx) * w + Math.abs(dy) * h;
    fill(c, (x, y, o) => mix(a, b, ((x - w / 2) * dx + (y - h / 2) * dy) / span + 0.5, o));
  } else if (kind === 'radial') {
    const cx = rng.next() * w, cy = rng.next() * h, r = (0.5 + rng.next()) * Math.max(w, h);
    fill(c, (x, y, o) => mix(a, b, Math.min(1, Math.hypot(x - cx, y - cy) / r), o));
  } else if (kind === 'noise') {
    const n = valueNoise(rng, w, h, 2 + rng.int(8), 4);
    fill(c, (x, y, o) => {
      const t = n[y * w + x]!;
      if (t < 0.5) mix(a, b, t * 2, o);
      else mix(b, k, (t - 0.5) * 2, o);
    });
  } else if (kind === 'stripes') {
    const th = rng.next() * Math.PI, period = 6 + rng.next() * 40, dx = Math.cos(th), dy = Math.sin(th), soft = rng.next() < 0.5;
    fill(c, (x, y, o) => {
      const s = Math.sin(((x * dx + y * dy) / period) * Math.PI * 2);
      mix(a, b, soft ? 0.5 + 0.5 * s : s > 0 ? 1 : 0, o);
    });
  } else if (kind === 'checker') {
    const p = 8 + rng.int(48);
    fill(c, (x, y, o) => mix(a, b, (Math.floor(x / p) + Math.floor(y / p)) & 1 ? 0.35 : 0, o));
  } else if (kind === 'blobs') {
    fill(c, (_x, _y, o) => mix(a, a, 0, o));
    const nb = 6 + rng.int(20);
    for (let i = 0; i < nb; i++) {
      const col = randomColour(rng), cx = rng.next() * w, cy = rng.next() * h, r = (0.05 + rng.next() * 0.3) * Math.max(w, h), s = 0.3 + 0.5 * rng.next();
      const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(w, Math.ceil(cx + r)), y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(h, Math.ceil(cy + r));
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const d = Math.hypot(x - cx, y - cy) / r;
          if (d >= 1) continue;
          const t = s * (1 - d * d), i3 = (y * w + x) * 3;
          for (let ch = 0; ch < 3; ch++) c.data[i3 + ch] = c.data[i3 + ch]! + (col[ch]! - c.data[i3 + ch]!) * t;
        }
    }
  } else {
    fill(c, (_x, _y, o) => mix(a, a, 0, o));
  }
  // fine grain on every background
  const grain = rng.next() * 3;
  if (grain > 0.3) addNoise(c.data, grain, rng);
  return kind;
}

const WORDS = [
  'SALE', 'OPEN', 'menu', 'coffee', 'fresh', 'NEW', 'free wifi', 'exit', 'parking', 'tickets', 'GATE 4', 'welcome', 'season',
  'shop', 'EST. 1987', 'hello', 'city', 'market', '50% OFF', 'today', 'club', 'street', 'north', 'local', 'team', 'home', 'away',
  'LIVE', 'press', 'stand', 'row 12', 'info', 'drinks', 'kitchen', 'studio', 'print', 'promo', 'gift', 'daily', 'sport',
];
const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono', 'sans-serif', 'serif'];

function pseudoWord(rng: Rng): string {
  if (rng.next() < 0.6) return WORDS[rng.int(WORDS.length)]!;
  const n = 3 + rng.int(8);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((rng.next() < 0.3 ? 65 : 97) + rng.int(26));
  return s;
}

/** SVG body of clutter: shapes and text (no brand logos), avoiding nothing — logos go on top. */
export function clutterSvg(rng: Rng, w: number, h: number, density: number): string {
  const parts: string[] = [];
  const nShapes = Math.round(density * (2 + rng.int(10)));
  for (let i = 0; i < nShapes; i++) {
    const col = hex(randomColour(rng)), op = (0.25 + 0.6 * rng.next()).toFixed(2);
    const x = rng.next() * w, y = rng.next() * h, s = (0.03 + rng.next() * 0.25) * Math.min(w, h);
    const t = rng.int(4);
    if (t === 0) parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(s * (0.5 + rng.next() * 2)).toFixed(1)}" height="${(s * (0.3 + rng.next())).toFixed(1)}" rx="${(rng.next() * s * 0.3).toFixed(1)}" fill="${col}" fill-opacity="${op}" transform="rotate(${(rng.next() * 90 - 45).toFixed(1)} ${x.toFixed(1)} ${y.toFixed(1)})"/>`);
    else if (t === 1) parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${(s / 2).toFixed(1)}" fill="${col}" fill-opacity="${op}"/>`);
    else if (t === 2) parts.push(`<line x1="${x.toFixed(1)}" y1="${y.toFixed(1)}" x2="${(rng.next() * w).toFixed(1)}" y2="${(rng.next() * h).toFixed(1)}" stroke="${col}" stroke-opacity="${op}" stroke-width="${(1 + rng.next() * 6).toFixed(1)}"/>`);
    else {
      const pts = Array.from({ length: 3 + rng.int(3) }, () => `${(x + (rng.next() - 0.5) * s * 2).toFixed(1)},${(y + (rng.next() - 0.5) * s * 2).toFixed(1)}`);
      parts.push(`<polygon points="${pts.join(' ')}" fill="${col}" fill-opacity="${op}"/>`);
    }
  }
  const nText = Math.round(density * rng.int(6));
  for (let i = 0; i < nText; i++) {
    const col = hex(randomColour(rng)), size = Math.round(8 + rng.next() * 0.12 * Math.min(w, h));
    const x = rng.next() * w * 0.9, y = size + rng.next() * (h - size);
    const word = pseudoWord(rng).replace(/&/g, '&amp;').replace(/</g, '&lt;');
    parts.push(
      `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="${FONTS[rng.int(FONTS.length)]}" font-size="${size}" font-weight="${rng.next() < 0.4 ? 'bold' : 'normal'}" fill="${col}" fill-opacity="${(0.5 + 0.5 * rng.next()).toFixed(2)}" transform="rotate(${(rng.next() < 0.7 ? 0 : rng.next() * 40 - 20).toFixed(1)} ${x.toFixed(1)} ${y.toFixed(1)})">${word}</text>`,
    );
  }
  return parts.join('');
}

/** Fills a convex quad with a solid colour (backing plates, occluders). */
export function fillQuad(c: Canvas, quad: Pt[], col: Rgb, opacity = 1): void {
  const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs))), x1 = Math.min(c.width, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys))), y1 = Math.min(c.height, Math.ceil(Math.max(...ys)));
  // half-plane coefficients of each edge, oriented so that the inside is ≥ 0
  const n = quad.length;
  let area = 0;
  for (let i = 0; i < n; i++) area += quad[i]![0] * quad[(i + 1) % n]![1] - quad[(i + 1) % n]![0] * quad[i]![1];
  const o = area >= 0 ? 1 : -1;
  const A = new Float64Array(n), B = new Float64Array(n), C = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [ax, ay] = quad[i]!, [bx, by] = quad[(i + 1) % n]!;
    A[i] = -(by - ay) * o;
    B[i] = (bx - ax) * o;
    C[i] = -(A[i]! * ax + B[i]! * ay);
  }
  const [r, g, b] = col;
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5;
      let inside = true;
      for (let i = 0; i < n; i++) if (A[i]! * px + B[i]! * py + C[i]! < 0) { inside = false; break; }
      if (!inside) continue;
      const i3 = (y * c.width + x) * 3;
      c.data[i3] = c.data[i3]! + (r - c.data[i3]!) * opacity;
      c.data[i3 + 1] = c.data[i3 + 1]! + (g - c.data[i3 + 1]!) * opacity;
      c.data[i3 + 2] = c.data[i3 + 2]! + (b - c.data[i3 + 2]!) * opacity;
    }
  }
}

/** Mean colour of a canvas rectangle (clipped). */
export function meanColour(c: Canvas, x0: number, y0: number, x1: number, y1: number): Rgb {
  x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
  x1 = Math.min(c.width, Math.ceil(x1)); y1 = Math.min(c.height, Math.ceil(y1));
  const s: Rgb = [0, 0, 0];
  let n = 0;
  for (let y = y0; y < y1; y += 2)
    for (let x = x0; x < x1; x += 2) {
      const i = (y * c.width + x) * 3;
      s[0] += c.data[i]!; s[1] += c.data[i + 1]!; s[2] += c.data[i + 2]!;
      n++;
    }
  return n ? [s[0] / n, s[1] / n, s[2] / n] : [128, 128, 128];
}
