/**
 * Native kernels for the tfjs `cpu` backend: when the optional addon (native/, built at `npm install`
 * by scripts/build-native.mjs over OpenBLAS) loads, the heavy cpu kernels are replaced by
 * `tf.registerKernel` versions that call it. Model code is unchanged: the ops (and their gradients,
 * which are themselves BatchMatMuls with transpose flags, Transposes, Sums, ...) dispatch here.
 *
 * Backend data on the cpu backend are plain TypedArrays (`backend.data.get(dataId).values`); every
 * kernel here reads them, lets the addon write into a fresh Float32Array and returns it with
 * `backend.makeTensorInfo`. Anything the addon does not cover (non-float32 dtypes, complex, NCHW
 * convs, prelu) falls through to the stock kernel, kept in `stock`.
 *
 * Replaced kernels (chosen by measurement, see scripts/bench-native.ts):
 *   BatchMatMul, _FusedMatMul       — cblas_sgemm, transposes as BLAS flags (never materialised),
 *                                     true broadcasting of batch dims
 *   Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput (NHWC) — im2col/col2im + sgemm (the filter
 *                                     gradient is what full training of the patch embedding needs)
 *   FusedConv2D MaxPool AvgPool (NHWC) — chunked im2col + sgemm with bias/activation per chunk, and
 *                                     pooling over channels (native-conv.ts; DETR's ResNet backbone)
 *   Add Sub Multiply RealDiv SquaredDifference Maximum Minimum — broadcasting by strides (the stock
 *                                     broadcasting path allocates index arrays per element)
 *   Concat                          — one memcpy per (outer row, input)
 *   Transpose Slice PadV2 Tile      — strided copies (Transpose with a tiled 2-D inner block); the stock
 *                                     kernels do per-element index math (PadV2 is Slice's gradient)
 *   Softmax                         — one pass per row (stock: 5 kernels incl. 2 broadcasting ones)
 *   Sum Mean                        — reduced axes moved innermost by the native transpose, one pass per row
 *   Pow and unary Sigmoid Exp Erf Tanh Rsqrt Square Sqrt Neg Relu Log Abs Floor — the stock unary loop is
 *                                     megamorphic (one shared loop calls every op's closure): ~4M elements/s
 *                                     measured for Sigmoid; natively SIMD (exp/sigmoid in float32 ≤ 2 ulp,
 *                                     erf/tanh in double as the stock kernels compute them)
 *   + LogolabLayerNorm / LogolabLayerNormGrad: new kernels behind fusedLayerNorm(), which
 *     src/models/layers.ts layerNorm() uses on the cpu backend (1 pass instead of ~9 kernels)
 *   + LogolabQuickGelu / LogolabQuickGeluGrad: behind fusedQuickGelu(), used by the ViT blocks'
 *     quick_gelu (1 pass instead of 3 kernels forward, ~6 backward)
 *   + LogolabAttention / LogolabAttentionGrad: behind fusedAttention(), the ViT blocks' multi-head
 *     attention on strided per-head sgemm (no head transposes; ~15 % of a tiny-model LoRA step)
 * The memory-bound kernels split large work (≥ 64K elements) over the same threads as BLAS.
 * Choice (measured, see the report of issue 8): on 2 cores the cpu backend with these kernels beats
 * wasm on every matmul shape (wasm's XNNPACK is single-threaded in Node and slow for transposed and
 * batched products), so `auto` picks cpu+native over wasm when the addon loads.
 *
 * Threads: LOGOLAB_THREADS, else OPENBLAS_NUM_THREADS, else all cores. LOGOLAB_NATIVE=0 disables.
 * Allocator: once the kernels are installed, glibc serves large buffers from its heap, reused after
 * free, instead of one fresh mmap per tensor (measured on a ViT-L/14 LoRA step: 160k page faults
 * and ~19 % of its CPU time; native/src/memory.cc). LOGOLAB_MALLOC_TUNE=0 keeps glibc's defaults.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { onBackendSet, type BackendReport } from './index.js';
import { CONV_RESIDUAL, convPoolKernels, convResidualKernel, type ConvPoolAddon } from './native-conv.js';
import { tileKernels } from './native-tile.js';
import { packagePath } from '../util/package-root.js';

interface Addon extends ConvPoolAddon {
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean,
    aIdx: Int32Array, bIdx: Int32Array, bias?: Float32Array | null, act?: number, alpha?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  transpose(x: Float32Array, out: Float32Array, shape: Int32Array, strides: Int32Array): void;
  scatter(x: Float32Array, out: Float32Array, shape: Int32Array, dstStrides: Int32Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  layernorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number): void;
  layernormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dx: Float32Array, dgamma: Float32Array,
    dbeta: Float32Array, rows: number, cols: number): void;
  rowsum(x: Float32Array, out: Float32Array, rows: number, cols: number, scale: number): void;
  setBatchThreads(on: boolean): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, params: Int32Array): void;
  quickGeluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, probs: Float32Array, params: Int32Array, scale: number): void;
  attentionGrad(dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array, params: Int32Array, scale: number): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, out: Float32Array, params: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, out: Float32Array, params: Int32Array): void;
  setThreads(n: number): void;
  info(): { threads: number; blas: string };
  mallocTune(mmapMax: number, trimThreshold: number): boolean;
  mallocInfo(): { heap: number; inUse: number; free: number; mmapped: number };
}

export const ADDON_PATH = packagePath('native', 'build', 'Release', 'logolab_native.node');

let addon: Addon | null = null;
let loadWhy = '';
function load(): Addon | null {
  if (addon || loadWhy) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadWhy = 'addon not built (needs g++ and libopenblas-dev at npm install; rebuild: node scripts/build-native.mjs)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    const env = process.env.LOGOLAB_THREADS ?? process.env.OPENBLAS_NUM_THREADS;
    const n = env !== undefined && /^\d+$/.test(env) && Number(env) > 0 ? Number(env) : availableParallelism();
    addon.setThreads(n);
  } catch (e) {
    addon = null;
    loadWhy = `addon failed to load: ${((e as Error).message ?? String(e)).split('\n')[0]}`;
  }
  return addon;
}

// ------------------------------------------------------------------------------------------------
// minimal view of tfjs-backend-cpu's MathBackendCPU that the kernels use
type DataId = object;
interface CpuBackend {
  data: { get(id: DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}
type Args = { inputs: tf.NamedTensorInfoMap; backend: CpuBackend; attrs?: tf.NamedAttrMap };
type Impl = (args: Args) => tf.TensorInfo | null;

/** Stock cpu kernels as registered by tfjs-backend-cpu (kept for fallbacks and parity tests). */
const stock = new Map<string, tf.KernelConfig>();
function stockFunc(name: string): tf.KernelFunc {
  const k = stock.get(name) ?? tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`no stock cpu kernel ${name}`);
  return k.kernelFunc;
}

