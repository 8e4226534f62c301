/**
 * The backend a result was computed on, as the files that record it say it: the backend's name and
 * what decides its speed and float rounding (the WebGPU adapter, the native kernels), without
 * `auto`'s reasons (which name the machine's absent alternatives and vary between commands).
 */
import { currentBackend, type BackendReport } from './index.js';

export function backendLabel(r: BackendReport | null = currentBackend()): string | null {
  if (!r) return null;
  const kept = r.notes.filter((n) => /^(adapter |native kernels)/.test(n));
  return kept.length ? `${r.name} (${kept.join(', ')})` : r.name;
}

/** What a backends record says for rows read from an embedding cache, which does not record theirs. */
export const CACHED_ROWS = 'embedding cache (backend not recorded)';

/** The backends of a pass: this process's, and the cache's note when `cachedRows` came from it. */
export function passBackends(cachedRows: number): string[] {
  return [backendLabel() ?? 'unknown', ...(cachedRows > 0 ? [CACHED_ROWS] : [])];
}
