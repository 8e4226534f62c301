/**
 * Peak memory of a piece of tfjs work, two ways (used by bench-native.ts and profile-train-step.ts):
 *   tfBytes   — tf.memory().numBytes, as tfjs counts it: a buffer is counted once per tensor that
 *               shares it (reshapes, the clones kept for gradients);
 *   liveBytes — bytes of the distinct buffers in the backend's data store (cpu/wasm-style backends
 *               that keep a `data` store with set/delete), i.e. what the tensors really hold.
 * Sampled after every kernel while a probe is active.
 */
import * as tf from '@tensorflow/tfjs';

export interface MemoryPeaks {
  tfBytes: number;
  liveBytes: number;
}

interface Store { set(id: object, v: { values?: { byteLength?: number } }): void; delete(id: object): boolean }

const live = new Map<object, number>();
let liveBytes = 0;
let hooked = false;

/** Starts counting live buffer bytes (from now on: call before the weights are made to include them). */
export function trackLiveBytes(): void {
  if (hooked) return;
  const store = (tf.backend() as unknown as { data?: Store }).data;
  if (!store || typeof store.set !== 'function' || typeof store.delete !== 'function') return;
  hooked = true;
  const set = store.set.bind(store), del = store.delete.bind(store);
  store.set = (id, v) => {
    liveBytes -= live.get(id) ?? 0;
    const n = v.values?.byteLength ?? 0;
    live.set(id, n);
    liveBytes += n;
    set(id, v);
  };
  store.delete = (id) => {
    liveBytes -= live.get(id) ?? 0;
    live.delete(id);
    return del(id);
  };
}

export function currentLiveBytes(): number {
  return hooked ? liveBytes : NaN;
}

/** Runs f, sampling both counts after every kernel; returns the peaks seen. */
export function measurePeaks(f: () => void): MemoryPeaks {
  const eng = tf.engine() as unknown as { runKernelFunc: (p: unknown) => unknown };
  const orig = eng.runKernelFunc;
  const peaks: MemoryPeaks = { tfBytes: tf.memory().numBytes, liveBytes: currentLiveBytes() };
  eng.runKernelFunc = function (this: unknown, p: unknown) {
    const r = orig.call(this, p);
    peaks.tfBytes = Math.max(peaks.tfBytes, tf.memory().numBytes);
    peaks.liveBytes = Math.max(peaks.liveBytes, currentLiveBytes());
    return r;
  };
  try {
    f();
  } finally {
    delete (eng as { runKernelFunc?: unknown }).runKernelFunc;
    if (eng.runKernelFunc !== orig) eng.runKernelFunc = orig;
  }
  return peaks;
}
