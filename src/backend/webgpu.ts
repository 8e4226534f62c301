/**
 * The tfjs `webgpu` backend in Node, on Dawn (npm `webgpu`, an optional dependency: dawn.node).
 *
 * We create the GPU device ourselves and register `new WebGPUBackend(device)`: tfjs's own
 * registration (base.ts) only runs when `navigator.gpu` exists at import time and asks for the
 * adapter's features in a way Dawn rejects. The device gets the adapter's own limits (the
 * defaults cap a storage binding at 128 MiB; every tensor must fit in one binding).
 *
 * Adapters, in the order tried:
 *   hardware — Dawn's native API for the platform (Vulkan on Linux, Metal on macOS, D3D12 on
 *              Windows), `featureLevel: 'core'`;
 *   software — Mesa's llvmpipe through OpenGL ES (`backend=opengles`, EGL_PLATFORM=surfaceless,
 *              `featureLevel: 'compatibility'`): slow, but the same WGSL kernels as on a GPU, which is
 *              how CI runs the GPU code path on a machine without one.
 * `auto` takes a hardware adapter only; the software one is used when asked for
 * (`--backend webgpu` on a machine without a GPU, or LOGOLAB_WEBGPU_ADAPTER=software). On a machine
 * with a GPU device node, `--backend webgpu` whose hardware adapter fails is an error naming why,
 * not a quiet run on the software one.
 *
 * The backend class with synchronous reads in Node: webgpu-node-backend.ts.
 */
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { LogolabError, firstLine } from '../errors.js';
import { gpuDeviceNode, gpuNodePattern } from './devices.js';
import { installEventPump, makeBackend, watchDeviceErrors } from './webgpu-node-backend.js';

export type AdapterKind = 'hardware' | 'software';

