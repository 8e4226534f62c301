/**
 * Data-movement kernels as strided copies on the native transpose / scatter (the stock kernels do
 * per-element index math): Transpose (a tiled 2-D inner block), Slice, PadV2 (Slice's gradient),
 * Tile (what tf.broadcastTo runs), and Concat as one memcpy per (outer row, input).
 */
import * as tf from '@tensorflow/tfjs';
import { theAddon } from './addon.js';
import { alloc, collapseDims, f32, size, stridesOf, type CpuBackend, type Impl } from './cpu.js';

/** Output shape, and per output dim the input stride, with size-1 dims dropped and runs merged. */
export function planTranspose(xShape: number[], perm: number[]): { outShape: number[]; shape: Int32Array; strides: Int32Array } {
  const xs = stridesOf(xShape);
  const outShape = perm.map((p) => xShape[p]!);
  const c = collapseDims(outShape, [perm.map((p) => xs[p]!)]);
  return { outShape, shape: c.shape, strides: c.strides[0]! };
}

export function transposeInfo(backend: CpuBackend, x: tf.TensorInfo, xv: Float32Array, perm: number[]): tf.TensorInfo {
  const p = planTranspose(x.shape, perm);
  const n = size(p.outShape);
  const out = p.shape.length <= 1 ? xv.slice(0, n) : alloc(n);
  if (p.shape.length > 1) theAddon().transpose(xv, out, p.shape, p.strides);
  return backend.makeTensorInfo(p.outShape, 'float32', out);
}

export const transpose: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  if (!xv) return null;
  return transposeInfo(backend, x, xv, attrs!.perm as number[]);
};

/** Slice: a strided gather from the begin offset (stock: per-element index math when not contiguous). */
export const slice: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  if (!xv) return null;
  const [begin, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]) as [number[], number[]];
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin, sz);
  const n = size(sz);
  const xs = stridesOf(x.shape);
  const off = begin.reduce((a, b, d) => a + b * xs[d]!, 0);
  const p = collapseDims(sz, [xs]);
  const st = p.strides[0]!;
  let out: Float32Array;
  if (n === 0) out = new Float32Array(0);
  else if (p.shape.length === 0) out = xv.slice(off, off + 1);
  else if (p.shape.length === 1 && st[0] === 1) out = xv.slice(off, off + n);
  else {
    out = alloc(n);
    theAddon().transpose(xv.subarray(off), out, p.shape, st);
  }
  return backend.makeTensorInfo(sz.slice(), 'float32', out);
};

/** PadV2: fill with the constant, then a strided scatter of x into the interior. */
export const padV2: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  if (!xv) return null;
  const paddings = attrs!.paddings as [number, number][];
  const outShape = x.shape.map((s, d) => paddings[d]![0] + s + paddings[d]![1]);
  const n = size(outShape);
  const out = alloc(n).fill(Number(attrs!.constantValue ?? 0));
  if (size(x.shape) > 0) {
    const os = stridesOf(outShape);
    const off = paddings.reduce((a, [b], d) => a + b * os[d]!, 0);
    const p = collapseDims(x.shape, [os]);
    if (p.shape.length === 0) out[off] = xv[0]!;
    else theAddon().scatter(xv, out.subarray(off), p.shape, p.strides[0]!);
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
};

/**
 * Tile (tf.broadcastTo and tf.tile) as a strided copy: output dim d of size reps[d]·n[d] is the pair
 * (reps[d], n[d]) with input strides (0, stride[d]), so the copy reads the same input rows again for
 * every repetition. The stock kernel computes an index array per element (~8 µs each while cold:
 * 16 ms for the CLIP class-token broadcast [1,1,D] → [B,1,D] of every training step, ~5 % of a
 * tiny-ViT LoRA step).
 */
export const tile: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  const reps = attrs?.reps as number[] | undefined;
  if (!xv || !reps || reps.length !== x.shape.length || reps.some((r) => !Number.isInteger(r) || r < 0)) return null;
  const outShape = x.shape.map((n, d) => n * reps[d]!);
  const total = size(outShape);
  const out = alloc(total);
  if (total === 0) return backend.makeTensorInfo(outShape, 'float32', out);
  const shape: number[] = [], strides: number[] = [];
  for (let d = 0, s = size(x.shape); d < x.shape.length; d++) {
    s /= x.shape[d]!;
    shape.push(reps[d]!, x.shape[d]!);
    strides.push(0, s);
  }
  const p = collapseDims(shape, [strides]);
  if (p.shape.length === 0) out[0] = xv[0]!;
  else theAddon().transpose(xv, out, p.shape, p.strides[0]!);
  return backend.makeTensorInfo(outShape, 'float32', out);
};

/**
 * Concat (float32): per outer row, one TypedArray.set per input chunk (memcpy). The stock kernel
 * copies element by element through 2-D views; in a ViT it is the [CLS; patches] concat of every
 * forward (≈5 % of a tiny-model step).
 */
export const concat: Impl = ({ inputs, backend, attrs }) => {
  const ts = Object.values(inputs) as tf.TensorInfo[];
  if (ts.length === 0) return null;
  const vals = ts.map((t) => f32(backend, t));
  if (vals.some((v) => v === null)) return null;
  const axis = tf.util.parseAxisParam((attrs as unknown as { axis: number }).axis, ts[0]!.shape)[0]!;
  const outShape = tf.backend_util.computeOutShape(ts.map((t) => t.shape), axis);
  const out = alloc(size(outShape));
  if (out.length === 0) return backend.makeTensorInfo(outShape, 'float32', out);
  const outer = size(outShape.slice(0, axis));
  const inner = ts.map((t) => size(t.shape.slice(axis)));
  const row = inner.reduce((a, b) => a + b, 0);
  for (let r = 0; r < outer; r++) {
    let off = r * row;
    for (let i = 0; i < ts.length; i++) {
      const n = inner[i]!;
      if (n > 0) out.set(vals[i]!.subarray(r * n, (r + 1) * n), off);
      off += n;
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
};
