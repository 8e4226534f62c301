/**
 * demo_plan.json: what a demo run is (mode, baseline, work folder, plan, hashes of the files it
 * reads, and the backend its stages run on), and whether an earlier run's record may be resumed.
 * A re-run resumes only the same run: another mode, baseline, config or folder is refused, and so
 * is another backend — the stages done would stay the first backend's and the rest would run on
 * the second, with nothing in the results saying so. `auto` is recorded as the backend it picked
 * (backend) beside the request (backend_requested): the pick can change between runs (the native
 * addon built or removed, LOGOLAB_NATIVE=0, a GPU appearing) while the request stays `auto`.
 * The same changes turn cpu's native OpenBLAS kernels on or off under one backend name (other
 * float rounding, other speed): native_kernels records it apart from `backend`, so older records,
 * which lack it, still compare by backend name.
 */
import { LogolabError } from '../errors.js';

export interface PlanRecord {
  mode: string;
  /** the backend the stages run on: the one asked for, or auto's pick */
  backend: string;
  /** --backend, else LOGOLAB_BACKEND, else auto */
  backend_requested: string;
  /** the stages run with cpu's native (OpenBLAS) kernels; false on every other backend */
  native_kernels: boolean;
  [key: string]: unknown;
}

/** The record without its backend keys: what else must be the same for a resume. */
function runOf(p: Record<string, unknown>): string {
  const { backend: _b, backend_requested: _r, native_kernels: _n, ...rest } = p;
  return JSON.stringify(rest);
}

/** How the backend now is named in a message: the request, and auto's pick when it was auto. */
const picked = (p: PlanRecord): string => (p.backend_requested === 'auto' ? ` (auto's pick)` : '');

/**
 * Checks an earlier run's demo_plan.json text (null: none) against this run's record. Returns a
 * warning for a record too old to name the backend its stages ran on (resumed: the rest of the run
 * is the same), null when it may be resumed as is; throws when it is another run. `asked` names
 * where the request came from (`--backend cpu`, `LOGOLAB_BACKEND=cpu`, `backend auto (the default)`).
 */
export function checkEarlierPlan(earlier: string | null, now: PlanRecord, out: string, asked: string): string | null {
  if (earlier === null) return null;
  let was: unknown;
  try {
    was = JSON.parse(earlier);
  } catch {
    was = null;
  }
  const another = new LogolabError(`${out}: holds a demo run of another mode, baseline, config or work folder (a copied run names the original's files; see demo_plan.json); use another --out or delete it`);
  if (typeof was !== 'object' || was === null || Array.isArray(was) || runOf(was as Record<string, unknown>) !== runOf(now)) throw another;
  const w = was as Record<string, unknown>;
  const unknownBackend = (recorded: string) =>
    `${out}: demo_plan.json was written by an earlier logolab that ${recorded}; resuming on ${now.backend}${picked(now)} (the stages already done do not say which backend ran them)`;
  if (typeof w.backend !== 'string') return unknownBackend('did not record the backend');
  // before backend_requested, `backend` was the request: auto's pick then is not known
  const requestOnly = typeof w.backend_requested !== 'string';
  if (requestOnly && w.backend === 'auto') return unknownBackend('recorded backend auto, not the backend auto picked');
  if (w.backend !== now.backend) {
    const then = !requestOnly && w.backend_requested === 'auto' ? " (auto's pick then)" : '';
    throw new LogolabError(`${asked}${now.backend_requested === 'auto' ? ` picks ${now.backend}` : ''}: ${out} holds a demo run on backend ${w.backend}${then}; resuming would mix the two backends' stages: give --backend ${w.backend} to resume it, or use another --out`);
  }
  // the same backend: on cpu, with or without the native kernels (records before native_kernels: not known)
  if (typeof w.native_kernels !== 'boolean') {
    return now.backend === 'cpu'
      ? `${out}: demo_plan.json was written by an earlier logolab that did not record whether the native kernels ran; resuming on cpu ${now.native_kernels ? 'with' : 'without'} them (the stages already done do not say which kernels ran them)`
      : null;
  }
  if (w.native_kernels !== now.native_kernels) {
    const fix = w.native_kernels ? 'turn them on (LOGOLAB_NATIVE unset or 1, the addon built: node scripts/build-native.mjs)' : 'set LOGOLAB_NATIVE=0';
    throw new LogolabError(`${asked}: ${out} holds a demo run on backend ${w.backend} ${w.native_kernels ? 'with' : 'without'} the native kernels, and they are ${now.native_kernels ? 'on' : 'off'} now; resuming would mix the two kernel sets' stages: ${fix} to resume it, or use another --out`);
  }
  return null;
}