export interface WebGPUAdapterReport {
  /** GPUAdapterInfo fields ('' where the driver leaves them empty) */
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** the Dawn backend we asked for: vulkan | metal | d3d12 | opengles */
  backendType: string;
  /** llvmpipe / lavapipe / SwiftShader / WARP (or Dawn's fallback adapter) count as software */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** One line: "NVIDIA H200 (nvidia/hopper, vulkan, hardware, max binding 2.0 GiB)". */
export function describeAdapter(a: WebGPUAdapterReport): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(n >= 2 ** 30 ? 1 : 3)} GiB`;
  const va = [a.vendor, a.architecture].filter(Boolean).join('/');
  return `${a.device || a.description || 'unnamed adapter'} (${va ? `${va}, ` : ''}${a.backendType}, ${a.software ? 'software' : 'hardware'}, max binding ${gib(a.maxStorageBufferBindingSize)})`;
}

/** GPUAdapter.info (newer than the @webgpu/types that tfjs-core pins) */
function adapterInfo(a: GPUAdapter): GPUAdapterInfo & { isFallbackAdapter?: boolean } {
  return (a as unknown as { info: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

const HARDWARE_BACKEND: Partial<Record<NodeJS.Platform, string>> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

/**
 * Evidence that a GPU driver is present, so that `auto` does not start Dawn on every CPU-only run
 * (and, for an explicit `--backend webgpu`, that a software adapter would hide a broken GPU setup).
 * `dev` is injectable for tests.
 */
export function hardwareGpuHint(dev = '/dev'): { ok: boolean; why: string } {
  if (process.platform === 'darwin' || process.platform === 'win32') return { ok: true, why: process.platform };
  const node = gpuDeviceNode(dev);
  return node ? { ok: true, why: node } : { ok: false, why: `no GPU device node (${gpuNodePattern(dev)})` };
}

const VULKAN_NEEDS = "needs libvulkan1 and the GPU driver's Vulkan support; in a container, the driver's graphics capability, e.g. NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics";

/** What makes a present GPU's hardware adapter work, for the error that refuses the software one. */
function hardwareFix(why: string): string {
  if (why.includes(VULKAN_NEEDS)) return ''; // the reason already says it
  return process.platform === 'linux' ? `; fix: Dawn uses Vulkan, which ${VULKAN_NEEDS}` : '; fix: update the GPU driver';
}

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: Dawn | string | null = null;

/** dawn.node, or why it cannot load. */
async function loadDawn(): Promise<Dawn | string> {
  if (dawn !== null) return dawn;
  try {
    // a variable specifier: the optional package need not be installed to type-check
    const pkg = 'webgpu';
    const m = (await import(pkg)) as Dawn;
    installEventPump();
    // GPUBufferUsage, GPUMapMode, ... are read as globals by tfjs-webgpu
    for (const [k, v] of Object.entries(m.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    dawn = m;
  } catch (e) {
    const msg = firstLine(e);
    dawn = /Cannot find (package|module) 'webgpu'/.test(msg)
      ? "the optional package 'webgpu' (dawn.node) is not installed (npm install webgpu)"
      : `the package 'webgpu' (dawn.node) failed to load: ${msg}`;
  }
  return dawn;
}

let gpuInstance: GPU | null = null;
const gpus = new Map<string, GPU>();

async function requestAdapter(d: Dawn, kind: AdapterKind): Promise<{ adapter: GPUAdapter; report: WebGPUAdapterReport } | string> {
  const backendType = kind === 'software' ? 'opengles' : HARDWARE_BACKEND[process.platform];
  if (!backendType) return `no hardware WebGPU backend on ${process.platform}`;
  if (kind === 'software' && process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
  let gpu = gpus.get(backendType);
  if (!gpu) {
    gpu = d.create([`backend=${backendType}`]);
    gpus.set(backendType, gpu);
  }
  const featureLevel = kind === 'software' ? 'compatibility' : 'core';
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel } as GPURequestAdapterOptions);
  } catch (e) {
    return `Dawn ${backendType}: ${firstLine(e)}`;
  }
  if (!adapter) {
    // an EGL_PLATFORM the user set (x11 without a display, a typo) fails the same way as missing
    // Mesa packages; Dawn's own reason goes to stderr only, so name the variable here
    const egl = process.env.EGL_PLATFORM;
    if (kind === 'software' && egl !== 'surfaceless') {
      return `no Mesa OpenGL ES adapter with EGL_PLATFORM=${egl || "''"} (without a display it needs EGL_PLATFORM=surfaceless or unset; `
        + 'if that fails too, Debian libegl1 libegl-mesa0 libgles2 libegl-dev libgl1-mesa-dri)';
    }
    return kind === 'software'
      ? 'no Mesa OpenGL ES adapter (needs Debian libegl1 libegl-mesa0 libgles2 libegl-dev libgl1-mesa-dri)'
      : `no ${backendType} adapter (${backendType === 'vulkan' ? VULKAN_NEEDS : 'GPU driver'})`;
  }
  const i = adapterInfo(adapter);
  const software = Boolean(i.isFallbackAdapter) || SOFTWARE_NAMES.test(`${i.device} ${i.description} ${i.vendor}`);
  const report: WebGPUAdapterReport = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
    backendType,
    software,
    featureLevel,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  if (kind === 'hardware' && software) return `only a software adapter on ${backendType}: ${describeAdapter(report)}`;
  gpuInstance = gpu;
  return { adapter, report };
}

/** Which adapter kinds to try: LOGOLAB_WEBGPU_ADAPTER=hardware|software narrows an explicit request. */
function kindsFor(explicit: boolean): AdapterKind[] {
  const env = process.env.LOGOLAB_WEBGPU_ADAPTER;
  if (env !== undefined && env !== 'hardware' && env !== 'software') throw new LogolabError(`LOGOLAB_WEBGPU_ADAPTER: '${env}' is not hardware|software`);
  if (!explicit) return ['hardware'];
  return env ? [env] : ['hardware', 'software'];
}

/** `hardwareWhy`: on a software adapter, why the hardware one is not used (kept for the backend line). */
let active: { device: GPUDevice; report: WebGPUAdapterReport; hardwareWhy?: string } | null = null;

/** The hardware adapter attempt of this process (Dawn is asked once: a failure does not heal within a process). */
let hardware: { ok: true; report: WebGPUAdapterReport } | { ok: false; why: string } | null = null;

export function webgpuAdapter(): WebGPUAdapterReport | null {
  return active?.report ?? null;
}

/** One line on the hardware adapter, for `doctor`: which it is, why it failed, or why it was not tried. */
export function webgpuHardwareStatus(dev = '/dev'): string {
  if (hardware?.ok) return `${describeAdapter(hardware.report)}${active?.report === hardware.report ? ', in use' : ''}`;
  if (hardware) return `FAILED — ${hardware.why}`;
  const hint = hardwareGpuHint(dev);
  if (!hint.ok) return `not tried — ${hint.why}`;
  if (typeof dawn === 'string') return `not tried — ${dawn}`;
  if (process.env.LOGOLAB_WEBGPU_ADAPTER === 'software') return 'not tried — LOGOLAB_WEBGPU_ADAPTER=software';
  return 'not tried';
}

export type Prepared = { ok: true; report: WebGPUAdapterReport; hardwareWhy?: string } | { ok: false; why: string };

/**
 * Registers tfjs backend 'webgpu' on a Dawn device, or returns why it cannot. `explicit` = the
 * user asked for webgpu (software adapters allowed where there is no GPU); `auto` passes false
 * (hardware only, and only when a GPU device node exists). On a software adapter, `hardwareWhy`
 * says why the hardware one is not used. `opts.dev` replaces /dev (tests).
 */
export async function prepareWebGPU(explicit: boolean, opts: { dev?: string } = {}): Promise<Prepared> {
  let kinds = kindsFor(explicit);
  const hint = hardwareGpuHint(opts.dev);
  // A GPU device node is here, so a software adapter would run a GPU job at CPU speed and hide why
  // the GPU failed (e.g. a container without the driver's graphics capability): an explicit
  // request gets the hardware adapter or an error, unless it names the software one.
  const hardwareOnly = explicit && hint.ok && process.env.LOGOLAB_WEBGPU_ADAPTER === undefined;
  if (hardwareOnly) kinds = ['hardware'];
  const refuse = (why: string) =>
    `a GPU device node is present (${hint.why}) but the hardware adapter failed: ${why}${hardwareFix(why)}; ` +
    'or set LOGOLAB_WEBGPU_ADAPTER=software to run on the software rasteriser (correct, CPU speed)';
  if (active) {
    // one device per process: reuse it when its kind is allowed here
    if (kinds.includes(active.report.software ? 'software' : 'hardware')) {
      return active.hardwareWhy ? { ok: true, report: active.report, hardwareWhy: active.hardwareWhy } : { ok: true, report: active.report };
    }
    if (hardwareOnly) return { ok: false, why: refuse(active.hardwareWhy ?? `not tried (this process already runs on ${describeAdapter(active.report)})`) };
    const hw = active.hardwareWhy ? ` — hardware adapter: ${active.hardwareWhy}` : '';
    return { ok: false, why: `only a software adapter (${describeAdapter(active.report)})${hw}; ${explicit ? 'LOGOLAB_WEBGPU_ADAPTER=hardware' : 'auto'} takes hardware adapters only` };
  }
  // without a GPU device node the platform API can only offer a software rasteriser (lavapipe),
  // and probing it costs time and prints driver warnings: skip it
  const skippedWhy: string[] = [];
  if (!hint.ok && kinds.includes('hardware')) {
    kinds = kinds.filter((k) => k !== 'hardware');
    skippedWhy.push(`no hardware adapter: ${hint.why}`);
  }
  if (kinds.length === 0) return { ok: false, why: skippedWhy.join('; ') };
  const d = await loadDawn();
  if (typeof d === 'string') return { ok: false, why: d };
  const whys: string[] = skippedWhy;
  for (const kind of kinds) {
    if (kind === 'hardware' && hardware?.ok === false) {
      whys.push(hardware.why);
      continue;
    }
    const r = await requestAdapter(d, kind);
    if (typeof r === 'string') {
      if (kind === 'hardware') hardware = { ok: false, why: r };
      whys.push(r);
      continue;
    }
    const { adapter, report } = r;
    const lim = adapter.limits;
    // the adapter's own limits: a tensor lives in one storage binding, so the binding size bounds
    // the largest tensor (the default, 128 MiB, is less than one ViT-L/14 batch of activations)
    const requiredLimits: Record<string, number> = {};
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension',
      'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxStorageBuffersPerShaderStage']) {
      const v = (lim as unknown as Record<string, number>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures = (['timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    } catch (e) {
      const why = `requestDevice on ${describeAdapter(report)} failed: ${firstLine(e)}`;
      if (kind === 'hardware') hardware = { ok: false, why };
      whys.push(why);
      continue;
    }
    if (kind === 'hardware') hardware = { ok: true, report };
    watchDeviceErrors(device);
    const backend = await makeBackend(device, adapterInfo(adapter), gpuInstance);
    tf.registerBackend('webgpu', () => backend, 0);
    const hardwareWhy = !report.software ? undefined : hardware?.ok === false ? hardware.why : !hint.ok ? hint.why : 'LOGOLAB_WEBGPU_ADAPTER=software';
    active = hardwareWhy ? { device, report, hardwareWhy } : { device, report };
    return hardwareWhy ? { ok: true, report, hardwareWhy } : { ok: true, report };
  }
  if (hardwareOnly) return { ok: false, why: refuse(hardware?.ok === false ? hardware.why : whys.join('; ')) };
  return { ok: false, why: whys.join('; ') };
}
