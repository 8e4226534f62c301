/**
 * Backend selection. `auto` prefers tfjs-node-gpu (when it loads AND a CUDA GPU is visible), then
 * webgpu on a hardware adapter (webgpu.ts), then tfjs-node, then cpu+native, then wasm, then the
 * pure-JS cpu backend. The tfjs-node packages are optional
 * dependencies (their install downloads libtensorflow), so they are imported dynamically and
 * their absence is a reason, not an error. Every command reports the choice on stderr.
 */
import { log } from '../util/log.js';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { LogolabError, firstLine } from '../errors.js';
import { chooseCpuBackend, orderCpuBackends, type Workload } from './auto-choice.js';
import { nativeKernelsForCpuBackend, nativeKernelsStatus, requireNativeIfAsked } from './native/status.js';
import { nvidiaGpuNode } from './devices.js';
// types only: webgpu.ts (and Dawn) is imported when webgpu is tried
import type { Prepared } from './webgpu.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendReport {
  /** the choice as the user named it */
  name: Exclude<BackendChoice, 'auto'>;
  /** tfjs's own backend name ('tensorflow', 'webgpu', 'wasm', 'cpu') */
  tfName: string;
  /** why each better backend was not used */
  skipped: { name: string; why: string }[];
  /** extra notes (e.g. native kernels active) */
  notes: string[];
}

const require = createRequire(import.meta.url);

/** Version of an installed package (found by walking up from its resolved entry point, since some
 * packages do not export their package.json), or null when it is not installed. */
export function packageVersion(pkg: string): string | null {
  let dir: string;
  try {
    dir = dirname(require.resolve(pkg));
  } catch {
    return null;
  }
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (j.name === pkg) return j.version ?? null;
    }
  }
  return null;
}

/** Whether a CUDA GPU looks visible to this process (driver present). */
export function gpuVisible(): { ok: boolean; why: string } {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return { ok: false, why: 'CUDA_VISIBLE_DEVICES hides all GPUs' };
  // a container given GPU N has /dev/nvidiaN only (devices.ts)
  if (existsSync('/proc/driver/nvidia/version') || nvidiaGpuNode() !== null) return { ok: true, why: 'NVIDIA driver found' };
  return { ok: false, why: 'no NVIDIA driver (/proc/driver/nvidia/version, /dev/nvidia<N> absent)' };
}

async function tryNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  try {
    await import(pkg);
    return null;
  } catch (e) {
    const msg = firstLine(e);
    return packageVersion(pkg) === null ? `${pkg} is not installed (optional dependency; needs network to fetch libtensorflow)` : `${pkg} failed to load: ${msg}`;
  }
}

let current: BackendReport | null = null;

export function currentBackend(): BackendReport | null {
  return current;
}

async function activate(tfName: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(tfName);
    await tf.ready();
    // The cpu backend prints a multi-line "install tfjs-node" banner on first use; the choice and
    // the reasons are already reported on one line by reportBackend, so silence it.
    if (tfName === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return ok && tf.getBackend() === tfName;
  } catch {
    return false;
  }
}

/**
 * The steps of initBackend that need the machine: readying WebGPU (webgpu.ts) and switching tfjs
 * to a backend. Tests replace them (initBackend's `steps`) to stage what no test machine has, such
 * as a hardware adapter whose backend then fails to start.
 */
export interface BackendSteps {
  prepareWebGPU(explicit: boolean): Promise<Prepared>;
  activate(tfName: string): Promise<boolean>;
}

/**
 * Sets the tfjs backend. `requested` defaults to $LOGOLAB_BACKEND or 'auto'. An explicitly
 * requested backend that cannot be used is an error; `auto` falls through the list. `steps`
 * replaces machine steps (tests).
 */
