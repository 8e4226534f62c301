/**
 * What the native kernels share: the minimal view of tfjs-backend-cpu's MathBackendCPU they use,
 * typed-array access, output allocation, strides, and the one dimension-collapsing helper behind
 * every strided kernel (broadcasting binary ops, transpose, slice, pad, tile).
 *
 * Backend data on the cpu backend are plain TypedArrays (`backend.data.get(dataId).values`); every
 * kernel reads them, lets the addon write into a fresh Float32Array and returns it with
 * `backend.makeTensorInfo`.
 */
import * as tf from '@tensorflow/tfjs';
import { adopt, nativeValues, takeRecycled } from './recycle.js';

type DataId = object;
export interface CpuBackend {
  data: { get(id: DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}
export type Args = { inputs: tf.NamedTensorInfoMap; backend: CpuBackend; attrs?: tf.NamedAttrMap };
/** A native kernel: its output, or null when the addon does not apply (then: the stock kernel). */
export type Impl = (args: Args) => tf.TensorInfo | null;

/**
 * Output array for a kernel. Every native kernel writes all of its output, so large outputs skip the
 * zero fill (a whole extra memory pass): a disposed output of the same length (./recycle.ts), else an
 * uninitialised, unpooled Buffer. The view has byteOffset 0 and owns its ArrayBuffer, like
 * `new Float32Array(n)`.
 */
export function alloc(n: number): Float32Array {
  if (n < 1024) return new Float32Array(n);
  const reused = takeRecycled(n);
  if (reused) return reused;
  const b = Buffer.allocUnsafeSlow(n * 4);
  const v = new Float32Array(b.buffer, b.byteOffset, n);
  adopt(v);
  return v;
}

/** The float32 values of a tensor on the cpu backend; null for other dtypes. */
export function f32(backend: CpuBackend, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = nativeValues(backend, t.dataId);
  return v instanceof Float32Array ? v : null;
}

export const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Row-major element strides of a shape. */
export function stridesOf(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

/**
 * The fewest dims that walk the same elements: drops size-1 dims and merges a dim into the one
 * before it when it is contiguous with it in every stride set (prev stride = stride · size; a
 * broadcast dim has stride 0 and merges with a broadcast neighbour). `strides[k][d]` is the element
 * stride of dim d in array k.
 */
export function collapseDims(shape: number[], strides: number[][]): { shape: Int32Array; strides: Int32Array[] } {
  const dims: { n: number; s: number[] }[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const s = strides.map((st) => st[d]!);
    const prev = dims[dims.length - 1];
    if (prev && prev.s.every((p, k) => p === s[k]! * n)) {
      prev.n *= n;
      prev.s = s;
    } else dims.push({ n, s });
  }
  return { shape: Int32Array.from(dims, (d) => d.n), strides: strides.map((_, k) => Int32Array.from(dims, (d) => d.s[k]!)) };
}
