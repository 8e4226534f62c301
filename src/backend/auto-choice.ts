/**
 * `auto`'s choice between the two CPU backends — cpu (+ native OpenBLAS kernels when built) and
 * wasm — per workload, from measured facts: which one ran the workload faster on this kind of
 * machine, measured side by side (scripts/bench-detr-peer.ts, `logolab bench backends`). The GPU
 * backends keep their place in front; only the relative order of cpu and wasm changes, and the
 * reason goes into the one-line backend report.
 */
import { arch, availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';

/** What the command spends its time on. */
export type Workload = 'encoder' | 'detector' | 'train';

export interface MachineFacts {
  arch: string;
  cores: number;
  /** widest x86 SIMD OpenBLAS and XNNPACK can use: 'avx512', 'avx2' (with FMA), or 'baseline' */
  simd: 'avx512' | 'avx2' | 'baseline';
}

let facts: MachineFacts | null = null;
export function machineFacts(): MachineFacts {
  if (facts) return facts;
  let simd: MachineFacts['simd'] = 'baseline';
  try {
    if (existsSync('/proc/cpuinfo')) {
      const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/));
      simd = flags.has('avx512f') ? 'avx512' : flags.has('avx2') && flags.has('fma') ? 'avx2' : 'baseline';
    }
  } catch {
    /* not Linux, or unreadable: baseline */
  }
  return (facts = { arch: arch(), cores: availableParallelism(), simd });
}

/** One measured comparison: seconds of the same work on cpu + native kernels and on wasm. */
export interface Measured { what: string; native: number; wasm: number; unit: string }

/**
 * Side-by-side measurements on x64 with AVX2 + FMA and 2 cores (OpenBLAS 0.3.21, tfjs 4.22; how and
 * when: README "Backends and speed"). With more cores the native kernels gain (wasm runs
 * single-threaded in Node), so the table holds for ≥ 2 cores; AVX-512 machines are counted with
 * AVX2 ones (not measured separately).
 */
export const X64_2CORES: Record<Workload, Measured> = {
  // README "Backends and speed" (bench backends, load 2.2–2.7): 0.42 vs 0.08 images/s
  encoder: { what: 'CLIP ViT-L/14 embed, batch 1', native: 2.38, wasm: 12.5, unit: 's/image' },
  // same run: 112.6 vs 19.0 images/s
  train: { what: 'tiny ViT LoRA step, batch 64', native: 0.57, wasm: 3.37, unit: 's/step' },
  // scripts/bench-detr-peer.ts
  detector: { what: 'DETR-R50 800×1067', native: 1.5, wasm: 27, unit: 's/image' },
};

export interface AutoChoice {
  /** the CPU backend to try first */
  first: 'cpu' | 'wasm';
  /** for the backend report */
  why: string;
}

/** Which CPU backend `auto` tries first for `workload`, and why. */
export function chooseCpuBackend(workload: Workload | undefined, nativeAvailable: boolean, m: MachineFacts = machineFacts(), table: Record<Workload, Measured> = X64_2CORES): AutoChoice {
  if (!nativeAvailable) return { first: 'wasm', why: 'auto: wasm before the stock cpu backend (pure JS kernels, ~1 GFLOP/s; native kernels not built)' };
  const kind = `${m.arch} ${m.simd} ×${m.cores}`;
  const measured = m.arch === 'x64' && m.simd !== 'baseline' && m.cores >= 2 ? table : null;
  if (!workload || !measured) {
    return { first: 'cpu', why: `auto: cpu+native before wasm (${measured ? 'faster for every measured workload' : `no measurement for ${kind}; OpenBLAS kernels assumed faster`})` };
  }
  const f = measured[workload];
  const first = f.native <= f.wasm ? 'cpu' : 'wasm';
  const [a, b] = first === 'cpu' ? [`cpu+native ${f.native}`, `wasm ${f.wasm}`] : [`wasm ${f.wasm}`, `cpu+native ${f.native}`];
  return { first, why: `auto for ${workload}: ${first === 'cpu' ? 'cpu+native' : 'wasm'} (${f.what}: ${a} vs ${b} ${f.unit}, measured on x64 AVX2 ×2 cores; here ${kind})` };
}

/** `order` with cpu and wasm swapped when needed so that `first` comes first among the two; the rest stays in place. */
export function orderCpuBackends<T extends string>(order: T[], first: 'cpu' | 'wasm'): T[] {
  const i = order.indexOf('cpu' as T), j = order.indexOf('wasm' as T);
  if (i < 0 || j < 0 || (first === 'cpu') === i < j) return order;
  const out = order.slice();
  out[i] = order[j]!;
  out[j] = order[i]!;
  return out;
}
