/**
 * `logolab bench gpu` (scripts/bench-gpu.ts) at tiny sizes on webgpu-over-Mesa (--allow-software):
 * the same code path as the ViT-L/14 table on a GPU machine, JSON + markdown; and a machine without
 * any GPU backend gets a clear exit, not an empty table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARITY_BACKENDS, ROOT, tmpDir } from '../helpers.js';

const SCRIPT = join(ROOT, 'scripts/bench-gpu.ts');
const bench = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });

(PARITY_BACKENDS.includes('webgpu') ? test : test.skip)('bench gpu --model tiny on webgpu (software adapter allowed): embed + LoRA training rows, JSON and markdown', () => {
  const dir = tmpDir();
  const r = bench(['--backends', 'webgpu', '--model', 'tiny', '--allow-software', '--embed-batches', '2', '--train-batches', '4', '--recompute', 'on',
    '--iters', '1', '--warmup', '0', '--json', join(dir, 'gpu.json'), '--md', join(dir, 'gpu.md')]);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(join(dir, 'gpu.json'), 'utf8')) as { results: Record<string, unknown>[] };
  assert.deepEqual(j.results.map((x) => [x.mode, x.batch, x.recompute]), [['embed', 2, false], ['train', 4, true]]);
  for (const x of j.results) {
    assert.equal(x.error, undefined, String(x.error));
    assert.equal(x.backend, 'webgpu');
    assert.ok((x.images_per_s as number) > 0 && (x.peak_tensor_gib as number) > 0);
    assert.match(String(x.device), /software/);
  }
  const md = readFileSync(join(dir, 'gpu.md'), 'utf8');
  assert.match(md, /\| backend \| device \| mode \| batch \| recompute \| images\/s \|/);
  assert.equal(md.split('\n').filter((l) => l.startsWith('| webgpu |')).length, 2);
  assert.equal(r.stdout.trim(), md.trim());
});

test('bench gpu with no GPU backend present: exit 3, each absent backend says why', () => {
  const r = bench(['--backends', 'tensorflow-gpu', '--model', 'tiny']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /\[bench gpu\] tensorflow-gpu: unavailable — /);
  assert.match(r.stdout, /tensorflow-gpu: not benchmarked — /);
});

test('bench gpu: a CPU backend is refused; the command runs from any working directory (tsx resolved from the package)', () => {
  const r = bench(['--backends', 'cpu', '--model', 'tiny']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--backends: 'cpu' is not a GPU backend \(tensorflow-gpu, webgpu\)/);
  // the CLI spawns the script with --import <tsx resolved from the package>, not a bare 'tsx' the cwd may lack
  const elsewhere = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'bench', 'gpu', '--backends', 'tensorflow-gpu', '--model', 'tiny'], { cwd: tmpDir(), encoding: 'utf8' });
  assert.doesNotMatch(elsewhere.stderr, /ERR_MODULE_NOT_FOUND|Cannot find package 'tsx'/);
  assert.match(elsewhere.stdout, /tensorflow-gpu: not benchmarked — /);
});
