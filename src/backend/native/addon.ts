/**
 * Loading the native addon (native/, built at `npm install` by scripts/build-native.mjs over
 * OpenBLAS) and the process-wide settings it holds (threads, allocator).
 *
 * Threads: LOGOLAB_THREADS, else OPENBLAS_NUM_THREADS, else all cores.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { packagePath } from '../../util/package-root.js';
import { fail, firstLine } from '../../errors.js';


/** The addon's entry points (native/src/binding.cc, conv.cc, pool.cc, memory.cc). Op codes: ./op-codes.ts. */
export interface Addon {
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean,
    aIdx: Int32Array, bIdx: Int32Array, bias?: Float32Array | null, act?: number, alpha?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  transpose(x: Float32Array, out: Float32Array, shape: Int32Array, strides: Int32Array): void;
  scatter(x: Float32Array, out: Float32Array, shape: Int32Array, dstStrides: Int32Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  layernorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number): void;
  layernormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dx: Float32Array, dgamma: Float32Array,
    dbeta: Float32Array, rows: number, cols: number): void;
  rowsum(x: Float32Array, out: Float32Array, rows: number, cols: number, scale: number): void;
  setBatchThreads(on: boolean): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, params: Int32Array): void;
  quickGeluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, probs: Float32Array, params: Int32Array, scale: number): void;
  attentionGrad(dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array, params: Int32Array, scale: number): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, out: Float32Array, params: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, out: Float32Array, params: Int32Array): void;
  fusedConv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, prelu: Float32Array | null, out: Float32Array, params: Int32Array,
    act: number, alpha: number, tuning?: Int32Array | null, residual?: Float32Array | null): void;
  pool2d(x: Float32Array, out: Float32Array, params: Int32Array, kind: number): void;
  setThreads(n: number): void;
  /** threads: as setThreads configured it; blasThreadsNow: OpenBLAS's own count at this moment (1 while a kernel's single-threaded section runs). */
  info(): { threads: number; blasThreadsNow: number; blas: string };
  mallocTune(mmapMax: number, trimThreshold: number): boolean;
  mallocInfo(): { heap: number; inUse: number; free: number; mmapped: number };
}

/** The entry points of the conv and pool kernels (scripts/bench-conv.ts calls them directly). */
export type ConvPoolAddon = Pick<Addon, 'fusedConv2d' | 'pool2d'>;

export const ADDON_PATH = packagePath('native', 'build', 'Release', 'logolab_native.node');

let addon: Addon | null = null;
let loadWhy = '';

/** The addon, loaded once (threads set); null when it is not built or fails to load (see addonLoadError). */
export function loadAddon(): Addon | null {
  if (addon || loadWhy) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadWhy = 'addon not built (needs g++ and libopenblas-dev at npm install; rebuild: node scripts/build-native.mjs)';
    return null;
  }
  const n = threadsWanted();
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    addon.setThreads(n);
  } catch (e) {
    addon = null;
    loadWhy = `addon failed to load: ${firstLine(e)}`;
  }
  return addon;
}

/** OpenBLAS threads: LOGOLAB_THREADS, else OPENBLAS_NUM_THREADS, else every core; a bad value is an error, not ignored. */
function threadsWanted(): number {
  for (const name of ['LOGOLAB_THREADS', 'OPENBLAS_NUM_THREADS']) {
    const v = process.env[name];
    if (v === undefined || v === '') continue;
    if (!/^\d+$/.test(v) || Number(v) < 1) fail(`${name}: expected a whole number of threads ≥ 1, got '${v}'`);
    return Number(v);
  }
  return availableParallelism();
}

/** Why the addon did not load ('' when it did, or was not tried yet). */
export function addonLoadError(): string {
  return loadWhy;
}

/** The loaded addon, for kernels, which are only registered after it loaded. */
export function theAddon(): Addon {
  if (!addon) throw new Error(`logolab native addon not loaded${loadWhy ? `: ${loadWhy}` : ''}`);
  return addon;
}

/** Sets the BLAS thread count (also used by benchmarks). */
export function setNativeThreads(n: number): void {
  loadAddon()?.setThreads(n);
}

/** glibc malloc statistics of the process (bytes; null without the addon): heap, in use, free, mmapped. */
export function nativeMallocInfo(): { heap: number; inUse: number; free: number; mmapped: number } | null {
  return loadAddon()?.mallocInfo() ?? null;
}

/** Whether batched small matmuls are split over threads (default on; benchmarks compare). */
export function setNativeBatchThreads(on: boolean): void {
  loadAddon()?.setBatchThreads(on);
}
