/**
 * Conv2DBackpropFilter for the tfjs wasm backend, which lacks it (tfjs 4.22): without it the
 * gradient of a conv filter cannot be computed on wasm, so full training of a ViT's patch
 * embedding (lora_r 0, freeze_layers 0 — training from random init) would fail there.
 *
 *   dW[r, c, i, o] = Σ_{b, y, x} X[b, y·sh + r − top, x·sw + c − left, i] · dY[b, y, x, o]
 *
 * A plain-JS loop over the host copies of X and dY (same definition as the cpu backend's kernel);
 * the patch embedding is one small conv per step, so speed matters little. Registered once, on
 * import, only when the wasm backend has no kernel of its own.
 */
import * as tf from '@tensorflow/tfjs';
import { firstNonFinite } from '../../src/util/finite.js';

interface Attrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface WasmLike {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

export function conv2dBackpropFilterHost(x: Float32Array, xShape: number[], dy: Float32Array, dyShape: number[], attrs: Attrs): Float32Array {
  const fmt = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, fmt);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, inChannels: C, outChannels: O, batchSize: B } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const last = info.dataFormat === 'channelsLast';
  const dW = new Float32Array(fh * fw * C * O);
  // strides of x and dy in either layout
  const xs = last ? [H * W * C, W * C, C, 1] : [C * H * W, W, 1, H * W]; // b, row, col, channel
  // dy as it is, which tfjs does not check against this geometry (a conv2dTranspose whose outputShape
  // is not the exact inverse of the forward conv): read with its own strides, as the cpu kernel does,
  // and refused where the geometry reaches outside it (the cpu kernel's out-of-range error)
  const [dB, dH, dW_, dC] = last ? dyShape : [dyShape[0]!, dyShape[2]!, dyShape[3]!, dyShape[1]!];
  if (dyShape.length !== 4 || dB !== B || dC !== O || dH! < OH || dW_! < OW) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy shape [${dyShape.join(',')}] does not hold the conv's output [${info.outShape.join(',')}]`);
  }
  const ds = last ? [dH! * dW_! * O, dW_! * O, O, 1] : [O * dH! * dW_!, dW_!, 1, dH! * dW_!];
  // Skipping x == 0 saves the inner loop over O (zero padding, relu'd inputs), but 0 · NaN and
  // 0 · ±Inf are NaN: only when every dy is finite does a zero x add nothing (the stock kernel's sum).
  const dyFinite = firstNonFinite(dy) < 0;
  for (let r = 0; r < fh; r++) {
    const y0 = Math.max(0, Math.ceil((top - r) / sh));
    const y1 = Math.min(OH, Math.floor((H + top - r - 1) / sh) + 1);
    for (let c = 0; c < fw; c++) {
      const x0 = Math.max(0, Math.ceil((left - c) / sw));
      const x1 = Math.min(OW, Math.floor((W + left - c - 1) / sw) + 1);
      for (let b = 0; b < B; b++) {
        for (let y = y0; y < y1; y++) {
          const xr = y * sh + r - top;
          for (let xx = x0; xx < x1; xx++) {
            const xc = xx * sw + c - left;
            const xBase = b * xs[0]! + xr * xs[1]! + xc * xs[2]!;
            const dBase = b * ds[0]! + y * ds[1]! + xx * ds[2]!;
            for (let i = 0; i < C; i++) {
              const xv = x[xBase + i * xs[3]!]!;
              if (xv === 0 && dyFinite) continue;
              const wBase = ((r * fw + c) * C + i) * O;
              for (let o = 0; o < O; o++) dW[wBase + o]! += xv * dy[dBase + o * ds[3]!]!;
            }
          }
        }
      }
    }
  }
  return dW;
}

export function registerWasmConvGrad(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmLike;
      const x = inputs.x as tf.TensorInfo;
      const dy = inputs.dy as tf.TensorInfo;
      const a = attrs as unknown as Attrs;
      const out = conv2dBackpropFilterHost(be.readSync(x.dataId) as Float32Array, x.shape, be.readSync(dy.dataId) as Float32Array, dy.shape, a);
      return be.makeOutput([...a.filterShape], 'float32', undefined, out);
    },
  });
}

registerWasmConvGrad();
