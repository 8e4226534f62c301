/** Shared test helpers: fixture paths, tensor comparisons, tensor-leak checks. */
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The outside reference: read-only golden outputs of HF transformers/peft (see test/fixtures/README.md). */
export const FIXTURES = resolve(ROOT, 'test/fixtures');

const made: string[] = [];
let sweeping = false;

/**
 * A fresh folder under the OS temp dir, removed when this test process exits (each test file runs
 * in its own process), so repeated `npm test` runs leave nothing behind; LOGOLAB_TEST_KEEP_TMP=1
 * keeps them for a look. A folder a fault test left read-only is made writable first.
 */
export function tmpDir(prefix = 'logolab-test-'): string {
  const d = mkdtempSync(resolve(tmpdir(), prefix));
  made.push(d);
  if (!sweeping && process.env.LOGOLAB_TEST_KEEP_TMP !== '1') {
    sweeping = true;
    process.on('exit', () => {
      for (const dir of made) removeTree(dir);
    });
  }
  return d;
}

function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // a read-only folder inside (EACCES when not root): open the tree up, then try once more
    try {
      chmodTree(dir);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // left behind: a temp folder, never a reason to fail the run
    }
  }
}

function chmodTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !e.isSymbolicLink()) chmodTree(join(dir, e.name));
}

/**
 * Backends every parity test runs on. webgpu = tfjs-webgpu on Dawn; without a GPU, over Mesa's
 * software OpenGL ES (.ci/run installs it): the GPU code path, tested everywhere. It is not
 * skipped when missing — the test fails, naming what is missing — unless LOGOLAB_TEST_WEBGPU=0.
 */
export const PARITY_BACKENDS: readonly string[] = process.env.LOGOLAB_TEST_WEBGPU === '0' ? ['wasm', 'cpu'] : ['wasm', 'cpu', 'webgpu'];

export async function useBackend(name: string): Promise<void> {
  try {
    await initBackend(name, { quiet: true });
  } catch (e) {
    if (name === 'webgpu')
      (e as Error).message +=
        ' (the webgpu parity runs need the webgpu package and Mesa EGL/GLES, see .ci/run; on a machine with a GPU device node whose hardware adapter fails, LOGOLAB_WEBGPU_ADAPTER=software runs them on Mesa; LOGOLAB_TEST_WEBGPU=0 leaves them out)';
    throw e;
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Runs fn and asserts no tensors leaked. */
export async function expectNoLeak<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${before} → ${after}`);
  return r;
}

/** stderr (as the CLI's log writes it) while `fn` runs, with LOGOLAB_QUIET lifted; the value or the error of `fn` passes through. */
export async function stderrOf<T>(fn: () => Promise<T> | T): Promise<{ value: T; err: string }> {
  let err = '';
  const ew = process.stderr.write.bind(process.stderr);
  const quiet = process.env.LOGOLAB_QUIET;
  delete process.env.LOGOLAB_QUIET;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === 'string' ? ((err += c), true) : (ew as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stderr.write;
  try {
    return { value: await fn(), err };
  } finally {
    process.stderr.write = ew;
    if (quiet !== undefined) process.env.LOGOLAB_QUIET = quiet;
  }
}
