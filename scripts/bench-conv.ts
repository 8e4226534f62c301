/**
 * Micro-benchmark of the native FusedConv2D (native/src/conv.cc) on the convolutions of DETR's
 * ResNet-50 at a given input size: ms and GFLOP/s per distinct layer shape for each work split
 * (auto; row chunks over own threads with single-threaded sgemm; one im2col + multi-threaded sgemm),
 * and the whole backbone's conv time weighted by how often each shape occurs.
 *
 *   npx tsx scripts/bench-conv.ts [--height 800] [--width 1067] [--reps 3] [--threads 2] [--chunk ROWS] [--cpu-time]
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ADDON_PATH, type ConvPoolAddon } from '../src/backend/native/addon.js';

const { values: a } = parseArgs({ options: { height: { type: 'string', default: '800' }, width: { type: 'string', default: '1067' }, reps: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, chunk: { type: 'string', default: '0' }, 'cpu-time': { type: 'boolean', default: false } } });
const addon = createRequire(import.meta.url)(ADDON_PATH) as ConvPoolAddon & { setThreads(n: number): void };
addon.setThreads(Number(a.threads));

const conv = (H: number, k: number, s: number) => Math.floor((H + 2 * Math.floor(k / 2) - k) / s) + 1;
// [name, H, W, C, k, stride, oc, count in ResNet-50]
type L = [string, number, number, number, number, number, number, number];
const layers: L[] = [];
let H = Number(a.height), W = Number(a.width);
layers.push(['stem 7×7/2', H, W, 3, 7, 2, 64, 1]);
H = conv(conv(H, 7, 2), 3, 2); W = conv(conv(W, 7, 2), 3, 2);
let inC = 64;
for (const [mid, out, blocks, stride] of [[64, 256, 3, 1], [128, 512, 4, 2], [256, 1024, 6, 2], [512, 2048, 3, 2]] as const) {
  const s = `${Math.log2(out / 128)}`; // layer1 … layer4
  layers.push([`layer${s} c1 1×1 ${inC}→${mid} (first)`, H, W, inC, 1, 1, mid, 1]);
  layers.push([`layer${s} c2 3×3/${stride} ${mid} (first)`, H, W, mid, 3, stride, mid, 1]);
  layers.push([`layer${s} down 1×1/${stride} ${inC}→${out}`, H, W, inC, 1, stride, out, 1]);
  H = conv(H, 3, stride); W = conv(W, 3, stride);
  layers.push([`layer${s} c3 1×1 ${mid}→${out}`, H, W, mid, 1, 1, out, blocks]);
  layers.push([`layer${s} c1 1×1 ${out}→${mid}`, H, W, out, 1, 1, mid, blocks - 1]);
  layers.push([`layer${s} c2 3×3/1 ${mid}`, H, W, mid, 3, 1, mid, blocks - 1]);
  inC = out;
}

function rand(n: number): Float32Array {
  const o = new Float32Array(n);
  for (let i = 0; i < n; i++) o[i] = Math.sin(i * 12.9898) * 0.5;
  return o;
}
const reps = Number(a.reps);
const modes: [string, number][] = [['auto', 0], ['row chunks', 1], ['channel split', 2]];
const total = new Map<string, number>();
let flopsAll = 0;
process.stdout.write(`ResNet-50 convs at ${a.height}×${a.width}, ${a.threads} threads, ${a['cpu-time'] ? 'CPU ms per thread' : 'wall ms'}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n\n`);
process.stdout.write(`| layer | ×n | out rows | K | N | ${modes.map(([m]) => `${m} ms (GFLOP/s)`).join(' | ')} |\n| --- | ---: | ---: | ---: | ---: |${modes.map(() => ' ---: |').join('')}\n`);
for (const [name, h, w, c, k, s, oc, n] of layers) {
  if (n === 0) continue;
  const p = Math.floor(k / 2), oh = conv(h, k, s), ow = conv(w, k, s);
  const x = rand(h * w * c), f = rand(k * k * c * oc), bias = rand(oc), out = new Float32Array(oh * ow * oc);
  const params = Int32Array.from([1, h, w, c, k, k, s, s, 1, 1, p, p, oh, ow, oc]);
  const flops = 2 * oh * ow * k * k * c * oc;
  flopsAll += flops * n;
  const cells: string[] = [];
  for (const [m, mode] of modes) {
    const tune = Int32Array.from([mode, Number(a.chunk)]);
    addon.fusedConv2d(x, f, bias, null, out, params, 1, 0, tune);
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      addon.fusedConv2d(x, f, bias, null, out, params, 1, 0, tune);
      const c = process.cpuUsage(c0);
      // --cpu-time: process CPU time per thread (less sensitive to other load than wall time)
      ts.push(a['cpu-time'] ? (c.user + c.system) / 1000 / Number(a.threads) : performance.now() - t0);
    }
    const ms = ts.sort((u, v) => u - v)[ts.length >> 1]!;
    total.set(m, (total.get(m) ?? 0) + ms * n);
    cells.push(`${ms.toFixed(1)} (${(flops / ms / 1e6).toFixed(0)})`);
  }
  process.stdout.write(`| ${name} | ${n} | ${oh * ow} | ${k * k * c} | ${oc} | ${cells.join(' | ')} |\n`);
}
process.stdout.write(`| **all convs** | | | | | ${modes.map(([m]) => `**${total.get(m)!.toFixed(0)}** (${(flopsAll / total.get(m)! / 1e6).toFixed(0)})`).join(' | ')} |\n`);
