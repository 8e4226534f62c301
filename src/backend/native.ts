/**
 * Native kernels for the tfjs `cpu` backend: when the optional addon (native/, OpenBLAS) loads, the
 * heavy cpu kernels are replaced by `tf.registerKernel` versions that call it. Model code is
 * unchanged: the ops (and their gradients, themselves BatchMatMuls with transpose flags,
 * Transposes, Sums, ...) dispatch there; the fused ops that models call go through src/models/ops.ts.
 *
 * This file is the public entry and only re-exports; src/backend/native/ holds one role per file:
 *   addon.ts          loading the addon, threads, allocator statistics
 *   overrides.ts      which stock kernels are replaced; install / uninstall; fallback trace
 *   cpu.ts            what the kernels share (typed-array access, allocation, dimension collapsing)
 *   recycle.ts        reuse of disposed outputs' buffers (only those no code outside the kernels saw)
 *   matmul.ts elementwise.ts layout.ts conv.ts   the replaced kernels
 *   fused-kernels.ts  new kernels (LayerNorm, quick_gelu, attention, conv + residual) and
 *   fused-ops.ts      the customGrad ops over them
 *   op-codes.ts       op codes shared with native/src/op_codes.h
 *   status.ts         what doctor and the backend line report; the cpu-backend step of initBackend
 * Choice (measured, see the report of issue 8): on 2 cores the cpu backend with these kernels beats
 * wasm on every matmul shape, so `auto` picks cpu+native over wasm when the addon loads.
 */
export { ADDON_PATH, nativeMallocInfo, setNativeBatchThreads, setNativeThreads, type ConvPoolAddon } from './native/addon.js';
export { planBroadcast } from './native/elementwise.js';
export { planTranspose } from './native/layout.js';
export { conv2dResidual, fusedAttention, fusedLayerNorm, fusedQuickGelu } from './native/fused-ops.js';
export {
  NATIVE_KERNEL_NAMES, installNativeKernels, isNativeKernel, nativeKernel, nativeKernelsInstalled, traceNativeFallbacks, uninstallNativeKernels,
} from './native/overrides.js';
export { stockKernel } from './native/stock.js';
export { nativeDisabled, nativeKernelsStatus, type NativeKernelsStatus } from './native/status.js';
