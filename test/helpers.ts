/** Shared test helpers: fixture paths, tensor comparisons, tensor-leak checks. */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The outside reference: read-only golden outputs of HF transformers/peft (see test/fixtures/README.md). */
export const FIXTURES = resolve(ROOT, 'test/fixtures');

export function tmpDir(prefix = 'logolab-test-'): string {
  return mkdtempSync(resolve(tmpdir(), prefix));
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
