/**
 * Reuse of the native kernels' output buffers on the cpu backend.
 *
 * Why: every kernel output used to be a fresh ArrayBuffer. A LoRA step of the baseline's
 * architecture at patch 16 (batch 64) allocates ~5,000 of them; V8 counts their bytes as external
 * memory and answers with ~12 garbage collections per step (2 of them full mark-compacts), 25–40 ms
 * of pauses plus the concurrent marking threads on the other core, and every output lands in cold
 * memory. Handing a disposed tensor's buffer to the next output of the same length removes nearly
 * all of it (measured in README "Backends and speed").
 *
 * Safety: a buffer is reused only if nothing but the native kernels can still hold it:
 *  - it was allocated here (`alloc` of a native kernel, never an array a caller gave tfjs);
 *  - no other code ever looked at it. The backend's `data.get` is wrapped: any read from outside the
 *    native kernels (`readSync` / `dataSync` / `data()`, stock kernels, which may return views of
 *    their input such as the stock Slice's `subarray`) marks the buffer escaped, for good. The
 *    backend's own bookkeeping (refcounts, disposal) and the native kernels read through the
 *    unwrapped getter;
 *  - the backend really dropped it (refcount 0), so no tensor refers to it.
 * Pooled bytes are capped (LOGOLAB_RECYCLE_MB, default 512; 0 turns reuse off); over the cap the
 * least recently used lengths are dropped to the garbage collector.
 */
import { fail } from '../../errors.js';

type DataId = object;
type Entry = { values: unknown; refCount?: number };
/** What this file needs of tfjs-backend-cpu's MathBackendCPU (./cpu.ts's CpuBackend fits it). */
export interface BackendData { data: { get(id: DataId): Entry | undefined } }
interface Storage { get(id: DataId): Entry | undefined; has(id: DataId): boolean }
interface Patched {
  data: Storage;
  disposeData(id: DataId, force?: boolean): boolean;
  incRef(id: DataId): void;
  decRef(id: DataId): void;
  refCount(id: DataId): number;
}
const WRAPPED = ['disposeData', 'incRef', 'decRef', 'refCount'] as const;

export interface RecycleStats { on: boolean; hits: number; misses: number; pooledBytes: number; capBytes: number }

/** The cap from LOGOLAB_RECYCLE_MB (MiB; 0 = off); default 512 MiB. */
export function recycleCapBytes(env = process.env.LOGOLAB_RECYCLE_MB): number {
  if (env === undefined || env === '') return 512 * 2 ** 20;
  if (!/^\d+$/.test(env)) fail(`LOGOLAB_RECYCLE_MB: expected a whole number of MiB (0 = off), got '${env}'`);
  return Number(env) * 2 ** 20;
}

let backend: Patched | null = null;
/** The backend the last attach was for, also when reuse is off (so the kernels' per-call attach is one comparison). */
let attachedTo: BackendData | null = null;
let rawGet: ((id: DataId) => Entry | undefined) | null = null;
const restore: (() => void)[] = [];
let internal = 0;
let ours = new WeakSet<Float32Array>();
// length → free buffers; Map order = recency of use (oldest first), for eviction
const pool = new Map<number, Float32Array[]>();
let pooled = 0, hits = 0, misses = 0;
let cap = 0;

function escape(e: Entry | undefined): void {
  if (e && e.values instanceof Float32Array) ours.delete(e.values);
}

function give(v: unknown): void {
  if (!(v instanceof Float32Array) || !ours.has(v) || cap === 0) return;
  ours.delete(v);
  const bytes = v.length * 4;
  if (bytes > cap) return;
  const list = pool.get(v.length) ?? [];
  pool.delete(v.length);
  pool.set(v.length, list);
  list.push(v);
  pooled += bytes;
  for (const [len, l] of pool) {
    if (pooled <= cap) break;
    while (l.length && pooled > cap) { l.pop(); pooled -= len * 4; }
    if (!l.length) pool.delete(len);
  }
}

/** Replaces `target[name]` with `fn` until detachRecycler, which puts back an own property or removes the override of a prototype's. */
function patch(target: object, name: string, fn: unknown): void {
  const t = target as Record<string, unknown>;
  const own = Object.prototype.hasOwnProperty.call(t, name);
  const prev = t[name];
  t[name] = fn;
  restore.push(() => {
    if (own) t[name] = prev;
    else delete t[name];
  });
}

/** Starts reuse on `b` (the cpu backend the native kernels run on); a different backend replaces the previous one. */
export function attachRecycler(b: BackendData): void {
  if (attachedTo === b) return;
  detachRecycler();
  attachedTo = b;
  cap = recycleCapBytes();
  if (cap === 0) return;
  const p = b as unknown as Patched;
  const data = p.data;
  const get = data.get.bind(data);
  rawGet = get;
  patch(data, 'get', (id: DataId) => {
    const e = get(id);
    if (internal === 0) escape(e);
    return e;
  });
  for (const name of WRAPPED) {
    const orig = (p[name] as (...a: unknown[]) => unknown).bind(p);
    patch(p, name, name === 'disposeData'
      ? (id: DataId, force?: boolean) => {
        internal++;
        try {
          const e = data.has(id) ? get(id) : undefined;
          const r = orig(id, force);
          if (e && !data.has(id)) give(e.values);
          return r;
        } finally { internal--; }
      }
      : (...a: unknown[]) => {
        internal++;
        try { return orig(...a); } finally { internal--; }
      });
  }
  backend = p;
}

/** Stops reuse: the backend's methods as they were, the pool emptied. */
export function detachRecycler(): void {
  while (restore.length) restore.pop()!();
  backend = null;
  attachedTo = null;
  rawGet = null;
  pool.clear();
  ours = new WeakSet();
  pooled = 0;
}

/**
 * Runs a stock kernel that only does bookkeeping on its input (Reshape: refcount and the complex
 * check; the output shares the input's dataId, so the refcount covers it) without marking the
 * input escaped.
 */
export function bookkeeping<T>(f: () => T): T {
  internal++;
  try { return f(); } finally { internal--; }
}

/** The values of `id` as the native kernels read them: without marking them escaped. */
export function nativeValues(b: BackendData, id: DataId): unknown {
  return (backend === b && rawGet ? rawGet(id) : b.data.get(id))?.values;
}

/** A free buffer of exactly `n` floats (contents stale), or null. */
export function takeRecycled(n: number): Float32Array | null {
  if (!backend) return null;
  const list = pool.get(n);
  const v = list?.pop();
  if (!v) { misses++; return null; }
  pooled -= n * 4;
  pool.delete(n);
  if (list!.length) pool.set(n, list!);
  hits++;
  ours.add(v);
  return v;
}

/** Marks a buffer just allocated for a native kernel's output as reusable once disposed. */
export function adopt(v: Float32Array): void {
  if (backend) ours.add(v);
}

export function recycleStats(): RecycleStats {
  return { on: backend !== null, hits, misses, pooledBytes: pooled, capBytes: backend ? cap : 0 };
}