/** The stock cpu kernel function of `name` (whether or not the native one is installed). */
export function stockKernel(name: string): tf.KernelFunc {
  return stockFunc(name);
}

/**
 * Output array for a kernel. Every native kernel writes all of its output, so large outputs skip the
 * zero fill (a whole extra memory pass) through an uninitialised, unpooled Buffer. The view has
 * byteOffset 0 and owns its ArrayBuffer, like `new Float32Array(n)`.
 */
function alloc(n: number): Float32Array {
  if (n < 1024) return new Float32Array(n);
  const b = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}

function f32(backend: CpuBackend, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
function stridesOf(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

// ------------------------------------------------------------------------------------------------
// matmul
const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, leakyrelu: 4, elu: 5 };

interface MatmulPlan { outShape: number[]; M: number; N: number; K: number; aIdx: Int32Array; bIdx: Int32Array }
function planMatmul(aShape: number[], bShape: number[], ta: boolean, tb: boolean): MatmulPlan {
  const ra = aShape.length, rb = bShape.length;
  if (ra < 2 || rb < 2) throw new Error(`Error in matMul: inputs must be rank >= 2, got ${aShape} and ${bShape}`);
  const M = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const Ka = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const Kb = tb ? bShape[rb - 1]! : bShape[rb - 2]!;
  const N = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (Ka !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${aShape} and ${bShape} and transposeA=${ta} and transposeB=${tb} must match.`);
  }
  const aB = aShape.slice(0, -2), bB = bShape.slice(0, -2);
  const oB = tf.broadcast_util.assertAndGetBroadcastShape(aB, bB);
  const nb = size(oB), r = oB.length;
  const aIdx = new Int32Array(nb), bIdx = new Int32Array(nb);
  // true broadcasting of the batch dims (numpy rules); index of each output batch in a and b
  const pa = [...new Array<number>(r - aB.length).fill(1), ...aB], pb = [...new Array<number>(r - bB.length).fill(1), ...bB];
  const sa = stridesOf(pa), sb = stridesOf(pb);
  const loc = new Array<number>(r).fill(0);
  for (let i = 0; i < nb; i++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < r; d++) {
      if (pa[d] !== 1) ia += loc[d]! * sa[d]!;
      if (pb[d] !== 1) ib += loc[d]! * sb[d]!;
    }
    aIdx[i] = ia;
    bIdx[i] = ib;
    for (let d = r - 1; d >= 0; d--) {
      if (++loc[d]! < oB[d]!) break;
      loc[d] = 0;
    }
  }
  return { outShape: [...oB, M, N], M, N, K: Ka, aIdx, bIdx };
}

const batchMatMul: Impl = ({ inputs, backend, attrs }) => {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const ta = !!attrs?.transposeA, tb = !!attrs?.transposeB;
  const p = planMatmul(a.shape, b.shape, ta, tb);
  const out = alloc(size(p.outShape));
  addon!.matmul(av, bv, out, p.M, p.N, p.K, ta, tb, p.aIdx, p.bIdx);
  return backend.makeTensorInfo(p.outShape, 'float32', out);
};

const fusedMatMul: Impl = ({ inputs, backend, attrs }) => {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const av = f32(backend, a!), bv = f32(backend, b!);
  if (!av || !bv || (bias && !f32(backend, bias))) return null;
  const ta = !!attrs?.transposeA, tb = !!attrs?.transposeB;
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const p = planMatmul(a!.shape, b!.shape, ta, tb);
  // bias fused natively when it is a row vector over N ([N], [1,N], ...), activation when simple
  const biasRow = bias && size(bias.shape) === p.N && bias.shape[bias.shape.length - 1] === p.N && bias.shape.length <= p.outShape.length;
  const act = ACT[activation];
  const fuseAct = act !== undefined && (!bias || biasRow);
  const out = alloc(size(p.outShape));
  addon!.matmul(av, bv, out, p.M, p.N, p.K, ta, tb, p.aIdx, p.bIdx, biasRow ? f32(backend, bias!) : null, fuseAct ? act : 0,
    Number(attrs?.leakyreluAlpha ?? 0.2));
  let cur = backend.makeTensorInfo(p.outShape, 'float32', out);
  if (bias && !biasRow) {
    const next = (kernels.Add as Impl)({ inputs: { a: cur, b: bias }, backend }) ?? (stockFunc('Add')({ inputs: { a: cur, b: bias }, backend: backend as never }) as tf.TensorInfo);
    backend.disposeIntermediateTensorInfo(cur);
    cur = next;
  }
  if (!fuseAct && activation !== 'linear') {
    let next: tf.TensorInfo;
    const run = (name: string, inp: tf.NamedTensorInfoMap, at?: tf.NamedAttrMap) => stockFunc(name)({ inputs: inp, backend: backend as never, attrs: at }) as tf.TensorInfo;
    if (activation === 'prelu') next = run('Prelu', { x: cur, alpha: preluActivationWeights! });
    else if (activation === 'leakyrelu') next = run('LeakyRelu', { x: cur }, { alpha: Number(attrs?.leakyreluAlpha ?? 0.2) });
    else if (activation === 'relu') next = run('Relu', { x: cur });
    else if (activation === 'relu6') next = run('Relu6', { x: cur });
    else if (activation === 'elu') next = run('Elu', { x: cur });
    else if (activation === 'sigmoid') next = run('Sigmoid', { x: cur });
    else throw new Error(`Activation ${activation} has not been implemented for the CPU backend.`);
    backend.disposeIntermediateTensorInfo(cur);
    cur = next;
  }
  return cur;
};

// ------------------------------------------------------------------------------------------------
// elementwise binary ops with broadcasting
const BINARY_OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6, Pow: 7 };

/** Collapses a broadcast into the fewest dims: drops size-1 output dims, merges dims contiguous in both inputs. */
export function planBroadcast(aShape: number[], bShape: number[]): { outShape: number[]; shape: Int32Array; sa: Int32Array; sb: Int32Array } {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const r = outShape.length;
  const pa = [...new Array<number>(r - aShape.length).fill(1), ...aShape], pb = [...new Array<number>(r - bShape.length).fill(1), ...bShape];
  const ca = stridesOf(pa), cb = stridesOf(pb);
  const dims: { n: number; sa: number; sb: number }[] = [];
  for (let d = 0; d < r; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const cur = { n, sa: pa[d] === 1 ? 0 : ca[d]!, sb: pb[d] === 1 ? 0 : cb[d]! };
    const prev = dims[dims.length - 1];
    if (prev && prev.sa === cur.sa * cur.n && prev.sb === cur.sb * cur.n) {
      prev.n *= cur.n;
      prev.sa = cur.sa;
      prev.sb = cur.sb;
    } else dims.push(cur);
  }
  return { outShape, shape: Int32Array.from(dims, (d) => d.n), sa: Int32Array.from(dims, (d) => d.sa), sb: Int32Array.from(dims, (d) => d.sb) };
}

function binaryKernel(name: string): Impl {
  const op = BINARY_OPS[name]!;
  return ({ inputs, backend }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return null;
    if (op === BINARY_OPS.Pow && bv.length === 1 && b.shape.length <= a.shape.length && (bv[0] === 2 || bv[0] === 3)) {
      // x², x³ (gelu_pytorch_tanh): vectorised products instead of a scalar pow per element
      const out = alloc(av.length);
      if (out.length > 0) addon!.unary(bv[0] === 2 ? UNARY_OPS.Square! : 11, av, out);
      return backend.makeTensorInfo(tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape), 'float32', out);
    }
    const p = planBroadcast(a.shape, b.shape);
    const out = alloc(size(p.outShape));
    if (out.length > 0) addon!.binary(op, av, bv, out, p.shape, p.sa, p.sb);
    return backend.makeTensorInfo(p.outShape, 'float32', out);
  };
}

// ------------------------------------------------------------------------------------------------
// transpose
/** Output shape, and per output dim the input stride, with size-1 dims dropped and runs merged. */
export function planTranspose(xShape: number[], perm: number[]): { outShape: number[]; shape: Int32Array; strides: Int32Array } {
  const xs = stridesOf(xShape);
  const outShape = perm.map((p) => xShape[p]!);
  const dims: { n: number; s: number }[] = [];
  for (let d = 0; d < perm.length; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const cur = { n, s: xs[perm[d]!]! };
    const prev = dims[dims.length - 1];
    if (prev && prev.s === cur.s * cur.n) {
      prev.n *= cur.n;
      prev.s = cur.s;
    } else dims.push(cur);
  }
  return { outShape, shape: Int32Array.from(dims, (d) => d.n), strides: Int32Array.from(dims, (d) => d.s) };
}

function transposeInfo(backend: CpuBackend, x: tf.TensorInfo, xv: Float32Array, perm: number[]): tf.TensorInfo {
  const p = planTranspose(x.shape, perm);
  const n = size(p.outShape);
  const out = p.shape.length <= 1 ? xv.slice(0, n) : alloc(n);
  if (p.shape.length > 1) addon!.transpose(xv, out, p.shape, p.strides);
  return backend.makeTensorInfo(p.outShape, 'float32', out);
}

const transpose: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  if (!xv) return null;
  return transposeInfo(backend, x, xv, attrs!.perm as number[]);
};

/** Drops size-1 dims of a strided view and merges dims that are contiguous with each other. */
function collapse(shape: number[], strides: number[]): { shape: Int32Array; strides: Int32Array } {
  const dims: { n: number; s: number }[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const cur = { n: shape[d]!, s: strides[d]! };
    const prev = dims[dims.length - 1];
    if (prev && prev.s === cur.s * cur.n) {
      prev.n *= cur.n;
      prev.s = cur.s;
    } else dims.push(cur);
  }
  return { shape: Int32Array.from(dims, (d) => d.n), strides: Int32Array.from(dims, (d) => d.s) };
}

/** Slice: a strided gather from the begin offset (stock: per-element index math when not contiguous). */
const slice: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const xv = f32(backend, x);
  if (!xv) return null;
  const [begin, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]);
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin, sz);
  const n = size(sz);
  const xs = stridesOf(x.shape);
  const off = begin.reduce((a, b, d) => a + b * xs[d]!, 0);
  const p = collapse(sz, xs);
  let out: Float32Array;
  if (n === 0) out = new Float32Array(0);
  else if (p.shape.length === 0) out = xv.slice(off, off + 1);
  else if (p.shape.length === 1 && p.strides[0] === 1) out = xv.slice(off, off + n);
  else {
    out = alloc(n);
    addon!.transpose(xv.subarray(off), out, p.shape, p.strides);
  }
  return backend.makeTensorInfo(sz.slice(), 'float32', out);
};

/** PadV2: fill with the constant, then a strided scatter of x into the interior. */
const padV2: Impl = ({ inputs, backend, attrs }) => {
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
    const p = collapse(x.shape, os);
    if (p.shape.length === 0) out[off] = xv[0]!;
    else addon!.scatter(xv, out.subarray(off), p.shape, p.strides);
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
};

// ------------------------------------------------------------------------------------------------
const softmax: Impl = ({ inputs, backend, attrs }) => {
  const x = inputs.logits as tf.TensorInfo;
  const xv = f32(backend, x);
  const r = x.shape.length;
  const dim = attrs?.dim as number;
  if (!xv || r === 0 || (dim !== -1 && dim !== r - 1)) return null;
  const cols = x.shape[r - 1]!;
  const out = alloc(size(x.shape));
  if (out.length > 0) addon!.softmax(xv, out, out.length / cols, cols);
  return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
};

/**
 * Sum / Mean: reduced axes moved innermost by the native transpose when needed (the stock kernels
 * transpose per element), then one native pass per row, accumulated in double.
 */
function reduceKernel(mean: boolean): Impl {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as tf.TensorInfo;
    const xv = f32(backend, x);
    if (!xv) return null;
    const r = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs!.axis as number | number[], x.shape);
    const perm = tf.backend_util.getAxesPermutation(axes, r);
    let src = xv;
    let t: tf.TensorInfo | null = null;
    let shape = x.shape;
    if (perm != null) {
      t = transposeInfo(backend, x, xv, perm);
      src = backend.data.get(t.dataId).values as Float32Array;
      shape = t.shape;
    }
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(shape, tf.backend_util.getInnerMostAxes(axes.length, r));
    const cols = size(reduceShape), rows = size(outShape);
    const out = alloc(rows);
    if (rows > 0) addon!.rowsum(src, out, rows, cols, mean && cols > 0 ? 1 / cols : 1); // empty mean: 0, as stock
    if (t) backend.disposeIntermediateTensorInfo(t);
    return backend.makeTensorInfo(attrs!.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape, 'float32', out);
  };
}

const UNARY_OPS: Record<string, number> = { Sigmoid: 0, Exp: 1, Erf: 2, Tanh: 3, Rsqrt: 4, Square: 5, Sqrt: 6, Neg: 7, Relu: 8, Log: 9, Abs: 10, Floor: 13 };
function unaryKernel(name: string): Impl {
  const op = UNARY_OPS[name]!;
  return ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    const xv = f32(backend, x);
    if (!xv) return null;
    const out = alloc(xv.length);
    if (out.length > 0) addon!.unary(op, xv, out);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

// ------------------------------------------------------------------------------------------------
// Concat (float32): per outer row, one TypedArray.set per input chunk (memcpy). The stock kernel
// copies element by element through 2-D views; in a ViT it is the [CLS; patches] concat of every
// forward (≈5 % of a tiny-model step).
const concat: Impl = ({ inputs, backend, attrs }) => {
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

type ConvAttrs = {
  strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number]; inputShape?: [number, number, number, number];
};

/** The addon's conv geometry; null (→ stock kernel) for NCHW. The gradients use dilation 1, as tfjs's do. */
function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs, dilations: ConvAttrs['dilations']): { c: tf.backend_util.Conv2DInfo; params: Int32Array } | null {
  const fmt = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (fmt !== 'channelsLast') return null;
  const c = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, dilations ?? 1, a.pad, a.dimRoundingMode, false, fmt);
  const params = Int32Array.from([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.strideHeight,
    c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left, c.outHeight, c.outWidth, c.outChannels]);
  return { c, params };
}

const conv2d: Impl = ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const xv = f32(backend, x), fv = f32(backend, filter);
  const a = attrs as unknown as ConvAttrs;
  const g = xv && fv ? convInfo(x.shape, filter.shape, a, a.dilations) : null;
  if (!g) return null;
  const out = alloc(size(g.c.outShape));
  addon!.conv2d(xv!, fv!, out, g.params);
  return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
};

// Full training (lora_r 0) needs the patch embedding's filter gradient: the stock JS kernel took
// ~25 s per 64-image step of the tiny model, the im2col + sgemm here a few ms.
const conv2dBackpropFilter: Impl = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const xv = f32(backend, x), dv = f32(backend, dy);
  const a = attrs as unknown as ConvAttrs;
  const g = xv && dv && a.filterShape ? convInfo(x.shape, a.filterShape, a, 1) : null;
  if (!g) return null;
  const out = alloc(size(a.filterShape!));
  addon!.conv2dBackpropFilter(xv!, dv!, out, g.params);
  return backend.makeTensorInfo(a.filterShape!.slice(), 'float32', out);
};

const conv2dBackpropInput: Impl = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const dv = f32(backend, dy), fv = f32(backend, filter);
  const a = attrs as unknown as ConvAttrs;
  const g = dv && fv && a.inputShape ? convInfo(a.inputShape, filter.shape, a, 1) : null;
  if (!g) return null;
  const out = alloc(size(a.inputShape!));
  addon!.conv2dBackpropInput(dv!, fv!, out, g.params);
  return backend.makeTensorInfo(a.inputShape!.slice(), 'float32', out);
};

const kernels: Record<string, Impl> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Concat: concat,
  Conv2D: conv2d,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  Conv2DBackpropInput: conv2dBackpropInput,
  // FusedConv2D (conv + bias + activation), MaxPool, AvgPool: src/backend/native-conv.ts
  ...convPoolKernels<CpuBackend>({ addon: () => addon!, f32, alloc, convInfo }),
  // Tile (broadcastTo) as a strided copy: src/backend/native-tile.ts
  ...tileKernels<CpuBackend>({ transpose: (x, o, sh, st) => addon!.transpose(x, o, sh, st), f32, alloc, collapse }),
  Transpose: transpose,
  Slice: slice,
  PadV2: padV2,
  Softmax: softmax,
  Sum: reduceKernel(false),
  Mean: reduceKernel(true),
  ...Object.fromEntries(Object.keys(BINARY_OPS).map((k) => [k, binaryKernel(k)])),
  ...Object.fromEntries(Object.keys(UNARY_OPS).map((k) => [k, unaryKernel(k)])),
};

/** Per call of each replaced kernel: did it fall back to the stock kernel? (kernel coverage report; null = off) */
let fallbackTrace: Map<string, boolean[]> | null = null;
/** Starts (a fresh trace) or stops recording fallbacks; returns the trace recorded so far. */
export function traceNativeFallbacks(on: boolean): Map<string, boolean[]> | null {
  const t = fallbackTrace;
  fallbackTrace = on ? new Map() : null;
  return t;
}

/** The native implementation of `name` (falls back to the stock kernel where the addon does not apply). */
export function nativeKernel(name: string): tf.KernelFunc {
  const impl = kernels[name];
  if (!impl) throw new Error(`no native kernel ${name}`);
  return (args) => {
    const out = impl(args as unknown as Args);
    if (fallbackTrace) {
      const calls = fallbackTrace.get(name) ?? [];
      calls.push(out === null);
      fallbackTrace.set(name, calls);
    }
    return (out ?? stockFunc(name)(args)) as tf.TensorInfo;
  };
}

export const NATIVE_KERNEL_NAMES = Object.keys(kernels);

// ------------------------------------------------------------------------------------------------
// Fused LayerNorm: two new cpu kernels (forward with saved mean/rstd, and its gradient) behind
// tf.customGrad. Used by src/models/layers.ts layerNorm() when active; the composite version
// (moments, sub, rsqrt, mul, add: ~9 kernels forward, more backward) stays for other backends.
const LN = 'LogolabLayerNorm', LN_GRAD = 'LogolabLayerNormGrad';

const layerNormKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const cols = x.shape[x.shape.length - 1]!, rows = size(x.shape) / Math.max(cols, 1);
  const y = alloc(size(x.shape)), mean = alloc(rows), rstd = alloc(rows);
  addon!.layernorm(f32(b, x)!, f32(b, gamma)!, f32(b, beta)!, y, mean, rstd, rows, cols, Number(attrs!.eps));
  const stat = x.shape.slice(0, -1);
  return [b.makeTensorInfo(x.shape.slice(), 'float32', y), b.makeTensorInfo(stat, 'float32', mean), b.makeTensorInfo(stat, 'float32', rstd)];
};

const layerNormGradKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const { dy, x, gamma, mean, rstd } = inputs as Record<string, tf.TensorInfo>;
  const cols = x!.shape[x!.shape.length - 1]!, rows = size(x!.shape) / Math.max(cols, 1);
  const dx = alloc(size(x!.shape)), dg = alloc(cols), db = alloc(cols);
  addon!.layernormGrad(f32(b, dy!)!, f32(b, x!)!, f32(b, gamma!)!, f32(b, mean!)!, f32(b, rstd!)!, dx, dg, db, rows, cols);
  return [b.makeTensorInfo(x!.shape.slice(), 'float32', dx), b.makeTensorInfo([cols], 'float32', dg), b.makeTensorInfo([cols], 'float32', db)];
};

type CustomGradFunc = Parameters<typeof tf.customGrad>[0];

/** The fused ops are customGrad closures over their kernel attributes: made once per attribute key
 *  (they run on every layer's forward), not per call. */
function memoOp<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let op = cache.get(key);
  if (!op) cache.set(key, (op = make()));
  return op;
}

const lnOps = new Map<string, (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor>();
/** customGrad over the two kernels; eps is an attribute, so the function is made per eps. */
function fusedLN(eps: number): (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor {
  return memoOp(lnOps, String(eps), () => makeFusedLN(eps));
}

function makeFusedLN(eps: number): (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor {
  const f = ((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, rstd] = tf.engine().runKernel(LN, { x, gamma, beta }, { eps }) as tf.Tensor[];
    save([x, gamma, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return tf.engine().runKernel(LN_GRAD, { dy, x: sx!, gamma: sg!, mean: sm!, rstd: sr! }, {}) as tf.Tensor[];
      },
    };
  }) as unknown as CustomGradFunc;
  return tf.customGrad(f) as unknown as (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;
}

/**
 * LayerNorm over the last axis through the fused native kernels, or null when they do not apply
 * (native kernels not active, backend not cpu, not float32, gamma/beta not [D]) — then the caller
 * uses its composite version.
 */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor | null {
  if (!installed || tf.getBackend() !== 'cpu' || x.rank < 1) return null;
  const d = x.shape[x.rank - 1]!;
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32' || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) return null;
  return fusedLN(eps)(x, gamma, beta);
}

// ------------------------------------------------------------------------------------------------
// Fused quick_gelu (CLIP's activation, x·σ(1.702x)): one pass forward and one backward instead of
// 3 kernels forward and ~6 backward over [B, T, 4D] tensors (the largest activations of a ViT).
const QG = 'LogolabQuickGelu', QG_GRAD = 'LogolabQuickGeluGrad';

const quickGeluKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const x = (inputs as { x: tf.TensorInfo }).x;
  const out = alloc(size(x.shape));
  if (out.length > 0) addon!.unary(12, f32(b, x)!, out);
  return b.makeTensorInfo(x.shape.slice(), 'float32', out);
};

const quickGeluGradKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b } = args as unknown as Args;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const out = alloc(size(x.shape));
  if (out.length > 0) addon!.quickGeluGrad(f32(b, dy)!, f32(b, x)!, out);
  return b.makeTensorInfo(x.shape.slice(), 'float32', out);
};

const quickGeluOp = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.engine().runKernel(QG, { x }, {}) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(QG_GRAD, { dy, x: saved[0]! }, {}) as tf.Tensor,
  };
}) as unknown as CustomGradFunc) as unknown as (x: tf.Tensor) => tf.Tensor;

/** quick_gelu through the fused native kernels, or null when they do not apply (then: the composite). */
export function fusedQuickGelu(x: tf.Tensor): tf.Tensor | null {
  if (!installed || tf.getBackend() !== 'cpu' || x.dtype !== 'float32') return null;
  return quickGeluOp(x);
}

// ------------------------------------------------------------------------------------------------
// Fused multi-head attention: q [B, Tq, D], k, v [B, Tk, D] in the linear layers' layout (head h =
// columns h·dh … (h+1)·dh); strided sgemm per (batch, head), so the 4 head split/merge transposes
// and the separate scale / softmax kernels of the composite are gone, forward and backward. The
// softmax probabilities [B, H, Tq, Tk] are kept for the gradient (the composite keeps them too).
const ATT = 'LogolabAttention', ATT_GRAD = 'LogolabAttentionGrad';

function attnParams(q: tf.TensorInfo, k: tf.TensorInfo, numHeads: number): Int32Array {
  const [b, tq, d] = q.shape as [number, number, number];
  return Int32Array.from([b, tq, k.shape[1]!, numHeads, d / numHeads]);
}

const attentionKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { q, k, v } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo; v: tf.TensorInfo };
  const h = Number(attrs!.numHeads), p = attnParams(q, k, h);
  const out = alloc(size(q.shape)), probs = alloc(p[0]! * h * p[1]! * p[2]!);
  addon!.attention(f32(b, q)!, f32(b, k)!, f32(b, v)!, out, probs, p, Number(attrs!.scale));
  return [b.makeTensorInfo(q.shape.slice(), 'float32', out), b.makeTensorInfo([p[0]!, h, p[1]!, p[2]!], 'float32', probs)];
};

const attentionGradKernel: tf.KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args as unknown as Args;
  const { dy, q, k, v, probs } = inputs as Record<string, tf.TensorInfo>;
  const p = attnParams(q!, k!, Number(attrs!.numHeads));
  const dq = alloc(size(q!.shape)), dk = alloc(size(k!.shape)), dv = alloc(size(v!.shape));
  addon!.attentionGrad(f32(b, dy!)!, f32(b, q!)!, f32(b, k!)!, f32(b, v!)!, f32(b, probs!)!, dq, dk, dv, p, Number(attrs!.scale));
  return [b.makeTensorInfo(q!.shape.slice(), 'float32', dq), b.makeTensorInfo(k!.shape.slice(), 'float32', dk), b.makeTensorInfo(v!.shape.slice(), 'float32', dv)];
};

const attentionOps = new Map<string, (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor>();
function attentionOp(numHeads: number, scale: number): (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor {
  return memoOp(attentionOps, `${numHeads}:${scale}`, () => {
    const attrs = { numHeads, scale };
    return tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
      const [out, probs] = tf.engine().runKernel(ATT, { q, k, v }, attrs) as tf.Tensor[];
      save([q, k, v, probs!]);
      return {
        value: out!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sq, sk, sv, sp] = saved;
          return tf.engine().runKernel(ATT_GRAD, { dy, q: sq!, k: sk!, v: sv!, probs: sp! }, attrs) as tf.Tensor[];
        },
      };
    }) as unknown as CustomGradFunc) as unknown as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
  });
}

/**
 * softmax(q·kᵀ / √dh)·v per head through the fused native kernels ([B, Tq, D] out, heads merged),
 * or null when they do not apply (then: the composite in src/models/vision/blocks.ts).
 */
export function fusedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number): tf.Tensor3D | null {
  if (!installed || tf.getBackend() !== 'cpu') return null;
  if (q.dtype !== 'float32' || k.dtype !== 'float32' || v.dtype !== 'float32') return null;
  const [b, , d] = q.shape;
  if (k.shape[0] !== b || v.shape[0] !== b || k.shape[2] !== d || v.shape[2] !== d || k.shape[1] !== v.shape[1] || d % numHeads !== 0) return null;
  return attentionOp(numHeads, 1 / Math.sqrt(d / numHeads))(q, k, v) as tf.Tensor3D;
}

// ------------------------------------------------------------------------------------------------
let installed = false;

/** Are the native kernels registered on the cpu backend right now? */
export function nativeKernelsInstalled(): boolean {
  return installed;
}

/** Is kernel `name` served natively on the cpu backend right now (a replaced stock kernel whose
 *  registration is not the stock one, or one of the fused Logolab* kernels, which only this module registers)? */
export function isNativeKernel(name: string): boolean {
  const k = tf.getKernel(name, 'cpu');
  return installed && !!k && (name.startsWith('Logolab') || (stock.has(name) && k.kernelFunc !== stock.get(name)!.kernelFunc));
}

/** Registers the native kernels on the cpu backend (idempotent). False when the addon is unavailable. */
export function installNativeKernels(): boolean {
  if (installed) return true;
  if (!load()) return false;
  if (process.env.LOGOLAB_MALLOC_TUNE !== '0') addon!.mallocTune(0, 1 << 30);
  for (const name of NATIVE_KERNEL_NAMES) {
    const k = tf.getKernel(name, 'cpu');
    if (!k) continue;
    stock.set(name, k);
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: nativeKernel(name) });
  }
  const convResidual = convResidualKernel<CpuBackend>({ addon: () => addon!, f32, alloc, convInfo }); // native-conv.ts
  for (const [kernelName, kernelFunc] of [[LN, layerNormKernel], [LN_GRAD, layerNormGradKernel], [QG, quickGeluKernel], [QG_GRAD, quickGeluGradKernel], [ATT, attentionKernel], [ATT_GRAD, attentionGradKernel], [CONV_RESIDUAL, convResidual]] as const) {
    if (!tf.getKernel(kernelName, 'cpu')) tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
  }
  installed = true;
  return true;
}

/** Puts the stock cpu kernels back. */
export function uninstallNativeKernels(): void {
  if (!installed) return;
  for (const [name, k] of stock) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(k);
  }
  installed = false;
}

export interface NativeKernelsStatus {
  /** the addon is built and loads */
  built: boolean;
  /** built and not disabled (LOGOLAB_NATIVE=0): the cpu backend will use it */
  available: boolean;
  /** why not, when not available or disabled */
  why: string;
  /** kernels currently replaced on the cpu backend */
  active: string[];
  threads: number;
  blas: string;
}

export function nativeDisabled(): boolean {
  return process.env.LOGOLAB_NATIVE === '0';
}

export function nativeKernelsStatus(): NativeKernelsStatus {
  const a = load();
  const i = a?.info();
  return {
    built: a !== null,
    available: a !== null && !nativeDisabled(),
    why: a === null ? loadWhy : nativeDisabled() ? 'disabled by LOGOLAB_NATIVE=0' : '',
    active: installed ? [...stock.keys(), 'LayerNorm (fused)', 'quick_gelu (fused)', 'multi-head attention (fused)', 'conv + bias + residual (fused)'] : [],
    threads: i?.threads ?? 0,
    blas: i?.blas.trim() ?? '',
  };
}

/** Sets the BLAS thread count (also used by benchmarks). */
export function setNativeThreads(n: number): void {
  load()?.setThreads(n);
}

/** glibc malloc statistics of the process (bytes; null without the addon): heap, in use, free, mmapped. */
export function nativeMallocInfo(): { heap: number; inUse: number; free: number; mmapped: number } | null {
  return load()?.mallocInfo() ?? null;
}

/** Whether batched small matmuls are split over threads (default on; benchmarks compare). */
export function setNativeBatchThreads(on: boolean): void {
  load()?.setBatchThreads(on);
}

onBackendSet((r: BackendReport) => {
  if (r.tfName !== 'cpu') return;
  if (nativeDisabled()) {
    uninstallNativeKernels();
    return;
  }
  if (installNativeKernels()) {
    const s = nativeKernelsStatus();
    r.notes.push(`native kernels: OpenBLAS ×${s.threads} threads`);
  } else {
    r.notes.push(`native kernels off: ${loadWhy}`);
  }
});
