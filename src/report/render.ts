/** CompareData → report.md and a self-contained report.html (inline SVG, no scripts). */
import { methodDescription, type MatchOptions } from '../match/matchers.js';
import type { Counts } from '../eval/counting.js';
import { backendsText } from '../eval/format.js';
import type { CompareData } from './compare.js';
import type { GalleryItem, ModelGallery, Unmatched } from './gallery.js';
import { histogram, lineChart, PALETTE, type Series } from './svg.js';
import { extent } from '../metrics/extent.js';
import { signedPoints, verdictText } from './verdict.js';
import { escapeXml } from '../util/xml.js';

const pc = (x: number) => `${(x * 100).toFixed(1)}%`;
const esc = escapeXml;

/** Precision, recall and F1 as the report prints them (compare's stdout too). */
export function rateTexts(c: Counts): { precision: string; recall: string; f1: string } {
  // nothing matched: precision is 0/0, not a measured 0 % (the plots leave such points out too);
  // nothing expected: recall is 0/0, and F1 with it
  const none = c.expected === 0;
  return { precision: c.tp + c.fp === 0 ? 'n/a' : pc(c.precision), recall: none ? 'n/a' : pc(c.recall), f1: none ? 'n/a' : pc(c.f1) };
}

function countsRow(label: string, c: Counts, t: number): string[] {
  const r = rateTexts(c);
  return [label, String(t), String(c.tp), String(c.fp), String(c.fn), String(c.expected), r.precision, r.recall, r.f1];
}

const HEAD = ['model', 'threshold', 'TP', 'FP', 'FN', 'expected', 'precision', 'recall', 'F1'];

/** A model's "best F1" row: its sweep's best threshold, or none when F1 is 0 at every threshold (BEST_NONE_NOTE). */
function bestRow(m: CompareData['models'][number]): string[] {
  const label = `${m.label} @ best F1`;
  if (m.best.threshold !== null) return countsRow(label, m.best.counts, m.best.threshold);
  return [label, 'none', '–', '–', '–', String(m.best.counts.expected), '–', '–', m.best.counts.expected === 0 ? 'n/a' : pc(0)];
}
const BEST_NONE_NOTE = 'Best F1 "none": no threshold of the sweep gives an F1 above 0 (no true positive at any), so none is chosen, as --calibrate f1 chooses none; that model\'s per-logo F1 is then taken at the given threshold (it is 0 at every one).';
const bestNone = (d: CompareData) => d.models.some((m) => m.best.threshold === null);

function tables(d: CompareData): { head: string[]; rows: string[][] }[] {
  const main = {
    head: HEAD,
    rows: d.models.flatMap((m) => [
      countsRow(`${m.label} @ given`, m.atThreshold, d.options.threshold),
      bestRow(m),
      ...(m.calibration?.test && m.calibration.threshold !== null ? [countsRow(`${m.label} @ calibrated (held-out half)`, m.calibration.test, m.calibration.threshold)] : []),
    ]),
  };
  const retr = {
    head: ['model', 'precision@1', 'recall@5', 'R-precision', 'MAP@R'],
    rows: d.models.map((m) => {
      const r = m.retrieval?.overall;
      if (!r) return [m.label, '-', '-', '-', '-'];
      // no query had another crop of its logo: the metrics' 0 means "nothing measured", not 0%
      if (r.num_queries === 0) return [m.label, 'n/a', 'n/a', 'n/a', 'n/a'];
      return [m.label, pc(r.precision_at_1), pc(r.recall_at_k[5] ?? 0), pc(r.r_precision), pc(r.map_at_r)];
    }),
  };
  const logos = {
    head: ['logo', 'baseline F1', 'candidate F1', 'Δ F1', 'verdict'],
    // ties by code units: localeCompare's order depends on the machine's locale (ICU collation)
    rows: [...d.perLogo].sort((a, b) => b.delta - a.delta || (a.logo < b.logo ? -1 : a.logo > b.logo ? 1 : 0)).map((p) => [p.logo, pc(p.baseline.f1), pc(p.candidate.f1), signedPoints(p.delta), p.verdict]),
  };
  return [main, retr, logos];
}