export async function initBackend(requested?: string, opts: { quiet?: boolean; workload?: Workload; steps?: Partial<BackendSteps>; option?: string } = {}): Promise<BackendReport> {
  const activateStep = opts.steps?.activate ?? activate;
  const want = (requested ?? process.env.LOGOLAB_BACKEND ?? 'auto') as BackendChoice;
  // errors name where the choice came from: the caller's option (--backend, the API's `backend`) or the environment
  const source = requested === undefined && process.env.LOGOLAB_BACKEND !== undefined ? 'LOGOLAB_BACKEND' : (opts.option ?? '--backend');
  if (!BACKEND_CHOICES.includes(want)) throw new LogolabError(`${source}: unknown backend '${want}' (choose ${BACKEND_CHOICES.join('|')})`);
  // under auto a missing addon would only move the choice on to wasm: LOGOLAB_NATIVE=1 (the
  // kernels asked for by name) is refused before any backend is tried, as --backend cpu refuses it
  if (want === 'auto') requireNativeIfAsked('let auto choose a backend without them');
  const skipped: { name: string; why: string }[] = [];
  // With the addon built, cpu+native is measured faster than wasm (scripts/bench-native.ts), so
  // `auto` tries cpu before wasm.
  const cpuFirst = nativeKernelsStatus().available;
  const order: Exclude<BackendChoice, 'auto'>[] =
    want === 'auto' ? (cpuFirst ? ['tensorflow-gpu', 'webgpu', 'tensorflow', 'cpu', 'wasm'] : ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']) : [want];
  // per workload, from measured facts (auto-choice.ts): which CPU backend goes first, and why
  const cpuChoice = want === 'auto' ? chooseCpuBackend(opts.workload, cpuFirst) : null;
  for (const name of cpuChoice ? orderCpuBackends(order, cpuChoice.first) : order) {
    // this candidate's own notes: a candidate that `auto` then skips (its activation failed) takes
    // them along, or the backend line of the one used would name e.g. a GPU that did no work
    const notes: string[] = [];
    let why: string | null = null;
    let tfName = name as string;
    if (name === 'tensorflow-gpu') {
      // a tfjs-node-gpu that cannot use the GPU runs on the CPU without saying so: refuse it
      const gpu = gpuVisible();
      const cuda = await import('./cuda.js');
      why = gpu.ok ? (cuda.tensorflowGpuPrecheck() ?? (await tryNode('@tensorflow/tfjs-node-gpu'))) : gpu.why;
      tfName = 'tensorflow';
      if (why === null) why = (await activateStep(tfName)) ? cuda.tensorflowGpuPostcheck(tf.backend()) : `tf.setBackend('${tfName}') failed`;
    } else if (name === 'webgpu') {
      // explicit: any adapter (software = Mesa llvmpipe); auto: hardware adapters only
      const { prepareWebGPU, describeAdapter } = await import('./webgpu.js');
      const r = await (opts.steps?.prepareWebGPU ?? prepareWebGPU)(want === 'webgpu');
      if (r.ok) {
        notes.push(`adapter ${describeAdapter(r.report)}`);
        // on a software adapter, why not the hardware one: otherwise a broken GPU setup looks like a slow GPU
        if (r.hardwareWhy) notes.push(`hardware adapter not used: ${r.hardwareWhy}`);
      } else why = r.why;
    } else if (name === 'tensorflow') {
      why = await tryNode('@tensorflow/tfjs-node');
    } else if (name === 'wasm') {
      try {
        await import('@tensorflow/tfjs-backend-wasm');
      } catch (e) {
        why = `@tensorflow/tfjs-backend-wasm failed to load: ${(e as Error).message}`;
      }
    }
    if (why === null && !(await activateStep(tfName))) why = `tf.setBackend('${tfName}') failed`;
    if (why !== null) {
      if (want !== 'auto') throw new LogolabError(`${source === 'LOGOLAB_BACKEND' ? `LOGOLAB_BACKEND=${name}` : `${source} ${name}`}: not available: ${why}`);
      skipped.push({ name, why });
      continue;
    }
    current = { name, tfName, skipped, notes };
    if (cpuChoice && name === cpuChoice.first) current.notes.unshift(cpuChoice.why);
    if (tfName === 'cpu') {
      const note = nativeKernelsForCpuBackend();
      if (note) notes.push(note);
    }
    if (!opts.quiet) reportBackend(current);
    return current;
  }
  throw new LogolabError('no tfjs backend could be initialised');
}

export function reportBackend(r: BackendReport): void {
  const why = r.skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
  log('info', `backend: ${r.name}${r.notes.length ? ` (${r.notes.join(', ')})` : ''}${why ? ` — not used: ${why}` : ''}`);
}
