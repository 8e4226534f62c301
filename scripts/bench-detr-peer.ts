/**
 * Side-by-side benchmark of DETR-R50 inference: `logolab bench detect --detector detr-r50` (one child
 * process per backend) and the PyTorch peer (scripts/bench_detr_torch_peer.py: torchvision ResNet-50
 * trunk + 1×1 projection + nn.Transformer 6+6, d 256, 8 heads, 100 queries) in the same run, same
 * input size and thread count. Prints a markdown table (seconds per image, ratio to PyTorch, load
 * average before each cell) on stdout and, with --profile, logolab's per-kernel tables on stderr.
 *
 *   npx tsx scripts/bench-detr-peer.ts [--size 800] [--width 1067] [--images 2] [--warmup 1]
 *        [--backends auto,wasm] [--threads 2] [--rounds 1] [--profile] [--json out.json]
 * (--rounds N alternates logolab and PyTorch N times; --profile profiles the first round)
 * Heavy (800×1067): run under `flock /tmp/logolab-heavy.lock` on a shared machine.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '800' },
    width: { type: 'string' },
    images: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    backends: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const size = Number(a.size), width = a.width ? Number(a.width) : Math.round((size * 4) / 3);
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');
const env = { ...process.env, LOGOLAB_THREADS: a.threads, OMP_NUM_THREADS: a.threads };

interface Row { who: string; s: number[]; cpu: number[]; load: string[]; extra: Record<string, unknown> }
const rows = new Map<string, Row>();
const add = (key: string, who: string, s: number, l: string, extra: Record<string, unknown>) => {
  const r = rows.get(key) ?? { who, s: [], cpu: [], load: [], extra };
  r.s.push(s);
  r.cpu.push(extra.cpu_s_per_image as number);
  r.load.push(l);
  rows.set(key, r);
};

// rounds alternate logolab and PyTorch, so both see the same (shared-machine) load over time
for (let round = 0; round < Number(a.rounds); round++) {
  for (const backend of a.backends!.split(',')) {
    const l = load();
    const args = ['bin/logolab.mjs', 'bench', 'detect', '--detector', 'detr-r50', '--size', String(size), '--image-width', String(width), '--image-height', String(size),
      '--images', a.images!, '--warmup', a.warmup!, '--backend', backend, ...(a.profile && round === 0 ? ['--profile'] : [])];
    const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`bench detect --backend ${backend} exited with ${r.status ?? r.signal}`);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    add(backend, `logolab ${j.backend as string}`, (j.ms_per_image as number) / 1000, l, j);
  }
  const l = load();
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts/bench_detr_torch_peer.py'), '--height', String(size), '--width', String(width), '--images', a.images!, '--warmup', a.warmup!, '--threads', a.threads!],
    { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`PyTorch peer exited with ${r.status ?? r.signal}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  add('torch', `PyTorch ${j.torch as string} (oneDNN ${j.mkldnn ? 'on' : 'off'})`, j.seconds_per_image as number, l, j);
}
const median = (v: number[]) => v.slice().sort((x, y) => x - y)[v.length >> 1]!;
const torch = median(rows.get('torch')!.s);
const out = [
  `DETR-R50 (random weights) at ${size}×${width}, batch 1, ${a.threads} threads, ${a.images} timed image(s) after ${a.warmup} warm-up, ${a.rounds} round(s) alternating; median`,
  '',
  '| run | s / image (median) | each round | PyTorch s ÷ this s | CPU s / image (median; all threads) | load avg (1/5/15 min) before each round |',
  '| --- | ---: | --- | ---: | ---: | --- |',
  ...[...rows.values()].map((r) => `| ${r.who} | ${median(r.s).toFixed(3)} | ${r.s.map((v) => v.toFixed(2)).join(', ')} | ${(torch / median(r.s)).toFixed(2)} | ${median(r.cpu).toFixed(2)} | ${r.load.join('; ')} |`),
];
process.stdout.write(out.join('\n') + '\n');
if (a.json) writeFileSync(a.json, JSON.stringify({ size, width, threads: Number(a.threads), rows: [...rows.values()] }, null, 2));
