/**
 * The shipped baseline's training curve for its model card (an SVG beside MODEL_CARD.md):
 *   left   training loss per logged optimizer step (train.log) and its moving average, validation
 *          loss per evaluated epoch (training_history.json);
 *   right  held-out set-B precision@1 and separation per saved checkpoint, by brand and by drawing
 *          (heldout-eval.ts ckpts output, one JSON line per checkpoint), and validation precision@1
 *          on unseen set-A logos.
 *
 *   npx tsx scripts/baseline-curve.ts <stage-1 checkpoint dir> <stage-1 held-out JSONL> [<stage-2 …> <…>] <out.svg>
 * Each stage is drawn after the previous one on one optimizer-step axis; a dotted line marks where a stage starts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, PALETTE } from '../src/report/svg.js';

interface Hist { epoch: number; val?: { loss?: number; precision_at_1?: number; separation?: number } }

/** One training run of the baseline: its checkpoint dir (train.log, training_history.json) and held-out JSONL. */
export interface Stage { ckDir: string; heldoutJsonl: string }

/** Stages are drawn one after the other on one step axis (stage k starts where stage k−1 ended). */
export function curveSvg(stages: Stage[], stepsPerEpoch: number): string {
  const steps: [number, number][] = [];
  const val: [number, number][] = [];
  const valP1: [number, number][] = [];
  const held: { step: number; p1: number; sep: number; drawing?: { p1: number; sep: number } }[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (const st of stages) {
    starts.push(offset);
    const own: [number, number][] = [];
    for (const line of readFileSync(join(st.ckDir, 'train.log'), 'utf8').split('\n')) {
      const m = / step (\d+) epoch \d+ loss ([0-9.]+)/.exec(line);
      if (m) own.push([Number(m[1]), Number(m[2])]);
    }
    const hist = JSON.parse(readFileSync(join(st.ckDir, 'training_history.json'), 'utf8')) as Hist[];
    // a resumed run logs the steps after its checkpoint again: keep the last value of each step
    const byStep = new Map(own);
    steps.push(...[...byStep].sort((a, b) => a[0] - b[0]).map(([k, v]) => [offset + k, v] as [number, number]));
    val.push(...hist.filter((h) => h.val?.loss !== undefined).map((h) => [offset + h.epoch * stepsPerEpoch, h.val!.loss!] as [number, number]));
    valP1.push(...hist.filter((h) => h.val?.precision_at_1 !== undefined).map((h) => [offset + h.epoch * stepsPerEpoch, h.val!.precision_at_1!] as [number, number]));
    held.push(...readFileSync(st.heldoutJsonl, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; p1: number; sep: number; drawing?: { p1: number; sep: number } }).map((h) => ({ ...h, step: offset + h.step })).sort((a, b) => a.step - b.step));
    offset += Math.max(0, ...[...byStep.keys()]);
  }
  const w = 20;
  const avg = steps.map((p, i) => [p[0], steps.slice(Math.max(0, i - w + 1), i + 1).reduce((a, q) => a + q[1], 0) / Math.min(w, i + 1)] as [number, number]);
  const left = lineChart(
    [
      { name: 'train loss', points: steps, color: '#c7d9ec' },
      { name: `mean of ${w}`, points: avg, color: PALETTE[0] },
      { name: 'val loss', points: val, color: PALETTE[1], dashed: true },
      ...starts.slice(1).map((x, k) => ({ name: k === 0 ? 'next stage' : '', points: [[x, 0], [x, 5]] as [number, number][], color: '#999999', dashed: true })),
    ],
    { title: 'Loss (stages 1–2 InfoNCE, stages 3–4 MIL-NCE)', xLabel: 'optimizer step', yLabel: 'loss', width: 560, height: 340, y: [0, 5] },
  );
  const right = lineChart(
    [
      { name: 'set B P@1 (brands)', points: held.map((h) => [h.step, h.p1]), color: PALETTE[2] },
      { name: 'set B sep. (brands)', points: held.map((h) => [h.step, h.sep]), color: PALETTE[3], dashed: true },
      { name: 'set B P@1 (drawings)', points: held.filter((h) => h.drawing).map((h) => [h.step, h.drawing!.p1]), color: PALETTE[5] },
      { name: 'set B sep. (drawings)', points: held.filter((h) => h.drawing).map((h) => [h.step, h.drawing!.sep]), color: '#e377c2', dashed: true },
      { name: 'val P@1 (unseen A)', points: valP1, color: PALETTE[4] },
      ...starts.slice(1).map((x, k) => ({ name: k === 0 ? 'next stage' : '', points: [[x, 0], [x, 1]] as [number, number][], color: '#999999', dashed: true })),
    ],
    { title: 'Retrieval on brands never trained on', xLabel: 'optimizer step', yLabel: 'value', width: 560, height: 340, y: [0, 1] },
  );
  // two charts side by side in one SVG
  const inner = (s: string) => s.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1130" height="340" viewBox="0 0 1130 340" font-family="sans-serif" font-size="11"><g>${inner(left)}</g><g transform="translate(570,0)">${inner(right)}</g></svg>\n`;
}

if (process.argv[1]?.endsWith('baseline-curve.ts')) {
  const args = process.argv.slice(2);
  const out = args.pop();
  if (!out || args.length === 0 || args.length % 2) throw new Error('usage: baseline-curve.ts <checkpoint dir> <held-out JSONL> [<checkpoint dir> <held-out JSONL>]… <out.svg>');
  const stages: Stage[] = [];
  for (let i = 0; i < args.length; i += 2) stages.push({ ckDir: args[i]!, heldoutJsonl: args[i + 1]! });
  writeFileSync(out, curveSvg(stages, 50));
}
