/**
 * The tfjs WebGPUBackend made to work in Node on Dawn (adapter and device choice: webgpu.ts).
 *
 * Synchronous reads (`dataSync`, used throughout the model and trainer code): tfjs-webgpu's
 * readSync needs an OffscreenCanvas, which Node lacks. Node has no way to wait for a GPU buffer
 * map synchronously either, so readSync here copies into a staging buffer, asks for the map, and
 * drives Dawn's event processing itself until the map is done: dawn.node schedules
 * `wgpuInstanceProcessEvents` through the global `setImmediate` while work is pending, and we keep
 * the function it passes (see installEventPump).
 */
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../errors.js';

let processEvents: (() => void) | null = null;

/**
 * Wraps the global setImmediate so that the native callback dawn.node schedules to process its
 * events is remembered: calling it runs `wgpuInstanceProcessEvents` (and re-schedules itself, which
 * is harmless). Every other caller is passed through untouched.
 */
export function installEventPump(): void {
  const g = globalThis as { setImmediate: typeof setImmediate; __logolabPump?: boolean };
  if (g.__logolabPump) return;
  const orig = g.setImmediate;
  const wrapped = function (this: unknown, fn: (...a: unknown[]) => void, ...args: unknown[]) {
    if (typeof fn === 'function' && args.length === 0 && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn))) {
      processEvents = fn as () => void;
    }
    return (orig as (...a: unknown[]) => NodeJS.Immediate).call(this, fn, ...args);
  } as typeof setImmediate;
  // keep util.promisify.custom and the rest (non-enumerable, so not Object.assign)
  for (const k of Reflect.ownKeys(orig)) {
    if (k !== 'length' && k !== 'name' && k !== 'prototype') Object.defineProperty(wrapped, k, Object.getOwnPropertyDescriptor(orig, k)!);
  }
  g.setImmediate = wrapped;
  g.__logolabPump = true;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks until `buffer` is mapped for reading, driving Dawn's events; throws after `timeoutMs`. A
 * map that fails or is cancelled (a lost device cancels it) is one LogolabError naming the backend:
 * a GPU reset or driver fault is an expected fault, not an internal error with a stack.
 */
function waitMappedSync(buffer: GPUBuffer, pending: Promise<void>, timeoutMs: number): void {
  let failure: unknown = null;
  pending.catch((e) => (failure = e));
  const t0 = Date.now();
  let spins = 0;
  while (buffer.mapState !== 'mapped') {
    if (failure !== null) throw new LogolabError(`webgpu: mapping a read buffer failed: ${errorText(failure)}`);
    if (processEvents === null) throw new Error('webgpu: synchronous read unavailable (dawn.node scheduled no event processing); use await tensor.data()');
    // the device's lost promise cannot settle inside this synchronous loop: its reason is not known here
    if (buffer.mapState === 'unmapped' && spins > 0) throw new LogolabError(`webgpu: ${deviceError ?? 'mapping a read buffer was cancelled (the device was lost?), results are invalid'}`);
    processEvents();
    // spin briefly, then yield the core in 50 µs sleeps (a long GPU step should not burn a CPU)
    if (++spins > 64) Atomics.wait(sleepCell, 0, 0, 0.05);
    if (Date.now() - t0 > timeoutMs) throw new LogolabError(`webgpu: synchronous read did not complete in ${timeoutMs / 1000} s`);
  }
}

// ---- the backend -------------------------------------------------------------------------------

interface TensorData {
  values: unknown;
  dtype: string;
  resource: GPUBuffer;
  complexTensorInfos?: unknown;
}

/** An error's message; a DOMException from dawn.node may have an empty one (its name says what). */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.message.split('\n')[0] || e.name;
}

