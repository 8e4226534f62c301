/**
 * The shipped baseline's training curve for its model card (an SVG beside MODEL_CARD.md):
 *   left   training loss per logged optimizer step (train.log) and its moving average, validation
 *          loss per evaluated epoch (training_history.json);
 *   right  held-out set-B precision@1 and separation per saved checkpoint (heldout-eval.ts output,
 *          one JSON line per checkpoint), and validation precision@1 on unseen set-A shapes.
 *
 *   npx tsx scripts/baseline-curve.ts <checkpoint dir> <held-out JSONL> <out.svg>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, PALETTE } from '../src/report/svg.js';

interface Hist { epoch: number; val?: { loss?: number; precision_at_1?: number; separation?: number } }

export function curveSvg(ckDir: string, heldoutJsonl: string, stepsPerEpoch: number): string {
  const steps: [number, number][] = [];
  for (const line of readFileSync(join(ckDir, 'train.log'), 'utf8').split('\n')) {
    const m = / step (\d+) epoch \d+ loss ([0-9.]+)/.exec(line);
    if (m) steps.push([Number(m[1]), Number(m[2])]);
  }
  steps.sort((a, b) => a[0] - b[0]);
  const w = 20;
  const avg = steps.map((p, i) => [p[0], steps.slice(Math.max(0, i - w + 1), i + 1).reduce((a, q) => a + q[1], 0) / Math.min(w, i + 1)] as [number, number]);
  const hist = JSON.parse(readFileSync(join(ckDir, 'training_history.json'), 'utf8')) as Hist[];
  const val = hist.filter((h) => h.val?.loss !== undefined).map((h) => [h.epoch * stepsPerEpoch, h.val!.loss!] as [number, number]);
  const valP1 = hist.filter((h) => h.val?.precision_at_1 !== undefined).map((h) => [h.epoch * stepsPerEpoch, h.val!.precision_at_1!] as [number, number]);
  const held = readFileSync(heldoutJsonl, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; p1: number; sep: number }).sort((a, b) => a.step - b.step);
  const left = lineChart(
    [
      { name: 'train loss (logged steps)', points: steps, color: '#c7d9ec' },
      { name: `train loss, mean of ${w}`, points: avg, color: PALETTE[0] },
      { name: 'validation loss', points: val, color: PALETTE[1], dashed: true },
    ],
    { title: 'InfoNCE loss', xLabel: 'optimizer step', yLabel: 'loss', width: 560, height: 340, y: [0, 5] },
  );
  const right = lineChart(
    [
      { name: 'set B P@1 (held-out)', points: held.map((h) => [h.step, h.p1]), color: PALETTE[2] },
      { name: 'set B separation', points: held.map((h) => [h.step, h.sep]), color: PALETTE[3], dashed: true },
      { name: 'val P@1 (unseen A shapes)', points: valP1, color: PALETTE[4] },
    ],
    { title: 'Retrieval on brands never trained on', xLabel: 'optimizer step', yLabel: 'value', width: 560, height: 340, y: [0, 1] },
  );
  // two charts side by side in one SVG
  const inner = (s: string) => s.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1130" height="340" viewBox="0 0 1130 340" font-family="sans-serif" font-size="11"><g>${inner(left)}</g><g transform="translate(570,0)">${inner(right)}</g></svg>\n`;
}

if (process.argv[1]?.endsWith('baseline-curve.ts')) {
  const [ck, held, out, spe] = process.argv.slice(2);
  if (!ck || !held || !out) throw new Error('usage: baseline-curve.ts <checkpoint dir> <held-out JSONL> <out.svg> [steps per epoch]');
  writeFileSync(out, curveSvg(ck, held, Number(spe ?? 50)));
}