/**
 * Why a model's retrieval row reads n/a: every reference crop was a lone query (no other crop of
 * its logo to retrieve, e.g. --refs-per-logo 1), so PML's metrics are 0 by convention, not measured.
 */
function retrievalNotes(d: CompareData): string[] {
  return d.models.flatMap((m) => {
    const r = m.retrieval?.overall;
    if (!r || r.num_queries > 0) return [];
    return [`${m.label}: n/a — all ${r.num_lone_queries} queries lone (no reference crop has another crop of its logo to retrieve, e.g. --refs-per-logo 1), so nothing was measured.`];
  });
}

/**
 * Text in report.md (a table cell, a list item, the verdict): logo, file and model names may hold
 * characters markdown or HTML would read (`|` ends a cell, `<img …>` is live HTML, `_x_` is
 * emphasis), and a line break would end the row or item: it becomes a space.
 */
const mdText = (s: string) => s.replace(/\r\n?|\n/g, ' ').replace(/[\\`*_|<>&[\]]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? `\\${c}`);

function md(t: { head: string[]; rows: string[][] }): string {
  return [`| ${t.head.join(' | ')} |`, `|${t.head.map(() => ' --- ').join('|')}|`, ...t.rows.map((r) => `| ${r.map(mdText).join(' | ')} |`)].join('\n');
}

function header(d: CompareData): string[] {
  return [
    `Sample: ${d.sample.logos.length} logos, ${d.sample.refs} reference crops, ${d.sample.images} test images (${sampleText(d.sample)}), regions: ${d.detector}, counting: ${d.counting}.`,
    `Matching: ${methodDescription(d.options)}, threshold ${d.options.threshold}.`,
    ...d.models.map((m) => `${m.label}: ${m.name}${m.backends ? ` (backend: ${backendsText(m.backends)})` : ''}`),
  ];
}

const verdictOf = (d: CompareData): string | null => (d.verdict ? verdictText(d.verdict, [d.models[0]!.label, d.models[1]!.label]) : null);

const sim = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const tally = (d: CompareData) => `${count(d.wins, 'win', 'wins')}, ${count(d.losses, 'loss', 'losses')}, ${count(d.ties, 'tie', 'ties')}`;

/** The matcher's condition an unmatched region's best logo failed (gallery.ts's Unmatched), in words. */
function unmatchedText(u: Unmatched, threshold: number, o: MatchOptions): string {
  if (u === 'threshold') return `below threshold ${threshold}`;
  if (u === 'min-refs') return `fewer than ${o.minMatchingRefs} of its references ≥ threshold ${threshold}`;
  return `margin ${o.margin} over the second-best ${o.method === 'margin' ? 'reference' : 'logo'} not met`;
}

/**
 * An FN region's fate: the logo it was matched to instead (`matched`), or, when it matched
 * nothing, its best logo (`best`: null when that is its own) and why that was not matched.
 */
type FnFate = { none: true } | { matched: string } | { best: string | null; why: string };
function fnFate(it: GalleryItem, threshold: number, o: MatchOptions): FnFate {
  if (!it.box || !it.takenFor) return { none: true };
  if (!it.unmatched) return { matched: it.takenFor };
  return { best: it.takenFor === it.truth ? null : it.takenFor, why: unmatchedText(it.unmatched, threshold, o) };
}

/** report.md's "taken for" cell of an FN. */
function fnCell(it: GalleryItem, threshold: number, o: MatchOptions): string {
  const f = fnFate(it, threshold, o);
  if ('none' in f) return 'no region';
  if ('matched' in f) return f.matched;
  return `${f.best === null ? 'its own logo' : `best logo ${f.best}`} (not matched: ${f.why})`;
}

const GALLERY_NOTE = 'At each model\'s calibrated threshold (else the given one). False positives: a logo matched in an image that does not hold it, most confident first. False negatives: an expected logo that was not matched, least similar to its own logo first, with what its region was taken for instead or, when the region matched nothing, its best logo and the matcher\'s condition that logo failed (threshold, min matching refs, or margin over the second best).';

function galleryRows(g: ModelGallery, o: MatchOptions): string[][] {
  const row = (kind: string, it: GalleryItem) => [kind, it.image, it.truth ?? 'background', kind === 'FN' ? fnCell(it, g.threshold, o) : (it.takenFor ?? '–'), kind === 'FP' ? sim(it.similarity) : `${sim(it.similarity)} (own) / ${sim(it.takenForSimilarity)}`];
  return [...g.falsePositives.map((it) => row('FP', it)), ...g.falseNegatives.map((it) => row('FN', it))];
}

/** How the sample was drawn; a folder layout is evaluated whole (the seed then drives the bootstrap and calibration only). */
function sampleText(s: CompareData['sample']): string {
  if (s.sampled === false) return `all: a folder layout evaluated whole, up to ${s.refsPerLogo} refs/logo; seed ${s.seed} for the bootstrap`;
  return `seed ${s.seed}, ${s.refsPerLogo} refs/logo, ${s.positiveSamples} positive + ${s.negativeSamples} negative samples/logo`;
}

/** What the detection table's threshold columns mean (report.md and report.html say the same). */
const THRESHOLD_NOTE =
  '"best F1" = the best threshold of the sweep on this same sample (optimistic). "calibrated" (compare --calibrate) = each model\'s threshold chosen on a seeded half of the test images (those holding a logo and those holding none halved apart), scored on the other half.';

export function renderMarkdown(d: CompareData): string {
  const [main, retr, logos] = tables(d);
  const v = verdictOf(d);
  return [
    '# logolab compare',
    '',
    ...(v ? [`**Verdict.** ${mdText(v)}`, ''] : []),
    ...header(d).map((l) => `- ${mdText(l)}`),
    '',
    '## Detection metrics',
    '',
    md(main!),
    '',
    THRESHOLD_NOTE,
    '',
    ...(bestNone(d) ? [BEST_NONE_NOTE, ''] : []),
    '## Retrieval over reference crops',
    '',
    md(retr!),
    '',
    ...retrievalNotes(d).flatMap((n) => [n, '']),
    `## Per logo (at each model's best-F1 threshold): ${tally(d)} for the candidate`,
    '',
    md(logos!),
    '',
    ...(d.gallery?.length
      ? ['## Worst mistakes', '', GALLERY_NOTE, '', ...d.gallery.flatMap((g) => [`### ${g.label} (threshold ${g.threshold})`, '', md({ head: ['kind', 'image', 'region holds', 'taken for', 'similarity'], rows: galleryRows(g, d.options) }), ''])]
      : []),
  ].join('\n');
}

