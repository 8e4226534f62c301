/**
 * Which stock cpu kernels the native ones replace, and installing / removing them. Anything the
 * addon does not cover (non-float32 dtypes, complex, NCHW convs, prelu) falls through to the stock
 * kernel (./stock.ts). Replaced kernels were chosen by measurement (scripts/bench-native.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { loadAddon } from './addon.js';
import type { Args, CpuBackend, Impl } from './cpu.js';
import { avgPool, conv2d, conv2dBackpropFilter, conv2dBackpropInput, fusedConv2D, maxPool } from './conv.js';
import { binaryKernel, reduceKernel, softmax, unaryKernel } from './elementwise.js';
import { FUSED_KERNELS } from './fused-kernels.js';
import { concat, padV2, slice, tile, transpose } from './layout.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { BINARY_KERNELS, UNARY_KERNELS } from './op-codes.js';
import { attachRecycler, bookkeeping, detachRecycler, recycleCapBytes } from './recycle.js';
import { stock, stockFunc } from './stock.js';

const kernels: Record<string, Impl> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Concat: concat,
  Conv2D: conv2d,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  Conv2DBackpropInput: conv2dBackpropInput,
  FusedConv2D: fusedConv2D,
  MaxPool: maxPool,
  AvgPool: avgPool,
  Tile: tile,
  Transpose: transpose,
  Slice: slice,
  PadV2: padV2,
  Softmax: softmax,
  Sum: reduceKernel(false),
  Mean: reduceKernel(true),
  ...Object.fromEntries(BINARY_KERNELS.map((k) => [k, binaryKernel(k)])),
  ...Object.fromEntries(UNARY_KERNELS.map((k) => [k, unaryKernel(k)])),
};

export const NATIVE_KERNEL_NAMES = Object.keys(kernels);

/** Stock kernels that stay stock but run as bookkeeping for buffer reuse (./recycle.ts): they only
 *  share their input's dataId. Re-registered while installed, restored by uninstall. */
const BOOKKEEPING_KERNELS = ['Reshape'];
const bookkeepingStock = new Map<string, tf.KernelConfig>();

/** Per call of each replaced kernel: did it fall back to the stock kernel? (kernel coverage report; null = off) */
let fallbackTrace: Map<string, boolean[]> | null = null;
/** Starts (a fresh trace) or stops recording fallbacks; returns the trace recorded so far. */
export function traceNativeFallbacks(on: boolean): Map<string, boolean[]> | null {
  const t = fallbackTrace;
  fallbackTrace = on ? new Map() : null;
  return t;
}

/** The native implementation of `name` (falls back to the stock kernel where the addon does not apply). */
export function nativeKernel(name: string): tf.KernelFunc {
  const impl = kernels[name];
  if (!impl) throw new Error(`no native kernel ${name}`);
  return (args) => {
    if (installed) attachRecycler(args.backend as unknown as CpuBackend);
    const out = impl(args as unknown as Args);
    if (fallbackTrace) {
      const calls = fallbackTrace.get(name) ?? [];
      calls.push(out === null);
      fallbackTrace.set(name, calls);
    }
    return (out ?? stockFunc(name)(args)) as tf.TensorInfo;
  };
}

let installed = false;

/** Are the native kernels registered on the cpu backend right now? */
export function nativeKernelsInstalled(): boolean {
  return installed;
}

/** Is kernel `name` served natively on the cpu backend right now (a replaced stock kernel whose
 *  registration is not the stock one, or one of the fused Logolab* kernels, which only this module registers)? */
export function isNativeKernel(name: string): boolean {
  const k = tf.getKernel(name, 'cpu');
  return installed && !!k && (name.startsWith('Logolab') || (stock.has(name) && k.kernelFunc !== stock.get(name)!.kernelFunc));
}

/**
 * Registers the native kernels on the cpu backend (idempotent). False when the addon is unavailable.
 * Allocator: once the kernels are installed, glibc serves large buffers from its heap, reused after
 * free, instead of one fresh mmap per tensor (measured on a ViT-L/14 LoRA step: 160k page faults
 * and ~19 % of its CPU time; native/src/memory.cc). LOGOLAB_MALLOC_TUNE=0 keeps glibc's defaults.
 * Output buffers of disposed tensors are reused by the next output of the same length (./recycle.ts;
 * the backend is attached at the first native kernel call).
 */
export function installNativeKernels(): boolean {
  if (installed) return true;
  const addon = loadAddon();
  if (!addon) return false;
  recycleCapBytes(); // a malformed LOGOLAB_RECYCLE_MB fails here, not inside a kernel
  if (process.env.LOGOLAB_MALLOC_TUNE !== '0') addon.mallocTune(0, 1 << 30);
  for (const name of NATIVE_KERNEL_NAMES) {
    const k = tf.getKernel(name, 'cpu');
    if (!k) continue;
    stock.set(name, k);
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: nativeKernel(name) });
  }
  for (const name of BOOKKEEPING_KERNELS) {
    const k = tf.getKernel(name, 'cpu');
    if (!k) continue;
    bookkeepingStock.set(name, k);
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...k, kernelFunc: (args) => bookkeeping(() => k.kernelFunc(args)) });
  }
  for (const [kernelName, f] of FUSED_KERNELS) {
    const kernelFunc: tf.KernelFunc = (args) => {
      if (installed) attachRecycler(args.backend as unknown as CpuBackend);
      return f(args);
    };
    if (!tf.getKernel(kernelName, 'cpu')) tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
  }
  installed = true;
  return true;
}

/** Puts the stock cpu kernels back. */
export function uninstallNativeKernels(): void {
  if (!installed) return;
  detachRecycler();
  for (const [name, k] of bookkeepingStock) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(k);
  }
  bookkeepingStock.clear();
  for (const [name, k] of stock) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(k);
  }
  installed = false;
}

/** The replaced stock kernels (in registration order). */
export function replacedKernelNames(): string[] {
  return [...stock.keys()];
}
