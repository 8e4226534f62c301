/**
 * One synthetic scene: background → clutter (shapes, text) → annotated logos → unlabelled
 * distractor logos (other real brands) → occluders → lighting → noise; blur and JPEG quality
 * are applied by the writer when encoding. Logos get scale, rotation and a perspective tilt
 * through one homography; their boxes are the exact extent of the warped pixels (alpha ≥ 0.5),
 * clipped to the image (`truncated` when clipped).
 */
import type { Rng } from '../../util/rng.js';
import { clutterSvg, fillQuad, meanColour, paintBackground, randomColour, type Rgb } from './background.js';
import { addNoise, compositeSvg, inkColour, makeCanvas, rasterize, warpComposite, type Canvas, type Pt } from './render.js';
import { luminance, renditions, type Brand, type Rendition } from './sources.js';

export interface SceneObject {
  name: string;
  box: [number, number, number, number];
  truncated: boolean;
  rendition: string;
}

export interface Scene {
  canvas: Canvas;
  objects: SceneObject[];
  /** unlabelled distractor placements (for the contact sheet / debugging) */
  distractors: { name: string; box: [number, number, number, number] }[];
  background: string;
  blurSigma: number;
  jpegQuality: number;
}

/** An annotated logo to place: its object name and the renditions to draw one from. */
export interface LabelledTarget {
  name: string;
  /** raster cache key (the brand slug) */
  key: string;
  renditions: Rendition[];
}

export interface SceneSpec {
  /** annotated brands, in placement order (first = the folder's brand); repeats allowed */
  targets: Brand[];
  /** instead of `targets`: annotated logos with their own names and rendition sets (shape labels) */
  labelledTargets?: LabelledTarget[];
  /** unlabelled brands drawn as distractors */
  distractors: Brand[];
  minSide?: number;
  maxSide?: number;
}

type Rect = [number, number, number, number];

function overlapFrac(a: Rect, b: Rect): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const amin = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return amin > 0 ? (iw * ih) / amin : 0;
}

/** Quad (TL, TR, BR, BL) for a w×h logo centred at (cx, cy), rotated, with a perspective tilt. */
function makeQuad(rng: Rng, cx: number, cy: number, w: number, h: number, rot: number): Pt[] {
  let pts: Pt[] = [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]];
  if (rng.next() < 0.45) {
    // tilt: one edge shrinks towards its midpoint (a plane seen at an angle)
    const k = 0.7 + 0.3 * rng.next();
    const edge = rng.int(4); // 0 top, 1 right, 2 bottom, 3 left
    const [i, j] = ([[0, 1], [1, 2], [2, 3], [3, 0]] as const)[edge]!;
    const mx = (pts[i]![0] + pts[j]![0]) / 2, my = (pts[i]![1] + pts[j]![1]) / 2;
    pts[i] = [mx + (pts[i]![0] - mx) * k, my + (pts[i]![1] - my) * k];
    pts[j] = [mx + (pts[j]![0] - mx) * k, my + (pts[j]![1] - my) * k];
  }
  const jit = 0.04 * Math.min(w, h);
  pts = pts.map(([x, y]) => [x + (rng.next() - 0.5) * 2 * jit, y + (rng.next() - 0.5) * 2 * jit]);
  const c = Math.cos(rot), s = Math.sin(rot);
  return pts.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c]);
}

const bbox = (q: Pt[]): Rect => [Math.min(...q.map((p) => p[0])), Math.min(...q.map((p) => p[1])), Math.max(...q.map((p) => p[0])), Math.max(...q.map((p) => p[1]))];

interface PlaceResult {
  box: Rect;
  truncated: boolean;
  rendition: string;
}

