/**
 * The documented GPU image (examples/Dockerfile.gpu) must be able to run the documented checks of
 * a GPU machine: `doctor --selftest` (it reads the reference fixtures) and `bench gpu` (it spawns
 * scripts/bench-gpu.ts). Both once failed in the image, which copied neither. What they need is
 * derived from the code — the fixtures the selftest reads (SELFTEST_FILES), the script the CLI
 * spawns, and every project file those import (static and dynamic imports, transitively) — and
 * compared with the Dockerfile's COPY lines. The image and the Kubernetes job also set the
 * CUDA_CACHE_MAXSIZE that `doctor` recommends for Ada/Hopper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';
import { PACKAGE_FIXTURES, SELFTEST_FILES } from '../../src/selftest/fixtures.js';
import { SCRIPT as BENCH_GPU_SCRIPT } from '../../cli/commands/bench/gpu.js';
import { CUDA_CACHE_MAXSIZE_RECOMMENDED } from '../../src/backend/cuda.js';
import { importGraph } from '../architecture/import-graph.js';
import { ROOT } from '../helpers.js';

const DOCKERFILE = join(ROOT, 'examples/Dockerfile.gpu');
const rel = (p: string) => relative(ROOT, p).split('\\').join('/');

/** [repo path, image path relative to WORKDIR] for each COPY source, with Docker's rules for a directory (its contents go to dest). */
function copies(text: string): { src: string; dest: string }[] {
  const out: { src: string; dest: string }[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const m = /^\s*COPY\s+(.*)$/i.exec(line);
    if (!m) continue;
    const args = m[1]!.trim().split(/\s+/).filter((a) => !a.startsWith('--'));
    const dest = args.pop()!;
    for (const src of args) {
      const s = posix.normalize(src).replace(/\/$/, '');
      const isDir = existsSync(join(ROOT, s)) && statSync(join(ROOT, s)).isDirectory();
      // a file into a folder (dest ends in /) keeps its name; a folder's contents go to dest itself
      const d = !isDir && dest.endsWith('/') ? posix.join(dest, basename(s)) : dest;
      out.push({ src: s, dest: posix.normalize(d).replace(/^\.\/?/, '').replace(/\/$/, '') });
    }
  }
  return out;
}

/** Whether the image has repo path `p` at the same path under its WORKDIR (where the code looks for it). */
function inImage(cs: { src: string; dest: string }[], p: string): boolean {
  return cs.some((c) => (p === c.src || p.startsWith(`${c.src}/`)) && posix.join(c.dest, p.slice(c.src.length)) === p);
}

/** Every project file reachable from `entries` by import (static or `import('literal')`). */
function closure(entries: string[]): string[] {
  const g = importGraph(ROOT, ['bin', 'cli', 'src', 'training', 'scripts']);
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    // dist/ is the npm package's build: bin/logolab.mjs runs the sources where tsconfig.json is (checked below)
    todo.push(...(g.get(f) ?? []).filter((t) => !t.startsWith('dist/') && existsSync(join(ROOT, t))));
  }
  return [...seen].sort();
}

test('examples/Dockerfile.gpu copies what `doctor --selftest` and `bench gpu` need, at the paths the code reads', () => {
  const cs = copies(readFileSync(DOCKERFILE, 'utf8'));
  const fixtures = rel(PACKAGE_FIXTURES);
  const missing = SELFTEST_FILES.map((f) => `${fixtures}/${f}`).filter((p) => !inImage(cs, p));
  assert.deepEqual(missing, [], `doctor --selftest reads these, the image lacks them`);
  const code = closure(['bin/logolab.mjs', 'cli/main.ts', 'cli/commands/doctor.ts', 'cli/commands/bench/gpu.ts', rel(BENCH_GPU_SCRIPT)]);
  assert.ok(code.includes('scripts/bench-gpu.ts') && code.includes('training/selftest.ts') && code.includes('src/selftest/parity.ts'), code.join(' '));
  assert.deepEqual(code.filter((p) => !inImage(cs, p)), [], 'the CLI, the selftest and bench gpu import these, the image lacks them');
  assert.ok(inImage(cs, 'tsconfig.json'), 'bin/logolab.mjs runs the sources (not dist/) only where tsconfig.json is');
});

test('the GPU image and the Kubernetes job set the CUDA_CACHE_MAXSIZE doctor recommends for Ada/Hopper', () => {
  assert.match(readFileSync(DOCKERFILE, 'utf8'), new RegExp(`^ENV CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE_RECOMMENDED}$`, 'm'));
  assert.match(readFileSync(join(ROOT, 'examples/kubernetes/embed-indexed-job.yaml'), 'utf8'), new RegExp(`- name: CUDA_CACHE_MAXSIZE\\n\\s+value: "${CUDA_CACHE_MAXSIZE_RECOMMENDED}"`));
  assert.match(readFileSync(join(ROOT, 'examples/slurm/embed-array.sbatch'), 'utf8'), new RegExp(`^export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE_RECOMMENDED}$`, 'm'));
});
