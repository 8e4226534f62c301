/** The stock tfjs-backend-cpu kernels that the native ones replace, kept for fallbacks and parity tests. */
import * as tf from '@tensorflow/tfjs';

/** Stock cpu kernels as registered by tfjs-backend-cpu, saved when a native kernel replaces them. */
export const stock = new Map<string, tf.KernelConfig>();

export function stockFunc(name: string): tf.KernelFunc {
  const k = stock.get(name) ?? tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`no stock cpu kernel ${name}`);
  return k.kernelFunc;
}

/** The stock cpu kernel function of `name` (whether or not the native one is installed). */
export function stockKernel(name: string): tf.KernelFunc {
  return stockFunc(name);
}
