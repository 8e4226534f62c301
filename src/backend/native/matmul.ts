/**
 * BatchMatMul and _FusedMatMul on cblas_sgemm: transposes as BLAS flags (never materialised), true
 * (numpy) broadcasting of the batch dims, bias and simple activations fused into the product.
 */
import * as tf from '@tensorflow/tfjs';
import { theAddon } from './addon.js';
import { alloc, f32, size, stridesOf, type Impl } from './cpu.js';
import { ACTIVATIONS, Activation } from './op-codes.js';
import { binaryKernel } from './elementwise.js';
import { stockFunc } from './stock.js';

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

export const batchMatMul: Impl = ({ inputs, backend, attrs }) => {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const ta = !!attrs?.transposeA, tb = !!attrs?.transposeB;
  const p = planMatmul(a.shape, b.shape, ta, tb);
  const out = alloc(size(p.outShape));
  theAddon().matmul(av, bv, out, p.M, p.N, p.K, ta, tb, p.aIdx, p.bIdx);
  return backend.makeTensorInfo(p.outShape, 'float32', out);
};

const nativeAdd = binaryKernel('Add');

export const fusedMatMul: Impl = ({ inputs, backend, attrs }) => {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const av = f32(backend, a!), bv = f32(backend, b!);
  if (!av || !bv || (bias && !f32(backend, bias))) return null;
  const ta = !!attrs?.transposeA, tb = !!attrs?.transposeB;
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const p = planMatmul(a!.shape, b!.shape, ta, tb);
  // bias fused natively when it is a row vector over N ([N], [1,N], ...), activation when simple (not prelu)
  const biasRow = bias && size(bias.shape) === p.N && bias.shape[bias.shape.length - 1] === p.N && bias.shape.length <= p.outShape.length;
  const act = ACTIVATIONS[activation];
  const fuseAct = act !== undefined && act !== Activation.Prelu && (!bias || biasRow);
  const out = alloc(size(p.outShape));
  theAddon().matmul(av, bv, out, p.M, p.N, p.K, ta, tb, p.aIdx, p.bIdx, biasRow ? f32(backend, bias!) : null, fuseAct ? act : Activation.Linear,
    Number(attrs?.leakyreluAlpha ?? 0.2));
  let cur = backend.makeTensorInfo(p.outShape, 'float32', out);
  if (bias && !biasRow) {
    const next = nativeAdd({ inputs: { a: cur, b: bias }, backend }) ?? (stockFunc('Add')({ inputs: { a: cur, b: bias }, backend: backend as never }) as tf.TensorInfo);
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