/**
 * The threshold axis of the metric plots: the sweep's range cut to where the curves change, with a
 * margin (5 % of that span, at least 0.02). Below it every model's counts are those at the sweep's
 * lowest threshold, above it those at its highest, so nothing is cut that the plots would show; a
 * sweep of 0–1 over similarities of 0.95–1 is otherwise squeezed into the last few pixels. Read
 * from the curves, not from the similarities: with `simple` matching a region's second and third
 * logos still cross thresholds below its best logo's similarity.
 */
export function thresholdRange(curves: { options: { threshold: number }; counts: { tp: number; fp: number; fn: number } }[][]): [number, number] {
  const all = curves.flat().map((c) => c.options.threshold);
  if (!all.length) return [0, 1];
  const [t0, t1] = extent(all);
  let s0 = Infinity;
  let s1 = -Infinity;
  for (const curve of curves) {
    const cs = [...curve].sort((a, b) => a.options.threshold - b.options.threshold);
    const key = cs.map((c) => `${c.counts.tp}/${c.counts.fp}/${c.counts.fn}`);
    const first = key.findIndex((k) => k !== key[0]); // the first threshold off the low plateau
    if (first < 0) continue; // flat: nothing to show
    const last = key.findLastIndex((k) => k !== key[key.length - 1]); // the last one off the high plateau
    s0 = Math.min(s0, cs[first - 1]!.options.threshold);
    s1 = Math.max(s1, cs[last + 1]!.options.threshold);
  }
  if (s0 > s1) return [t0, t1];
  const pad = Math.max(0.02, 0.05 * (s1 - s0));
  const lo = Math.max(t0, Math.floor((s0 - pad) * 100 + 1e-9) / 100);
  const hi = Math.min(t1, Math.ceil((s1 + pad) * 100 - 1e-9) / 100);
  return hi > lo ? [lo, hi] : [t0, t1];
}

