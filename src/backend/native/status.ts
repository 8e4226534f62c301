/**
 * What the native kernels report (`logolab doctor`, the backend line of every command), and the
 * step initBackend runs when the cpu backend is chosen. LOGOLAB_NATIVE=0 disables them.
 */
import { addonLoadError, loadAddon } from './addon.js';
import { installNativeKernels, nativeKernelsInstalled, replacedKernelNames, uninstallNativeKernels } from './overrides.js';
import { recycleCapBytes } from './recycle.js';
import { fail } from '../../errors.js';

export interface NativeKernelsStatus {
  /** the addon is built and loads */
  built: boolean;
  /** built and not disabled (LOGOLAB_NATIVE=0): the cpu backend will use it */
  available: boolean;
  /** why not, when not available or disabled */
  why: string;
  /** kernels currently replaced on the cpu backend */
  active: string[];
  threads: number;
  blas: string;
  /** cap on pooled output buffers for reuse (LOGOLAB_RECYCLE_MB), MiB; 0 = no reuse */
  reuseMiB: number;
}

export function nativeDisabled(): boolean {
  const v = process.env.LOGOLAB_NATIVE;
  if (v === undefined || v === '' || v === '1') return false;
  if (v === '0') return true;
  return fail(`LOGOLAB_NATIVE: expected 0 (native kernels off) or 1 (on: an error where they are unavailable), got '${v}'`);
}

export function nativeKernelsStatus(): NativeKernelsStatus {
  const a = loadAddon();
  const i = a?.info();
  return {
    built: a !== null,
    available: a !== null && !nativeDisabled(),
    why: a === null ? addonLoadError() : nativeDisabled() ? 'disabled by LOGOLAB_NATIVE=0' : '',
    active: nativeKernelsInstalled() ? [...replacedKernelNames(), 'LayerNorm (fused)', 'quick_gelu (fused)', 'multi-head attention (fused)', 'conv + bias + residual (fused)'] : [],
    threads: i?.threads ?? 0,
    blas: i?.blas.trim() ?? '',
    reuseMiB: recycleCapBytes() / 2 ** 20,
  };
}

/**
 * LOGOLAB_NATIVE=1 asks for the native kernels by name: where the addon is unavailable that is an
 * error naming why, never a run without them. `instead` ends the message: what unsetting it gives.
 */
export function requireNativeIfAsked(instead: string): void {
  if (process.env.LOGOLAB_NATIVE === '1' && loadAddon() === null) fail(`LOGOLAB_NATIVE=1: the native kernels are unavailable (${addonLoadError()}); unset it to ${instead}`);
}

/**
 * The cpu backend was just chosen: install the native kernels (or put the stock ones back when
 * disabled). Returns the note for the backend line, or null when there is nothing to say.
 */
export function nativeKernelsForCpuBackend(): string | null {
  if (nativeDisabled()) {
    uninstallNativeKernels();
    return null;
  }
  if (installNativeKernels()) {
    const s = nativeKernelsStatus();
    return `native kernels: OpenBLAS ×${s.threads} threads, ${s.reuseMiB ? `output buffers reused (≤ ${s.reuseMiB} MiB pooled)` : 'no buffer reuse (LOGOLAB_RECYCLE_MB=0)'}`;
  }
  // asked for by name: unavailable is an error, not the stock kernels in their place
  requireNativeIfAsked('run on the stock cpu kernels');
  return `native kernels off: ${addonLoadError()}`;
}
