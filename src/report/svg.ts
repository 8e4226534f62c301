/**
 * Minimal inline-SVG charts for reports (no dependencies, no scripts): line charts with several
 * series and overlaid histograms. Colours/dash styles are fixed per series index so "baseline" and
 * "candidate" look the same on every plot.
 */
import { escapeXml } from '../util/xml.js';
import { extent } from '../metrics/extent.js';
export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
  color?: string;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const esc = escapeXml;
const f = (x: number) => (Math.round(x * 100) / 100).toString();

interface Frame {
  width: number;
  height: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  title: string;
  xLabel: string;
  yLabel: string;
  /** integer tick steps on the y axis (counts) */
  yInteger?: boolean;
}

const M = { l: 52, r: 14, t: 30, b: 42 };

/**
 * Tick values for an axis over [lo, hi]: steps of 1, 2, 2.5 or 5 × 10^k giving about `target`
 * intervals (at least 1 when `integer`), and the decimals that print them all distinctly
 * (a 0.98–1.0 axis reads 0.98, 0.984, 0.988, … instead of 0.98, 0.98, 0.99, 0.99, 1).
 */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): { values: number[]; labels: string[] } {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { values: [lo], labels: [String(+lo.toPrecision(6))] };
  const mag = 10 ** Math.floor(Math.log10((hi - lo) / target));
  const count = (st: number) => Math.floor(hi / st + 1e-9) - Math.ceil(lo / st - 1e-9) + 1;
  // the finest 1-2-2.5-5 step that gives at most target + 2 ticks
  let step = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20].map((m) => m * mag).find((x) => count(x) <= target + 2)!;
  if (integer) step = Math.max(1, Math.round(step));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (Math.abs(step / 10 ** Math.floor(Math.log10(step) + 1e-9) - 2.5) < 1e-9 ? 1 : 0));
  const values: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) values.push(+(k * step).toFixed(decimals + 2));
  return { values, labels: values.map((v) => v.toFixed(decimals)) };
}

function frame(fr: Frame, body: string, legend: { name: string; color: string; dashed?: boolean }[]): string {
  const { width: W, height: H } = fr;
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const ticks: string[] = [];
  const xt = niceTicks(fr.x0, fr.x1, Math.max(4, Math.round(pw / 90)));
  const yt = niceTicks(fr.y0, fr.y1, 5, fr.yInteger);
  xt.values.forEach((xv, i) => {
    const x = M.l + ((xv - fr.x0) / (fr.x1 - fr.x0 || 1)) * pw;
    ticks.push(`<line x1="${f(x)}" y1="${M.t}" x2="${f(x)}" y2="${M.t + ph}" stroke="#eee"/><text x="${f(x)}" y="${M.t + ph + 14}" text-anchor="middle">${xt.labels[i]}</text>`);
  });
  yt.values.forEach((yv, i) => {
    const y = M.t + ph - ((yv - fr.y0) / (fr.y1 - fr.y0 || 1)) * ph;
    ticks.push(`<line x1="${M.l}" y1="${f(y)}" x2="${M.l + pw}" y2="${f(y)}" stroke="#eee"/><text x="${M.l - 5}" y="${f(y + 3)}" text-anchor="end">${yt.labels[i]}</text>`);
  });
  // entries 150 px apart, wrapped into rows that fit the plot; a series without a name has none.
  // Each on a white backing: the legend sits where precision-recall curves run (top left)
  const perRow = Math.max(1, Math.floor(pw / 150));
  const leg = legend
    .filter((s) => s.name !== '')
    .map((s, i) => `<g transform="translate(${M.l + 8 + (i % perRow) * 150},${M.t + 8 + Math.floor(i / perRow) * 14})"><rect x="-3" y="-7" width="${Math.min(147, 27 + 6.2 * s.name.length)}" height="14" fill="#fff" fill-opacity="0.85"/><line x1="0" y1="0" x2="18" y2="0" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/><text x="22" y="4">${esc(s.name)}</text></g>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(fr.title)}</text>
${ticks.join('\n')}
<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>
${body}
<text x="${M.l + pw / 2}" y="${H - 6}" text-anchor="middle">${esc(fr.xLabel)}</text>
<text transform="translate(12,${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(fr.yLabel)}</text>
${leg}
</svg>`;
}

export function lineChart(series: Series[], o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number; x?: [number, number]; y?: [number, number]; yInteger?: boolean }): string {
  const W = o.width ?? 520;
  const H = o.height ?? 320;
  const all = series.flatMap((s) => s.points);
  const [xMin, xMax] = extent(all.map((p) => p[0]));
  const [x0, x1] = o.x ?? [Math.min(xMin, 0), Math.max(xMax, 1)];
  const [y0, y1] = o.y ?? [0, Math.max(1e-9, extent(all.map((p) => p[1]))[1])];
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const X = (v: number) => M.l + ((v - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v: number) => M.t + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const body = series
    .map((s, i) => {
      const c = s.color ?? PALETTE[i % PALETTE.length]!;
      if (!s.points.length) return '';
      const at = s.points.map((p) => `${f(X(p[0]))},${f(Y(p[1]))}`);
      const d = at.map((xy, k) => `${k ? 'L' : 'M'}${xy}`).join(' ');
      // one distinct point (one defined threshold, a curve collapsed onto one spot): the path has no
      // length and draws nothing, so the point gets a dot
      const spots = [...new Set(at)];
      const dot = spots.length < 2 ? spots.map((xy) => `<circle cx="${xy.split(',')[0]}" cy="${xy.split(',')[1]}" r="3.5" fill="${c}"/>`).join('') : '';
      return `<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>${dot}`;
    })
    .join('\n');
  return frame({ width: W, height: H, x0, x1, y0, y1, title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, yInteger: o.yInteger }, body, series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length]!, dashed: s.dashed })));
}

