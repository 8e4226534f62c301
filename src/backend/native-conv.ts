/**
 * Native FusedConv2D, MaxPool and AvgPool for the tfjs cpu backend (native/src/conv.cc, pool.cc).
 * src/backend/native.ts registers them with its other kernels; the shared helpers (typed-array
 * access, output allocation, conv geometry) come from there as `deps`, so this module imports
 * nothing from it (no import cycle).
 *
 * FusedConv2D = what tf.fused.conv2d runs (DETR's ResNet: frozen BatchNorm folded into filter + bias,
 * then relu): stock, the convolution is a JavaScript loop at ~1 GFLOP/s followed by separate Add and
 * activation kernels; natively, chunked im2col + sgemm with bias and activation applied per chunk.
 * Its gradient needs no kernel of its own: tfjs differentiates tf.fused.conv2d through
 * Conv2DBackpropInput / Conv2DBackpropFilter and Sum (all native), and while a gradient is
 * recorded it does not fuse a non-linear activation at all.
 * Falls back to the stock kernel (returns null) for NCHW, non-float32 inputs, and bias or PReLU
 * weights that are not one value per output channel (or a single value).
 */
import * as tf from '@tensorflow/tfjs';

export interface ConvPoolAddon {
  fusedConv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, prelu: Float32Array | null, out: Float32Array, params: Int32Array,
    act: number, alpha: number, tuning?: Int32Array | null, residual?: Float32Array | null): void;
  pool2d(x: Float32Array, out: Float32Array, params: Int32Array, kind: number): void;
}

interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}
type Args<B> = { inputs: tf.NamedTensorInfoMap; backend: B; attrs?: tf.NamedAttrMap };
type ConvAttrsLike = Parameters<typeof tf.backend_util.computeConv2DInfo>;

export interface ConvPoolDeps<B extends CpuBackendLike> {
  addon(): ConvPoolAddon;
  f32(backend: B, t: tf.TensorInfo): Float32Array | null;
  alloc(n: number): Float32Array;
  /** native.ts's conv geometry (params [N,H,W,C, fh,fw, sh,sw, dh,dw, padTop,padLeft, outH,outW, outC]); null for NCHW */
  convInfo(xShape: number[], filterShape: number[], a: never, dilations: ConvAttrsLike[3]): { c: tf.backend_util.Conv2DInfo; params: Int32Array } | null;
}

/** Activation codes of conv.cc, in tfjs's fused-activation names. */
export const FUSED_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** A per-channel vector (or one value) → Float32Array of 1 or `channels` values; null when it broadcasts otherwise. */
function perChannel<B extends CpuBackendLike>(deps: ConvPoolDeps<B>, backend: B, t: tf.TensorInfo, channels: number): Float32Array | null {
  const v = deps.f32(backend, t);
  if (!v) return null;
  const n = size(t.shape);
  if (n === 1 && v.length >= 1) return v.subarray(0, 1);
  if (n !== channels || t.shape[t.shape.length - 1] !== channels || t.shape.length > 4) return null;
  return v.subarray(0, channels);
}

export function convPoolKernels<B extends CpuBackendLike>(deps: ConvPoolDeps<B>): Record<string, (args: Args<B>) => tf.TensorInfo | null> {
  const fusedConv2D = ({ inputs, backend, attrs }: Args<B>): tf.TensorInfo | null => {
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
    const xv = deps.f32(backend, x!), fv = deps.f32(backend, filter!);
    const activation = (attrs?.activation as string | undefined) ?? 'linear';
    const act = FUSED_ACTIVATIONS[activation];
    if (!xv || !fv || act === undefined) return null;
    const g = deps.convInfo(x!.shape, filter!.shape, attrs as never, attrs?.dilations as ConvAttrsLike[3]);
    if (!g) return null;
    const oc = g.c.outChannels;
    let b: Float32Array | null = null;
    if (bias) {
      const v = perChannel(deps, backend, bias, oc);
      if (!v) return null;
      b = v.length === oc ? v : new Float32Array(oc).fill(v[0]!);
    }
    let prelu: Float32Array | null = null;
    if (activation === 'prelu') {
      if (!preluActivationWeights || !(prelu = perChannel(deps, backend, preluActivationWeights, oc))) return null;
    }
    const out = deps.alloc(size(g.c.outShape));
    deps.addon().fusedConv2d(xv, fv, b, prelu, out, g.params, act, Number(attrs?.leakyreluAlpha ?? 0.2));
    return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
  };

  const pool = (kind: 0 | 1) => ({ inputs, backend, attrs }: Args<B>): tf.TensorInfo | null => {
    const x = inputs.x as tf.TensorInfo;
    const xv = deps.f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const c = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const params = Int32Array.from([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth,
      c.padInfo.top, c.padInfo.left, c.outHeight, c.outWidth]);
    const out = deps.alloc(size(c.outShape));
    deps.addon().pool2d(xv, out, params, kind);
    return backend.makeTensorInfo(c.outShape.slice(), 'float32', out);
  };

  return { FusedConv2D: fusedConv2D, MaxPool: pool(0), AvgPool: pool(1) };
}

// ------------------------------------------------------------------------------------------------
// A ResNet bottleneck's last step in one kernel: act(conv(x, filter) + bias + residual), the add and
// the relu done per chunk while the conv's output is in cache instead of two more passes over the
// block's (largest) output (≈ 16 % of DETR-R50's kernel time at 400×533). Inference only: the op
// has no gradient, so callers use it only while no gradient is recorded.
export const CONV_RESIDUAL = 'LogolabConv2DResidual';

export function convResidualKernel<B extends CpuBackendLike>(deps: ConvPoolDeps<B>): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as Args<B>;
    const { x, filter, bias, residual } = inputs as Record<string, tf.TensorInfo>;
    const act = FUSED_ACTIVATIONS[(attrs?.activation as string | undefined) ?? 'linear'];
    const g = deps.convInfo(x!.shape, filter!.shape, attrs as never, 1);
    const xv = deps.f32(backend, x!), fv = deps.f32(backend, filter!), bv = deps.f32(backend, bias!), rv = deps.f32(backend, residual!);
    if (!g || !xv || !fv || !bv || !rv || act === undefined || act === FUSED_ACTIVATIONS.prelu || bv.length !== g.c.outChannels
      || residual!.shape.join() !== g.c.outShape.join()) {
      throw new Error(`${CONV_RESIDUAL}: unsupported inputs x ${JSON.stringify(x!.shape)} filter ${JSON.stringify(filter!.shape)} residual ${JSON.stringify(residual!.shape)}`);
    }
    const out = deps.alloc(size(g.c.outShape));
    deps.addon().fusedConv2d(xv, fv, bv, null, out, g.params, act, Number(attrs?.leakyreluAlpha ?? 0.2), null, rv);
    return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
  };
}

/**
 * act(conv2d(x, filter) + bias + residual), NHWC, float32, on the cpu backend with the native kernels
 * installed and no gradient being recorded (the caller checks; see src/detect/model.ts).
 */
export function conv2dResidual(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, residual: tf.Tensor4D, strides: number,
  pad: 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]], activation: 'linear' | 'relu'): tf.Tensor4D {
  return tf.engine().runKernel(CONV_RESIDUAL, { x, filter, bias, residual }, { strides, pad, dataFormat: 'NHWC', dilations: 1, activation }) as tf.Tensor4D;
}