export function plots(d: CompareData): { title: string; svg: string }[] {
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  // precision is 0/0 where a threshold leaves no match: those points are left out, not drawn as 0
  const xr = thresholdRange(d.models.map((m) => m.sweep));
  const metric = (k: 'precision' | 'recall' | 'f1'): Series[] => d.models.map((m, i) => ({ name: m.label, color: color(i),
    points: m.sweep.filter((c) => (k !== 'precision' || c.counts.tp + c.counts.fp > 0) && c.options.threshold >= xr[0] && c.options.threshold <= xr[1]).map((c) => [c.options.threshold, c.counts[k]] as [number, number]) }));
  const out: { title: string; svg: string }[] = [];
  out.push({
    title: 'TP / FP similarity distributions (threshold and margin off)',
    svg: histogram(
      d.models.flatMap((m, i) => [
        { name: `${m.label} TP`, values: m.tpSims, color: color(i) },
        { name: `${m.label} FP`, values: m.fpSims, color: color(i), dashed: true },
      ]),
      { title: "Each region's best-logo similarity: correct (solid) vs wrong (dashed), threshold and margin off", xLabel: 'similarity', width: 1040, height: 320 },
    ),
  });
  out.push({ title: 'Precision vs threshold', svg: lineChart(metric('precision'), { title: 'Precision vs threshold', xLabel: 'threshold', yLabel: 'precision', x: xr, y: [0, 1] }) });
  out.push({ title: 'Recall vs threshold', svg: lineChart(metric('recall'), { title: 'Recall vs threshold', xLabel: 'threshold', yLabel: 'recall', x: xr, y: [0, 1] }) });
  out.push({ title: 'F1 vs threshold', svg: lineChart(metric('f1'), { title: 'F1 vs threshold', xLabel: 'threshold', yLabel: 'F1', x: xr, y: [0, 1] }) });
  out.push({
    title: 'Precision-recall curves',
    svg: lineChart(
      d.models.map((m, i) => ({ name: m.label, color: color(i), // in threshold order, high → low (recall mostly rising); points without any match are skipped
        points: [...m.sweep].sort((a, b) => b.options.threshold - a.options.threshold).filter((c) => c.counts.tp + c.counts.fp > 0).map((c) => [c.counts.recall, c.counts.precision] as [number, number]) })),
      { title: 'Precision-recall (threshold sweep)', xLabel: 'recall', yLabel: 'precision', x: [0, 1], y: [0, 1] },
    ),
  });
  return out;
}

/** An FN figure's second caption line (HTML): fnFate, with the other logo in bold beside its similarity. */
function fnFigureLine(it: GalleryItem, threshold: number, o: MatchOptions): string {
  const f = fnFate(it, threshold, o);
  if ('none' in f) return 'no region';
  if ('matched' in f) return `taken for <b>${esc(f.matched)}</b> (${sim(it.takenForSimilarity)})`;
  return `${f.best === null ? 'its own logo' : `best logo <b>${esc(f.best)}</b> (${sim(it.takenForSimilarity)})`}, not matched: ${esc(f.why)}`;
}

function figure(it: GalleryItem, kind: 'FP' | 'FN', threshold: number, o: MatchOptions): string {
  // "no region" only when no region covers the logo: a scored region whose picture could not be
  // read (or lies outside it) still is one
  const img = !it.box ? '<div class="noimg">no region</div>' : it.thumb ? `<img src="${it.thumb}" alt="${esc(it.truth ?? 'background')}">` : '<div class="noimg">picture unavailable</div>';
  const lines = kind === 'FP'
    ? [`<b>${sim(it.similarity)}</b> → taken for <b>${esc(it.takenFor ?? '–')}</b>`, `holds: ${esc(it.truth ?? 'background')}`]
    : [`holds <b>${esc(it.truth ?? '?')}</b>: ${sim(it.similarity)}`, fnFigureLine(it, threshold, o)];
  return `<figure>${img}<figcaption>${lines.join('<br>')}<br><small>${esc(it.image)}</small></figcaption></figure>`;
}

