/** Degenerate plot data stays visible: all-equal histogram values, curves of one distinct point. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogram, lineChart } from '../../src/report/svg.js';

/** The x coordinates of each path's vertices. */
const xsOf = (svg: string) => [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => Number(p.slice(1).split(',')[0])));
/** The x axis's ticks: [label value, pixel x]. */
const xTicks = (svg: string) => [...svg.matchAll(/<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle">(-?[0-9.]+)<\/text>/g)].map((m) => [Number(m[2]), Number(m[1])] as [number, number]);

test('histogram of all-equal values: a bar of some width around the value, on an axis around it', () => {
  for (const v of [0.7, 1, -0.2]) {
    const svg = histogram([{ name: 'TP', values: [v, v, v] }], { title: 't', xLabel: 'similarity', width: 1040, height: 320 });
    const [xs] = xsOf(svg);
    const left = Math.min(...xs!);
    const right = Math.max(...xs!);
    // the bar: the vertices off the baseline
    const ys = [...svg.matchAll(/<path d="([^"]+)"/g)][0]![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    const barXs = xs!.filter((_, k) => ys[k]! < Math.max(...ys));
    assert.ok(Math.max(...barXs) - Math.min(...barXs) >= 5, `${v}: bar ${barXs.join(',')} has (almost) no width`);
    assert.ok(right - left > 500, `${v}: the plot spans ${left}..${right}`);
    const ticks = xTicks(svg);
    assert.ok(ticks.length >= 3, `${v}: ticks ${JSON.stringify(ticks)}`);
    for (const [l] of ticks) assert.ok(Math.abs(l - v) <= 0.06, `${v}: axis label ${l} far from the value`);
    // the value, placed by the ticks, lies inside the bar
    const [[v0, p0], [v1, p1]] = [ticks[0]!, ticks[ticks.length - 1]!];
    const px = p0 + ((v - v0) / (v1 - v0)) * (p1 - p0);
    assert.ok(px > Math.min(...barXs) && px < Math.max(...barXs), `${v}: at ${px}, bar ${barXs.join(',')}`);
  }
});

test('line chart: a series of one distinct point (one point, or many on one spot) is drawn as a dot; a curve is not', () => {
  const o = { title: 't', xLabel: 'recall', yLabel: 'precision', x: [0, 1] as [number, number], y: [0, 1] as [number, number] };
  const svg = lineChart([
    { name: 'curve', color: '#111111', points: [[0.1, 0.9], [0.5, 0.6], [0.9, 0.2]] },
    { name: 'collapsed', color: '#222222', points: Array.from({ length: 98 }, () => [0, 0] as [number, number]) },
    { name: 'one', color: '#333333', points: [[0.4, 0.5]] },
  ], o);
  const dots = [...svg.matchAll(/<circle cx="([0-9.]+)" cy="([0-9.]+)" r="[0-9.]+" fill="(#\w+)"\/>/g)].map((m) => [m[3], Number(m[1]), Number(m[2])]);
  assert.deepEqual(dots.map((d) => d[0]), ['#222222', '#333333']);
  // at the point's place: the path's own vertex
  const one = [...svg.matchAll(/<path d="M([0-9.]+),([0-9.]+)" fill="none" stroke="#333333"/g)][0]!;
  assert.deepEqual(dots[1]!.slice(1), [Number(one[1]), Number(one[2])]);
});
