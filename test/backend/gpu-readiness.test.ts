/**
 * tensorflow-gpu readiness: each missing CUDA library is named, libraries off the loader path get
 * an LD_LIBRARY_PATH fix, Ada/Hopper get the PTX-JIT advice; a requested tensorflow-gpu that is not
 * usable — absent, or TensorFlow registered no GPU — is a one-line error, never a CPU fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CUDA_LIBS, findCudaLibs, formatCudaReadiness, tensorflowGpuPostcheck, tensorflowGpuPrecheck, type SearchPaths } from '../../src/backend/cuda.js';
import { FIXTURES, ROOT, tmpDir } from '../helpers.js';
import { runCli } from '../cli/run.js';

function fakeLibs(dir: string, names: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, n), '');
  return dir;
}

test('findCudaLibs: loader path (LD_LIBRARY_PATH, ldconfig cache) vs a pip wheel folder vs missing; doctor names each', () => {
  const root = tmpDir();
  const ld = fakeLibs(join(root, 'ld'), ['libcudart.so.11.0']);
  const wheel = fakeLibs(join(root, 'site-packages/nvidia/cudnn/lib'), ['libcudnn.so.8']);
  const paths: SearchPaths = {
    ldconfig: '\tlibcublas.so.11 (libc6,x86-64) => /opt/cuda/libcublas.so.11\n\tlibfoo.so.1 (libc6,x86-64) => /usr/lib/libfoo.so.1\n',
    ldLibraryPath: `${ld}:/nonexistent`,
    extraDirs: [wheel],
  };
  const libs = findCudaLibs(paths);
  const by = Object.fromEntries(libs.map((l) => [l.soname, l]));
  assert.equal(by['libcudart.so.11.0']!.loadable, join(ld, 'libcudart.so.11.0'));
  assert.equal(by['libcublas.so.11']!.loadable, '/opt/cuda/libcublas.so.11');
  assert.equal(by['libcudnn.so.8']!.loadable, null);
  assert.equal(by['libcudnn.so.8']!.elsewhere, wheel);
  const text = formatCudaReadiness({ libs, gpus: [{ name: 'NVIDIA H200', computeCap: '9.0', driver: '550.54', memoryMiB: 143771 }], gpuWhy: null, allowGrowth: undefined, cacheMaxSize: undefined }).join('\n');
  for (const l of CUDA_LIBS.filter((l) => !['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'].includes(l.soname))) {
    assert.match(text, new RegExp(`${l.soname.replace(/\./g, '\\.')}\\s+MISSING`), l.soname);
  }
  assert.match(text, /libcudnn\.so\.8\s+NOT on the loader path/);
  assert.ok(text.includes(`export LD_LIBRARY_PATH=${wheel}:$LD_LIBRARY_PATH`));
  assert.match(text, /CUDA 11\.8 runtime libraries and cuDNN 8\.9/);
  assert.match(text, /compute capability 9: .*JIT-compiled from PTX/);
  assert.match(text, /CUDA_CACHE_MAXSIZE=4294967296/);
  assert.match(text, /GPU: NVIDIA H200, compute capability 9\.0/);
});

test('tensorflow-gpu precheck names the missing sonames; with all present it sets TF_FORCE_GPU_ALLOW_GROWTH unless the user did', () => {
  const none: SearchPaths = { ldconfig: '', ldLibraryPath: '', extraDirs: [] };
  const why = tensorflowGpuPrecheck(none);
  if (process.platform === 'linux') {
    assert.ok(why && CUDA_LIBS.every((l) => why.includes(l.soname)), why ?? '');
    assert.ok(!why.includes('\n'));
  }
  const all = fakeLibs(join(tmpDir(), 'all'), CUDA_LIBS.map((l) => l.soname));
  const prev = process.env.TF_FORCE_GPU_ALLOW_GROWTH;
  try {
    delete process.env.TF_FORCE_GPU_ALLOW_GROWTH;
    assert.equal(tensorflowGpuPrecheck({ ...none, ldLibraryPath: all }), null);
    assert.equal(process.env.TF_FORCE_GPU_ALLOW_GROWTH, 'true');
    process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'false';
    tensorflowGpuPrecheck({ ...none, ldLibraryPath: all });
    assert.equal(process.env.TF_FORCE_GPU_ALLOW_GROWTH, 'false');
  } finally {
    if (prev === undefined) delete process.env.TF_FORCE_GPU_ALLOW_GROWTH;
    else process.env.TF_FORCE_GPU_ALLOW_GROWTH = prev;
  }
});

test('tensorflow-gpu postcheck: TensorFlow without a GPU device (CPU fallback) is refused', () => {
  assert.equal(tensorflowGpuPostcheck({ isGPUPackage: true, isUsingGpuDevice: true }), null);
  assert.match(tensorflowGpuPostcheck({ isGPUPackage: true, isUsingGpuDevice: false })!, /registered no GPU device: it would run on the CPU/);
  assert.match(tensorflowGpuPostcheck({ isGPUPackage: false, isUsingGpuDevice: false })!, /tfjs-node \(CPU build\)/);
});

test('--backend tensorflow-gpu where it is unavailable: one `logolab: error:` line, non-zero exit', async () => {
  const r = await runCli(['doctor', '--selftest', '--backend', 'tensorflow-gpu', '--checks', 'parity']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^logolab: error: --backend tensorflow-gpu: not available: /);
});

test('doctor lists every CUDA soname and the auto order', async () => {
  const r = await runCli(['doctor']);
  assert.equal(r.code, 0, r.stderr);
  for (const l of CUDA_LIBS) assert.match(r.stdout, new RegExp(`  ${l.soname.replace(/\./g, '\\.')}\\s+(found|NOT on|MISSING)`));
  assert.match(r.stdout, /auto picks: \S+ \(order: tensorflow-gpu → webgpu on a hardware adapter → tensorflow → cpu\+native → wasm → cpu\)/);
  assert.match(r.stdout, /^ {2}webgpu: (available|unavailable)/m);
});

test('LOGOLAB_BACKEND naming an unavailable backend: the error names the variable, not --backend', () => {
  const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'embed', '--model', join(ROOT, 'models/logolab-tiny-clip'), '--out', join(tmpDir(), 'e.jsonl'), join(FIXTURES, 'images/square_224.png')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOGOLAB_BACKEND: 'tensorflow-gpu' },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^logolab: error: LOGOLAB_BACKEND=tensorflow-gpu: not available: /m);
});