interface WebGPUBackendLike extends tf.KernelBackend {
  device: GPUDevice;
  tensorMap: { get(dataId: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer; releaseBuffer(b: GPUBuffer): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder;
  convertAndCacheOnCPU(dataId: object, data: unknown): unknown;
  runWebGPUProgram(...args: unknown[]): tf.TensorInfo;
}

/** The first device error (a rejected dispatch, or the device lost), as the message says it; null while none. */
let deviceError: string | null = null;

/**
 * Sticky: after the device rejected work (or was lost), values computed from its results are
 * suspect, so every later kernel and read fails too.
 */
function throwDeviceError(): void {
  if (deviceError === null) return;
  const msg = deviceError;
  const hint = /binding size/i.test(msg) ? ' — a tensor is larger than this adapter allows in one binding: use a smaller batch' : '';
  throw new LogolabError(`webgpu: ${msg}${hint}`);
}

/** A WebGPUBackend whose readSync works in Node (see the file comment) and whose reads fail after a device error. */
export async function makeBackend(device: GPUDevice, info: GPUAdapterInfo, gpu: GPU | null): Promise<tf.KernelBackend> {
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: GPUDevice, info?: GPUAdapterInfo) => WebGPUBackendLike;
  };
  const Base = mod.WebGPUBackend;
  const NodeWebGPUBackend = class extends Base {
    // Dawn reports a rejected dispatch while the kernel records it (uncapturederror fires then): the
    // kernel that caused it, or the first after it, throws, instead of the rest of a training step
    // running on invalid values until its loss is read. A null check per kernel.
    override runWebGPUProgram(...args: unknown[]): tf.TensorInfo {
      throwDeviceError();
      const out = super.runWebGPUProgram(...args);
      if (deviceError !== null) {
        this.disposeData(out.dataId);
        throwDeviceError();
      }
      return out;
    }

    override async read(dataId: object): Promise<tf.backend_util.BackendValues> {
      let v: tf.backend_util.BackendValues;
      try {
        v = await super.read(dataId);
      } catch (e) {
        // a lost device rejects the map (a DOMException with no message): say why, on one line
        throwDeviceError();
        throw new LogolabError(`webgpu: reading a result failed: ${errorText(e)}`);
      }
      throwDeviceError();
      return v;
    }

    override readSync(dataId: object): tf.backend_util.BackendValues {
      const d = this.tensorMap.get(dataId);
      if (d.values != null || d.dtype === 'string' || d.dtype === 'complex64') return super.readSync(dataId);
      const size = d.resource.size;
      const staging = this.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
      this.ensureCommandEncoderReady();
      this.endComputePassEncoder();
      this.commandEncoder.copyBufferToBuffer(d.resource, 0, staging, 0, size);
      this.submitQueue();
      waitMappedSync(staging, staging.mapAsync(GPUMapMode.READ), SYNC_READ_TIMEOUT_MS);
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      this.bufferManager.releaseBuffer(staging);
      const vals = tf.util.convertBackendValuesAndArrayBuffer(bytes, d.dtype as tf.DataType);
      throwDeviceError();
      this.convertAndCacheOnCPU(dataId, vals);
      return vals as tf.backend_util.BackendValues;
    }
  };
  // the constructor checks navigator.gpu; Node 20 has no navigator
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (g.navigator!.gpu === undefined) g.navigator!.gpu = gpu;
  return new NodeWebGPUBackend(device, info);
}

const SYNC_READ_TIMEOUT_MS = 600_000;

/**
 * A failed validation (e.g. a tensor over the binding limit) skips the dispatch and would leave
 * stale values behind, and a lost device (GPU reset, driver fault) runs nothing more: the first of
 * either is remembered and every later kernel and read fails (throwDeviceError).
 */
export function watchDeviceErrors(device: GPUDevice): void {
  device.addEventListener?.('uncapturederror', (ev) => {
    deviceError ??= `the device rejected work, results are invalid: ${(ev as GPUUncapturedErrorEvent).error.message.split('\n')[0] || 'unknown error'}`;
  });
  void device.lost?.then((info) => {
    deviceError ??= `the device was lost (${info.reason}${info.message ? `: ${info.message.split('\n')[0]}` : ''}), results are invalid`;
  });
}
