/**
 * Convolution and pooling kernels (NHWC; NCHW falls back to the stock kernels):
 *  - Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput: im2col/col2im + sgemm (the filter gradient
 *    is what full training of the patch embedding needs: the stock JS kernel took ~25 s per 64-image
 *    step of the tiny model, this a few ms).
 *  - FusedConv2D = what tf.fused.conv2d runs (DETR's ResNet: frozen BatchNorm folded into filter +
 *    bias, then relu): stock, the convolution is a JavaScript loop at ~1 GFLOP/s followed by
 *    separate Add and activation kernels; natively (native/src/conv.cc), chunked im2col + sgemm with
 *    bias and activation applied per chunk. Its gradient needs no kernel of its own: tfjs
 *    differentiates tf.fused.conv2d through Conv2DBackpropInput / Conv2DBackpropFilter and Sum (all
 *    native), and while a gradient is recorded it does not fuse a non-linear activation at all.
 *    Falls back for non-float32 inputs, and bias or PReLU weights that are not one value per output
 *    channel (or a single value).
 *  - MaxPool, AvgPool: pooling over channels (native/src/pool.cc).
 *  - LogolabConv2DResidual: a ResNet bottleneck's last step, act(conv + bias + residual), behind
 *    conv2dResidual() in ./fused-ops.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { theAddon } from './addon.js';
import { alloc, f32, size, type Args, type CpuBackend, type Impl } from './cpu.js';
import { ACTIVATIONS, Activation, PoolKind } from './op-codes.js';

type ConvAttrs = {
  strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number]; inputShape?: [number, number, number, number];
};

/**
 * The addon's conv geometry, params [N,H,W,C, fh,fw, sh,sw, dh,dw, padTop,padLeft, outH,outW, outC];
 * null (→ stock kernel) for NCHW. The gradients use dilation 1, as tfjs's do.
 */
function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs, dilations: ConvAttrs['dilations']): { c: tf.backend_util.Conv2DInfo; params: Int32Array } | null {
  const fmt = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (fmt !== 'channelsLast') return null;
  const c = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, dilations ?? 1, a.pad, a.dimRoundingMode, false, fmt);
  const params = Int32Array.from([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.strideHeight,
    c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left, c.outHeight, c.outWidth, c.outChannels]);
  return { c, params };
}

/**
 * The addon reads dy as a dense [N·outH·outW, outC] array of the geometry it was given, but tfjs does
 * not require dy to match it (a conv2dTranspose whose outputShape is not the exact inverse of the
 * forward conv reaches these kernels): any other shape → stock kernel, never a misread dy.
 */
function dyMatches(dy: tf.TensorInfo, c: tf.backend_util.Conv2DInfo): boolean {
  return dy.shape.length === c.outShape.length && dy.shape.every((d, i) => d === c.outShape[i]);
}

export const conv2d: Impl = ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const xv = f32(backend, x), fv = f32(backend, filter);
  const a = attrs as unknown as ConvAttrs;
  const g = xv && fv ? convInfo(x.shape, filter.shape, a, a.dilations) : null;
  if (!g) return null;
  const out = alloc(size(g.c.outShape));
  theAddon().conv2d(xv!, fv!, out, g.params);
  return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
};

export const conv2dBackpropFilter: Impl = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const xv = f32(backend, x), dv = f32(backend, dy);
  const a = attrs as unknown as ConvAttrs;
  const g = xv && dv && a.filterShape ? convInfo(x.shape, a.filterShape, a, 1) : null;
  if (!g || !dyMatches(dy, g.c)) return null;
  const out = alloc(size(a.filterShape!));
  theAddon().conv2dBackpropFilter(xv!, dv!, out, g.params);
  return backend.makeTensorInfo(a.filterShape!.slice(), 'float32', out);
};

export const conv2dBackpropInput: Impl = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const dv = f32(backend, dy), fv = f32(backend, filter);
  const a = attrs as unknown as ConvAttrs;
  const g = dv && fv && a.inputShape ? convInfo(a.inputShape, filter.shape, a, 1) : null;
  if (!g || !dyMatches(dy, g.c)) return null;
  const out = alloc(size(a.inputShape!));
  theAddon().conv2dBackpropInput(dv!, fv!, out, g.params);
  return backend.makeTensorInfo(a.inputShape!.slice(), 'float32', out);
};

