/**
 * Native Tile (what tf.broadcastTo and tf.tile run) for the tfjs cpu backend, as a strided copy on
 * the native transpose kernel: output dim d of size reps[d]·n[d] is the pair (reps[d], n[d]) with
 * input strides (0, stride[d]), so the copy reads the same input rows again for every repetition.
 * The stock kernel computes an index array per element (~8 µs each while cold: 16 ms for the CLIP
 * class-token broadcast [1,1,D] → [B,1,D] of every training step, ~5 % of a tiny-ViT LoRA step).
 * Registered by src/backend/native.ts with its helpers as `deps` (no import cycle).
 */
import * as tf from '@tensorflow/tfjs';

interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}
type Args<B> = { inputs: tf.NamedTensorInfoMap; backend: B; attrs?: tf.NamedAttrMap };

export interface TileDeps<B extends CpuBackendLike> {
  transpose(x: Float32Array, out: Float32Array, shape: Int32Array, strides: Int32Array): void;
  f32(backend: B, t: tf.TensorInfo): Float32Array | null;
  alloc(n: number): Float32Array;
  /** drops size-1 dims of a strided view and merges contiguous ones */
  collapse(shape: number[], strides: number[]): { shape: Int32Array; strides: Int32Array };
}

export function tileKernels<B extends CpuBackendLike>(deps: TileDeps<B>): Record<string, (args: Args<B>) => tf.TensorInfo | null> {
  const tile = ({ inputs, backend, attrs }: Args<B>): tf.TensorInfo | null => {
    const x = inputs.x as tf.TensorInfo;
    const xv = deps.f32(backend, x);
    const reps = attrs?.reps as number[] | undefined;
    if (!xv || !reps || reps.length !== x.shape.length || reps.some((r) => !Number.isInteger(r) || r < 0)) return null;
    const outShape = x.shape.map((n, d) => n * reps[d]!);
    const total = outShape.reduce((a, b) => a * b, 1);
    const out = deps.alloc(total);
    if (total === 0) return backend.makeTensorInfo(outShape, 'float32', out);
    const shape: number[] = [], strides: number[] = [];
    for (let d = 0, s = x.shape.reduce((a, b) => a * b, 1); d < x.shape.length; d++) {
      s /= x.shape[d]!;
      shape.push(reps[d]!, x.shape[d]!);
      strides.push(0, s);
    }
    const p = deps.collapse(shape, strides);
    if (p.shape.length === 0) out[0] = xv[0]!;
    else deps.transpose(xv, out, p.shape, p.strides);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
  return { Tile: tile };
}
