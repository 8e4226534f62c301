/**
 * Kernel coverage report: which kernels a piece of work spends its time in, and whether each ran
 * natively. `tf.profile` times every kernel invocation; only registered kernels are counted (the
 * profile also lists customGrad ops such as tf.fused.conv2d, whose time is that of the kernels they
 * run, which are listed themselves). On the cpu backend with the native kernels active a kernel is
 * 'native' when src/backend/native/ serves it and did not fall back to the stock kernel for that
 * call (traced per call), else 'stock JS'. On other backends every kernel is the backend's own.
 *
 * Used by `logolab bench embed|detect|train --profile` and by test/backend/kernel-coverage.test.ts,
 * which fails when a kernel taking ≥ 2 % of a DETR forward or a ViT LoRA step runs in stock JS.
 */
import * as tf from '@tensorflow/tfjs';
import { isNativeKernel, nativeKernelsInstalled, traceNativeFallbacks } from './native/overrides.js';

export type KernelImpl = 'native' | 'stock JS' | 'native, some calls stock JS' | 'view (no data pass)' | string;

/** Kernels that only relabel a tensor's data (no pass over it) on the cpu backend: never a slow path. */
const VIEW_KERNELS = new Set(['Reshape', 'Identity', 'ExpandDims']);

export interface KernelRow {
  kernel: string;
  ms: number;
  calls: number;
  /** share of the time spent in kernels */
  share: number;
  impl: KernelImpl;
  /** milliseconds of the calls that ran in stock JS (the native kernel fell back, or none exists) */
  stockMs: number;
}

export interface KernelProfile {
  backend: string;
  /** native kernels were active on the cpu backend */
  native: boolean;
  /** wall time of the profiled work */
  wallMs: number;
  /** time inside registered kernels (the rest is JS glue, tensor bookkeeping, GC) */
  kernelMs: number;
  /** sorted by time, descending */
  rows: KernelRow[];
  /** tf.profile's peak of live tensor bytes during the work (weights included) */
  peakBytes: number;
  /** kernel invocations (customGrad ops excluded) */
  calls: number;
}

/** Runs `fn` under tf.profile and returns its result with the per-kernel table. */
export async function profileKernels<T>(fn: () => T | Promise<T>): Promise<{ result: T; profile: KernelProfile }> {
  const backend = tf.getBackend();
  const native = backend === 'cpu' && nativeKernelsInstalled();
  traceNativeFallbacks(native);
  let result!: T;
  let info: Awaited<ReturnType<typeof tf.profile>>;
  const t0 = performance.now();
  try {
    info = await tf.profile(async () => {
      result = await fn();
      return [] as unknown as tf.TensorContainer;
    });
  } catch (e) {
    traceNativeFallbacks(false);
    throw e;
  }
  const wallMs = performance.now() - t0;
  const fellBack = traceNativeFallbacks(false) ?? new Map<string, boolean[]>();
  const seen = new Map<string, number>(); // calls of each traced kernel consumed so far
  const acc = new Map<string, { ms: number; calls: number; stockMs: number; stockCalls: number }>();
  for (const k of info.kernels) {
    const name = k.name;
    if (!tf.getKernel(name, backend)) continue; // a customGrad op: its kernels are listed themselves
    const ms = Number(k.kernelTimeMs) || 0;
    let stock = false;
    if (native && !VIEW_KERNELS.has(name)) {
      if (!isNativeKernel(name)) stock = true;
      else {
        const i = seen.get(name) ?? 0;
        seen.set(name, i + 1);
        stock = fellBack.get(name)?.[i] === true;
      }
    }
    const a = acc.get(name) ?? { ms: 0, calls: 0, stockMs: 0, stockCalls: 0 };
    a.ms += ms;
    a.calls++;
    if (stock) {
      a.stockMs += ms;
      a.stockCalls++;
    }
    acc.set(name, a);
  }
  const kernelMs = [...acc.values()].reduce((s, a) => s + a.ms, 0);
  const rows: KernelRow[] = [...acc].map(([kernel, a]) => ({
    kernel,
    ms: a.ms,
    calls: a.calls,
    share: kernelMs > 0 ? a.ms / kernelMs : 0,
    impl: backend === 'cpu' && VIEW_KERNELS.has(kernel) ? 'view (no data pass)' : !native ? (backend === 'cpu' ? 'stock JS' : backend)
      : a.stockCalls === 0 ? 'native' : a.stockCalls === a.calls ? 'stock JS' : 'native, some calls stock JS',
    stockMs: backend !== 'cpu' || VIEW_KERNELS.has(kernel) ? 0 : native ? a.stockMs : a.ms,
  }));
  rows.sort((x, y) => y.ms - x.ms || x.kernel.localeCompare(y.kernel));
  const calls = rows.reduce((s, r) => s + r.calls, 0);
  return { result, profile: { backend, native, wallMs, kernelMs, rows, peakBytes: info.peakBytes, calls } };
}