async function placeLogo(c: Canvas, rng: Rng, key: string, rends: Rendition[], taken: Rect[], allowTruncation: boolean): Promise<PlaceResult | null> {
  const minDim = Math.min(c.width, c.height);
  for (let attempt = 0; attempt < 40; attempt++) {
    const r = rends[rng.int(rends.length)]!;
    const long = Math.max(32, (0.14 + 0.4 * rng.next() * (attempt < 20 ? 1 : 0.5)) * (r.aspect > 2.5 ? 1.5 : 1) * minDim);
    let w = r.aspect >= 1 ? long : long * r.aspect;
    let h = r.aspect >= 1 ? long / r.aspect : long;
    if (Math.min(w, h) < 14) {
      const f = 14 / Math.min(w, h);
      w *= f;
      h *= f;
    }
    if (w > c.width * 0.9 || h > c.height * 0.9) continue;
    const rot = rng.next() < 0.1 ? (rng.next() - 0.5) * (Math.PI / 2) : Math.max(-0.5, Math.min(0.5, rng.normal() * 0.14));
    const truncate = allowTruncation && rng.next() < 0.1;
    const margin = truncate ? -0.3 : 0.02;
    const cx = margin * w + rng.next() * (c.width - 2 * margin * w);
    const cy = margin * h + rng.next() * (c.height - 2 * margin * h);
    const quad = makeQuad(rng, cx, cy, w, h, rot);
    const bb = bbox(quad);
    if (!truncate && (bb[0] < 0 || bb[1] < 0 || bb[2] > c.width || bb[3] > c.height)) continue;
    if (truncate) {
      const iw = Math.max(0, Math.min(bb[2], c.width) - Math.max(bb[0], 0)), ih = Math.max(0, Math.min(bb[3], c.height) - Math.max(bb[1], 0));
      if ((iw * ih) / ((bb[2] - bb[0]) * (bb[3] - bb[1])) < 0.65) continue;
    }
    if (taken.some((t) => overlapFrac(t, bb) > 0.08)) continue;
    const raster = await rasterize(key, r, Math.max(w, h));
    // contrast: a non-plated logo whose ink is close to the local background gets a backing plate
    if (!r.plated) {
      const bg = meanColour(c, bb[0], bb[1], bb[2], bb[3]);
      const ink = inkColour(raster);
      if (Math.abs(luminance(bg) - luminance(ink)) < 70) {
        const plate: Rgb = luminance(ink) > 128 ? [20 + rng.next() * 40, 20 + rng.next() * 40, 20 + rng.next() * 40] : [215 + rng.next() * 40, 215 + rng.next() * 40, 215 + rng.next() * 40];
        const pad = 0.12;
        const big = makeQuadAround(quad, pad);
        fillQuad(c, big, plate);
      }
    }
    const placed = warpComposite(c, raster, quad, 0.85 + 0.15 * rng.next());
    if (!placed.box) continue;
    const [x0, y0, x1, y1] = placed.box;
    const truncated = bb[0] < 0 || bb[1] < 0 || bb[2] > c.width || bb[3] > c.height;
    taken.push([x0, y0, x1, y1]);
    return { box: [x0, y0, x1, y1], truncated, rendition: r.id };
  }
  return null;
}

/** The quad scaled about its centroid by (1 + 2·pad). */
function makeQuadAround(q: Pt[], pad: number): Pt[] {
  const cx = q.reduce((a, p) => a + p[0], 0) / q.length, cy = q.reduce((a, p) => a + p[1], 0) / q.length;
  return q.map(([x, y]) => [cx + (x - cx) * (1 + 2 * pad), cy + (y - cy) * (1 + 2 * pad)]);
}

export async function composeScene(rng: Rng, spec: SceneSpec): Promise<Scene> {
  const lo = spec.minSide ?? 256, hi = spec.maxSide ?? 512;
  const width = lo + rng.int(hi - lo + 1), height = lo + rng.int(hi - lo + 1);
  const c = makeCanvas(width, height);
  const background = paintBackground(c, rng);
  await compositeSvg(c, clutterSvg(rng, width, height, 0.5 + rng.next()));
  const taken: Rect[] = [];
  const objects: SceneObject[] = [];
  const targets = spec.labelledTargets ?? spec.targets.map((b) => ({ name: b.slug, key: b.slug, renditions: renditions(b) }));
  for (const t of targets) {
    const p = await placeLogo(c, rng, t.key, t.renditions, taken, true);
    if (p) objects.push({ name: t.name, ...p });
  }
  const distractors: Scene['distractors'] = [];
  for (const b of spec.distractors) {
    const p = await placeLogo(c, rng, b.slug, renditions(b), taken, true);
    if (p) distractors.push({ name: b.slug, box: p.box });
  }
  // occluders: cover 15–35% of some annotated logos from one side (boxes keep the logo's extent)
  for (const o of objects) {
    if (rng.next() >= 0.25) continue;
    const [x0, y0, x1, y1] = o.box;
    const f = 0.15 + 0.2 * rng.next(), side = rng.int(4), col = randomColour(rng);
    const r: Rect = side === 0 ? [x0 - 4, y0 - 4, x0 + f * (x1 - x0), y1 + 4] : side === 1 ? [x1 - f * (x1 - x0), y0 - 4, x1 + 4, y1 + 4] : side === 2 ? [x0 - 4, y0 - 4, x1 + 4, y0 + f * (y1 - y0)] : [x0 - 4, y1 - f * (y1 - y0), x1 + 4, y1 + 4];
    fillQuad(c, [[r[0], r[1]], [r[2], r[1]], [r[2], r[3]], [r[0], r[3]]], col, 0.9);
  }
  // lighting: a linear gain field, a colour cast and a contrast change
  const g0 = 0.75 + 0.45 * rng.next(), gx = (rng.next() - 0.5) * 0.5, gy = (rng.next() - 0.5) * 0.5;
  const cast = [0.92 + 0.16 * rng.next(), 0.92 + 0.16 * rng.next(), 0.92 + 0.16 * rng.next()];
  const contrast = 0.8 + 0.4 * rng.next();
  const noise = rng.next() < 0.5 ? rng.next() * 6 : 0;
  const d = c.data;
  for (let y = 0, i = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const g = g0 + gx * (x / width - 0.5) + gy * (y / height - 0.5);
      for (let ch = 0; ch < 3; ch++, i++) {
        d[i] = ((d[i]! - 128) * contrast + 128) * g * cast[ch]!;
      }
    }
  if (noise > 0) addNoise(d, noise / 2, rng);
  const blurSigma = rng.next() < 0.3 ? 0.4 + rng.next() * 1.4 : 0;
  const jpegQuality = 35 + rng.int(61);
  return { canvas: c, objects, distractors, background, blurSigma, jpegQuality };
}