function galleryHtml(gs: ModelGallery[], o: MatchOptions): string {
  const strip = (items: GalleryItem[], kind: 'FP' | 'FN', threshold: number) => (items.length ? `<div class="gallery">${items.map((it) => figure(it, kind, threshold, o)).join('')}</div>` : '<p>none</p>');
  return `<h2>Worst mistakes</h2><p>${esc(GALLERY_NOTE)}</p>${gs
    .map((g) => `<h3>${esc(g.label)} (threshold ${g.threshold})</h3><h4>False positives</h4>${strip(g.falsePositives, 'FP', g.threshold)}<h4>False negatives</h4>${strip(g.falseNegatives, 'FN', g.threshold)}`)
    .join('')}`;
}

/** A logo's thumbnail: own keys only — a logo named `constructor` must not find Object's. */
function thumbOf(thumbs: Record<string, string>, logo: string): string | undefined {
  return Object.hasOwn(thumbs, logo) ? thumbs[logo] : undefined;
}

export function renderHtml(d: CompareData): string {
  const [main, retr, logos] = tables(d);
  const table = (t: { head: string[]; rows: string[][] }, thumbs?: Record<string, string>) =>
    // the first column names the row (model, logo): left-aligned, also after a thumbnail cell
    `<table><thead><tr>${thumbs ? '<th></th>' : ''}${t.head.map((h, k) => `<th${k === 0 ? ' class="name"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
      .map((r) => `<tr>${thumbs ? `<td class="thumb">${thumbOf(thumbs, r[0]!) ? `<img src="${thumbOf(thumbs, r[0]!)}" alt="${esc(r[0]!)}">` : ''}</td>` : ''}${r.map((c, k) => `<td class="${k === 0 ? 'name' : /^(win|loss|tie)$/.test(c) ? c : ''}">${esc(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const ps = plots(d);
  const v = verdictOf(d);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>logolab compare</title>
<style>
body{font-family:sans-serif;margin:20px;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.name,th.name{text-align:left}td.win{background:#dff5df}td.loss{background:#f9dede}svg{max-width:100%;height:auto}figcaption small{overflow-wrap:anywhere}.plots{display:flex;flex-wrap:wrap;gap:8px}
td.thumb{padding:2px;text-align:center;background:#fafafa}td.thumb img{max-height:40px;max-width:72px;vertical-align:middle}
p.verdict{font-size:1.05em;background:#f4f7fb;border-left:4px solid #1f77b4;padding:10px 14px}
.gallery{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:12px}figure{margin:0;width:124px;font-size:11px}
figure img,.noimg{display:block;width:120px;height:80px;object-fit:contain;background:#eee;border:1px solid #ccc}.noimg{line-height:80px;text-align:center;color:#888}
</style></head><body>
<h1>logolab compare</h1>
${v ? `<p class="verdict"><b>Verdict.</b> ${esc(v)}</p>` : ''}
<ul>${header(d).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
<h2>Detection metrics</h2>${table(main!)}
<p>${esc(THRESHOLD_NOTE)}</p>${bestNone(d) ? `<p>${esc(BEST_NONE_NOTE)}</p>` : ''}
<h2>Plots</h2><div class="plots">${ps.map((p) => p.svg).join('\n')}</div>
<h2>Retrieval over reference crops</h2>${table(retr!)}${retrievalNotes(d).map((n) => `<p>${esc(n)}</p>`).join('')}
<h2>Per logo (at each model's best-F1 threshold): ${tally(d)} for the candidate</h2>${table(logos!, d.thumbnails ?? {})}
${d.gallery?.length ? galleryHtml(d.gallery, d.options) : ''}
</body></html>
`;
}