/**
 * Per kernel the least time over several profiles of the same work (a GC pause or a preemption by
 * another process lands in whichever kernel runs; the minimum over runs filters it out).
 */
export function minOverRuns(ps: KernelProfile[]): KernelProfile {
  if (!ps.length) throw new Error('minOverRuns: no profiles');
  const best = new Map<string, KernelRow>();
  for (const p of ps) {
    for (const r of p.rows) {
      const b = best.get(r.kernel);
      if (!b || r.ms < b.ms) best.set(r.kernel, { ...r });
    }
  }
  const rows = [...best.values()];
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
  for (const r of rows) r.share = kernelMs > 0 ? r.ms / kernelMs : 0;
  rows.sort((x, y) => y.ms - x.ms || x.kernel.localeCompare(y.kernel));
  const p0 = ps.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  return { ...p0, kernelMs, rows };
}

/**
 * Kernels whose stock-JS time is ≥ `minShare` of the kernel time while native kernels are active
 * (the slow paths the coverage test forbids). Empty when native kernels are not active.
 */
export function stockHotspots(p: KernelProfile, minShare = 0.02): KernelRow[] {
  if (!p.native || p.kernelMs <= 0) return [];
  return p.rows.filter((r) => r.stockMs / p.kernelMs >= minShare);
}

const fmtMs = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3));

/** Markdown table, sorted by time; `top` rows, the rest summed in one line. */
export function formatKernelProfile(p: KernelProfile, opts: { top?: number; title?: string } = {}): string {
  const top = opts.top ?? 25;
  const lines: string[] = [];
  const stockMs = p.rows.reduce((s, r) => s + r.stockMs, 0);
  lines.push(
    `${opts.title ? `${opts.title}: ` : ''}backend ${p.backend}${p.backend === 'cpu' ? (p.native ? ' + native kernels' : ' (stock kernels)') : ''}; ` +
      `wall ${fmtMs(p.wallMs)} ms, in kernels ${fmtMs(p.kernelMs)} ms (${p.wallMs > 0 ? ((100 * p.kernelMs) / p.wallMs).toFixed(1) : '0'} %)` +
      (p.backend === 'cpu' ? `, of which stock JS ${fmtMs(stockMs)} ms (${p.kernelMs > 0 ? ((100 * stockMs) / p.kernelMs).toFixed(1) : '0'} %)` : ''),
  );
  lines.push('', '| kernel | ms | % | calls | ms/call | runs as |', '| --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of p.rows.slice(0, top)) {
    lines.push(`| ${r.kernel} | ${fmtMs(r.ms)} | ${(100 * r.share).toFixed(1)} | ${r.calls} | ${fmtMs(r.ms / r.calls)} | ${r.impl} |`);
  }
  const rest = p.rows.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, r) => s + r.ms, 0), calls = rest.reduce((s, r) => s + r.calls, 0);
    lines.push(`| (${rest.length} more kernels) | ${fmtMs(ms)} | ${p.kernelMs > 0 ? ((100 * ms) / p.kernelMs).toFixed(1) : '0'} | ${calls} | | |`);
  }
  lines.push(`| (outside kernels) | ${fmtMs(Math.max(0, p.wallMs - p.kernelMs))} | | | | JS glue, bookkeeping, GC |`);
  return lines.join('\n');
}

/** The profile as plain JSON (rounded), for --json outputs. */
export function kernelProfileJson(p: KernelProfile): Record<string, unknown> {
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    backend: p.backend, native: p.native, wall_ms: r3(p.wallMs), kernel_ms: r3(p.kernelMs),
    kernels: p.rows.map((r) => ({ kernel: r.kernel, ms: r3(r.ms), calls: r.calls, share: r3(r.share), impl: r.impl })),
  };
}