/** Histogram counts of values in `bins` equal bins over [lo, hi]. */
export function binCounts(values: number[], lo: number, hi: number, bins: number): number[] {
  const c = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!(v >= lo && v <= hi)) continue;
    c[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo || 1)) * bins))]!++;
  }
  return c;
}

/** Overlaid step histograms (outline per group) — several groups readable on one plot. */
export function histogram(groups: { name: string; values: number[]; color?: string; dashed?: boolean }[], o: { title: string; xLabel: string; bins?: number; range?: [number, number]; width?: number; height?: number }): string {
  const bins = o.bins ?? 40;
  const all = groups.flatMap((g) => g.values);
  const [min, max] = extent(all);
  let lo = o.range?.[0] ?? (all.length ? min : 0);
  let hi = o.range?.[1] ?? (all.length ? max : 1);
  if (!(hi > lo)) {
    // all values equal (one region, a collapsed model): a range of no width draws bars of no width
    // on the frame's edge. Widened around the value, shifted by half a bin so it lies mid-bar
    const d = 0.05 * Math.max(1, Math.abs(lo));
    const half = d / bins;
    [lo, hi] = [lo - d - half, lo + d - half];
  }
  const series: Series[] = groups.map((g) => {
    const c = binCounts(g.values, lo, hi, bins);
    const w = (hi - lo) / bins;
    const pts: [number, number][] = [[lo, 0]];
    c.forEach((n, i) => pts.push([lo + i * w, n], [lo + (i + 1) * w, n]));
    pts.push([hi, 0]);
    return { name: `${g.name} (n=${g.values.length})`, points: pts, color: g.color, dashed: g.dashed };
  });
  // headroom above the tallest bar for the legend
  const top = Math.max(1, Math.ceil(1.15 * extent(series.flatMap((s) => s.points.map((p) => p[1])))[1]));
  return lineChart(series, { title: o.title, xLabel: o.xLabel, yLabel: 'count', width: o.width, height: o.height, x: [lo, hi], y: [0, top], yInteger: true });
}
