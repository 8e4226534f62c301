/**
 * Faster gradient for tf.matMul (kernel BatchMatMul) on the wasm backend (other backends keep the
 * transpose-flag form of tfjs-core's own gradient).
 *
 * tfjs's own gradient computes dA = dY·Bᵀ and dB = Aᵀ·dY with matMul's transpose flags. On the wasm
 * backend (XNNPACK) the transposed variants are 8–35× slower than a plain matmul (measured here:
 * dY·Wᵀ for [514,4096]·[4096,1024] 8×, Aᵀ·dY 35×), and they dominate a training step's backward
 * (dX = dY·Wᵀ through every frozen Linear). This registers the same gradient written with an
 * explicit transpose followed by a plain matmul: mathematically identical, the transpose costs
 * O(size) memory moves against O(n³) flops. Installed once, globally, by training/losses/index.ts and training/recompute.ts.
 */
import * as tf from '@tensorflow/tfjs';

/** swap the last two axes (the kernel always sees rank-3 [batch, rows, cols] tensors) */
function t(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b);

let installed = false;

export function installFastMatMulGradient(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor;
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      // Only wasm gains from explicit transposes: the native cpu kernels (src/backend/native.ts)
      // take the transpose flags straight to BLAS, where materialising costs ~2.5× (measured).
      if (tf.getBackend() !== 'wasm') {
        const m = (x: tf.Tensor, y: tf.Tensor, ta: boolean, tb: boolean) => tf.matMul(x, y, ta, tb);
        if (!transposeA && !transposeB) return { a: () => m(g, b, false, true), b: () => m(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => m(g, b, false, false), b: () => m(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => m(b, g, false, true), b: () => m(a, g, false, false) };
        return { a: () => m(b, g, true, true), b: () => m(g, a, true, true) };
      }
      // C = op(A)·op(B); same cases as tfjs-core's BatchMatMul_grad, transposes made explicit
      if (!transposeA && !transposeB) return { a: () => mm(g, t(b)), b: () => mm(t(a), g) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(t(g), a) };
      if (transposeA && !transposeB) return { a: () => mm(b, t(g)), b: () => mm(a, g) };
      return { a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) };
    },
  });
}