/** A per-channel vector (or one value) → Float32Array of 1 or `channels` values; null when it broadcasts otherwise. */
function perChannel(backend: CpuBackend, t: tf.TensorInfo, channels: number): Float32Array | null {
  const v = f32(backend, t);
  if (!v) return null;
  const n = size(t.shape);
  if (n === 1 && v.length >= 1) return v.subarray(0, 1);
  if (n !== channels || t.shape[t.shape.length - 1] !== channels || t.shape.length > 4) return null;
  return v.subarray(0, channels);
}

export const fusedConv2D: Impl = ({ inputs, backend, attrs }) => {
  const { x, filter, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const xv = f32(backend, x!), fv = f32(backend, filter!);
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const act = ACTIVATIONS[activation];
  if (!xv || !fv || act === undefined) return null;
  const a = attrs as unknown as ConvAttrs;
  const g = convInfo(x!.shape, filter!.shape, a, a.dilations);
  if (!g) return null;
  const oc = g.c.outChannels;
  let b: Float32Array | null = null;
  if (bias) {
    const v = perChannel(backend, bias, oc);
    if (!v) return null;
    b = v.length === oc ? v : new Float32Array(oc).fill(v[0]!);
  }
  let prelu: Float32Array | null = null;
  if (act === Activation.Prelu) {
    if (!preluActivationWeights || !(prelu = perChannel(backend, preluActivationWeights, oc))) return null;
  }
  const out = alloc(size(g.c.outShape));
  theAddon().fusedConv2d(xv, fv, b, prelu, out, g.params, act, Number(attrs?.leakyreluAlpha ?? 0.2));
  return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
};

function poolKernel(kind: PoolKind): Impl {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as tf.TensorInfo;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const c = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const params = Int32Array.from([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth,
      c.padInfo.top, c.padInfo.left, c.outHeight, c.outWidth]);
    const out = alloc(size(c.outShape));
    theAddon().pool2d(xv, out, params, kind);
    return backend.makeTensorInfo(c.outShape.slice(), 'float32', out);
  };
}
export const maxPool = poolKernel(PoolKind.Max);
export const avgPool = poolKernel(PoolKind.Avg);

// A ResNet bottleneck's last step in one kernel: act(conv(x, filter) + bias + residual), the add and
// the relu done per chunk while the conv's output is in cache instead of two more passes over the
// block's (largest) output (≈ 16 % of DETR-R50's kernel time at 400×533). Inference only: the op
// has no gradient, so callers use it only while no gradient is recorded.
export const CONV_RESIDUAL = 'LogolabConv2DResidual';

export const convResidualKernel: tf.KernelFunc = (args) => {
  const { inputs, backend, attrs } = args as unknown as Args;
  const { x, filter, bias, residual } = inputs as Record<string, tf.TensorInfo>;
  const act = ACTIVATIONS[(attrs?.activation as string | undefined) ?? 'linear'];
  const g = convInfo(x!.shape, filter!.shape, attrs as unknown as ConvAttrs, 1);
  const xv = f32(backend, x!), fv = f32(backend, filter!), bv = f32(backend, bias!), rv = f32(backend, residual!);
  if (!g || !xv || !fv || !bv || !rv || act === undefined || act === Activation.Prelu || bv.length !== g.c.outChannels
    || residual!.shape.join() !== g.c.outShape.join()) {
    throw new Error(`${CONV_RESIDUAL}: unsupported inputs x ${JSON.stringify(x!.shape)} filter ${JSON.stringify(filter!.shape)} residual ${JSON.stringify(residual!.shape)}`);
  }
  const out = alloc(size(g.c.outShape));
  theAddon().fusedConv2d(xv, fv, bv, null, out, g.params, act, Number(attrs?.leakyreluAlpha ?? 0.2), null, rv);
  return backend.makeTensorInfo(g.c.outShape.slice(), 'float32', out);
};
