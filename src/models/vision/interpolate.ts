/**
 * Bicubic resize of a position-embedding grid exactly as torch's
 * `F.interpolate(x, size=(oh, ow), mode='bicubic', align_corners=False)` (no antialias), which
 * transformers 5.17's DINOv2, CLIP and SigLIP (interpolate_pos_encoding) use for inputs other than
 * their config image_size:
 *   src = (dst + 0.5) · in/out − 0.5  (not clamped), taps floor(src)−1 … floor(src)+2 clamped to
 *   the border, Keys cubic convolution with A = −0.75.
 * Separable: out = Mh · grid · Mwᵀ, with the interpolation matrices computed here in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../errors.js';

const A = -0.75;
function cc1(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1; // |x| ≤ 1
}
function cc2(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
}

/** [out, in] interpolation matrix (row o holds the weights of output o over the inputs). */
export function bicubicMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const w = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
    for (let k = 0; k < 4; k++) {
      const idx = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[o * inSize + idx] = m[o * inSize + idx]! + w[k]!;
    }
  }
  return m;
}

/** grid [ih, iw, D] (row-major, as HF's reshape of the patch position embeddings) → [oh, ow, D] */
export function resizeGridBicubic(grid: Float32Array, ih: number, iw: number, d: number, oh: number, ow: number): Float32Array {
  const mh = bicubicMatrix(ih, oh);
  const mw = bicubicMatrix(iw, ow);
  // rows first: tmp[oh, iw, D]
  const tmp = new Float64Array(oh * iw * d);
  for (let o = 0; o < oh; o++) {
    for (let i = 0; i < ih; i++) {
      const wgt = mh[o * ih + i]!;
      if (wgt === 0) continue;
      const src = i * iw * d;
      const dst = o * iw * d;
      for (let j = 0; j < iw * d; j++) tmp[dst + j] = tmp[dst + j]! + wgt * grid[src + j]!;
    }
  }
  const out = new Float32Array(oh * ow * d);
  for (let o = 0; o < oh; o++) {
    for (let p = 0; p < ow; p++) {
      const dst = (o * ow + p) * d;
      for (let j = 0; j < iw; j++) {
        const wgt = mw[p * iw + j]!;
        if (wgt === 0) continue;
        const src = (o * iw + j) * d;
        for (let c = 0; c < d; c++) out[dst + c] = out[dst + c]! + wgt * tmp[src + c]!;
      }
    }
  }
  return out;
}

/**
 * transformers' `interpolate_pos_encoding` (CLIP, SigLIP and DINOv2 alike): the table holds
 * `prefix` non-patch rows (the CLS position: CLIP/DINOv2 1, SigLIP 0) then a square side×side
 * patch grid. For an input of height×width pixels (patch grid h×w) the table is used as is when
 * h·w equals the grid AND the image is square (HF's condition), else the patch grid is resized
 * bicubically to h×w (the prefix rows kept). Resized tables are computed once per size and kept
 * until dispose(). The table may be [rows, D] or [1, rows, D]; the result has the same rank.
 */
export class PositionInterpolator {
  private readonly cache = new Map<string, tf.Tensor>();
  private readonly side: number;

  constructor(private readonly table: tf.Tensor, private readonly prefix: number, private readonly family: string) {
    const n = table.shape[table.rank - 2]! - prefix;
    this.side = Math.round(Math.sqrt(n));
    if (this.side * this.side !== n) throw new LogolabError(`${family}: position table of ${n} patches is not a square grid`);
  }

  forGrid(h: number, w: number, height: number, width: number): tf.Tensor {
    if (h * w === this.side * this.side && height === width) return this.table;
    const key = `${h}x${w}`;
    let t = this.cache.get(key);
    if (!t) {
      const d = this.table.shape[this.table.rank - 1]!;
      const all = this.table.dataSync() as Float32Array;
      const out = new Float32Array((this.prefix + h * w) * d);
      out.set(all.subarray(0, this.prefix * d));
      out.set(resizeGridBicubic(all.subarray(this.prefix * d), this.side, this.side, d, h, w), this.prefix * d);
      const shape = [...this.table.shape];
      shape[shape.length - 2] = this.prefix + h * w;
      t = tf.keep(tf.tensor(out, shape));
      this.cache.set(key, t);
    }
    return t;
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}
