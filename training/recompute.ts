/**
 * Loss and gradients of a block-structured model (stem → blocks → tail), either plainly (one
 * gradient tape over everything) or memory-bounded by per-block recomputation ("gradient
 * checkpointing"):
 *   forward:  run the stem and blocks WITHOUT a tape, keeping only each block's input [B, T, D];
 *   tail:     tape only the tail (pool → head → loss): dL/dh_L and the tail's variable gradients;
 *   backward: for each block from the top down, recompute it under its own tape with
 *             gradients(block(x_i), [x_i, ...its variables], dy = dL/dx_{i+1}) (backprop.ts),
 *             which yields dL/dx_i and the block's variable gradients; then free that tape.
 * Peak memory is the kept inputs plus ONE block's activations instead of all of them. Blocks below
 * the lowest block with trainable variables are never recomputed (nothing there needs gradients).
 * No tf.grads inside a customGrad: each block's backward is an ordinary top-level tape.
 *
 * Dropout masks must be the same in the forward pass and its recomputation: every block gets a
 * context that records the seeds it draws, and its recomputation replays them. The seeds are drawn
 * in the same order as in the plain path, so both paths see the same masks.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../src/errors.js';
import { INFERENCE, type ForwardContext } from '../src/models/layers.js';
import { installFastMatMulGradient } from './matmul_grad.js';
import { gradients, variableGrads } from './backprop.js';

// Training anywhere in the project goes through this module (or its GradFn): make backward matmuls fast.
installFastMatMulGradient();

export interface Block {
  forward(x: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
  /** this block's trainable variables (may be empty) */
  variables: tf.Variable[];
}

export interface BlockwiseGraph {
  /** stem (patch embeddings) */
  stem(ctx: ForwardContext): tf.Tensor3D;
  /** the stem's trainable variables (usually none: embeddings frozen) */
  stemVariables?: tf.Variable[];
  blocks: Block[];
  /** h_L [B, T, D] → scalar loss */
  tail(h: tf.Tensor3D, ctx: ForwardContext): tf.Scalar;
  tailVariables: tf.Variable[];
}

export interface LossAndGrads {
  loss: tf.Scalar;
  /** gradient per variable name (tf.Variable.name), as optimizer.applyGradients takes */
  grads: tf.NamedTensorMap;
}

function allVariables(g: BlockwiseGraph): tf.Variable[] {
  const seen = new Set<tf.Variable>();
  for (const v of [...(g.stemVariables ?? []), ...g.blocks.flatMap((b) => b.variables), ...g.tailVariables]) seen.add(v);
  return [...seen];
}

/**
 * One gradient tape over the whole graph (the reference path). With backprop.ts the stem and the
 * blocks without trainable variables are not recorded, so its memory is the adapted blocks' saved
 * tensors (PyTorch's behaviour); recomputation trades a second forward pass of those for less.
 */
export function plainLossAndGrads(g: BlockwiseGraph, ctx: ForwardContext = INFERENCE): LossAndGrads {
  const vars = allVariables(g);
  if (!vars.length) throw new LogolabError('nothing to train: the model has no trainable variables');
  const { value, grads } = variableGrads(() => {
    let h = g.stem(ctx);
    for (const b of g.blocks) h = b.forward(h, ctx);
    return g.tail(h, ctx);
  }, vars);
  return { loss: value, grads };
}

function recordingContext(ctx: ForwardContext, seeds: number[]): ForwardContext {
  if (!ctx.nextSeed) return ctx;
  const next = ctx.nextSeed;
  return { ...ctx, nextSeed: () => {
    const s = next();
    seeds.push(s);
    return s;
  } };
}

function replayContext(ctx: ForwardContext, seeds: number[]): ForwardContext {
  if (!ctx.nextSeed) return ctx;
  let k = 0;
  return { ...ctx, nextSeed: () => {
    if (k >= seeds.length) throw new Error('internal: block recomputation drew more seeds than its forward pass');
    return seeds[k++]!;
  } };
}

function accumulate(grads: tf.NamedTensorMap, v: tf.Variable, g: tf.Tensor | null): void {
  const t = g ?? tf.zerosLike(v);
  const prev = grads[v.name];
  if (prev) {
    grads[v.name] = tf.add(prev, t);
    prev.dispose();
    t.dispose();
  } else grads[v.name] = t;
}

/** Same result as plainLossAndGrads with one block's activations alive at a time. */
export function recomputeLossAndGrads(g: BlockwiseGraph, ctx: ForwardContext = INFERENCE): LossAndGrads {
  const vars = allVariables(g);
  if (!vars.length) throw new LogolabError('nothing to train: the model has no trainable variables');
  const n = g.blocks.length;
  const stemVars = g.stemVariables ?? [];
  // lowest part that needs gradients: -1 = the stem, n = only the tail
  let first = stemVars.length ? -1 : g.blocks.findIndex((b) => b.variables.length > 0);
  if (first === -1 && !stemVars.length) first = n;
  const keepFrom = Math.max(first, 0);
  const seeds: number[][] = g.blocks.map(() => []);
  const stemSeeds: number[] = [];
  const inputs: (tf.Tensor3D | null)[] = new Array(n).fill(null);
  const grads: tf.NamedTensorMap = {};
  let h: tf.Tensor3D | null = null;
  let dy: tf.Tensor3D | null = null;
  try {
    // forward without a tape; keep the inputs of blocks ≥ keepFrom
    const sctx = recordingContext(ctx, stemSeeds);
    h = tf.tidy(() => g.stem(sctx));
    for (let i = 0; i < n; i++) {
      const x: tf.Tensor3D = h;
      const bctx = recordingContext(ctx, seeds[i]!);
      h = tf.tidy(() => g.blocks[i]!.forward(x, bctx));
      if (i >= keepFrom) inputs[i] = x;
      else x.dispose();
    }
    // tail under its own tape
    const hL: tf.Tensor3D = h;
    const needTop = first < n;
    const t = gradients(() => g.tail(hL, ctx), needTop ? [hL, ...g.tailVariables] : [...g.tailVariables]);
    const loss = t.value as tf.Scalar;
    let k = 0;
    if (needTop) dy = (t.grads[k++] ?? tf.zerosLike(hL)) as tf.Tensor3D;
    for (const v of g.tailVariables) accumulate(grads, v, t.grads[k++] ?? null);
    hL.dispose();
    h = null;
    // blocks from the top down: recompute block i under its own tape, dy ← dL/dx_i
    for (let i = n - 1; i >= keepFrom; i--) {
      const x = inputs[i]!;
      const block = g.blocks[i]!;
      const needInput = i > first;
      const xs: tf.Tensor[] = needInput ? [x, ...block.variables] : [...block.variables];
      const rctx = replayContext(ctx, seeds[i]!);
      const r = gradients(() => block.forward(x, rctx), xs, dy!);
      r.value.dispose();
      dy!.dispose();
      dy = null;
      let j = 0;
      if (needInput) dy = (r.grads[j++] ?? tf.zerosLike(x)) as tf.Tensor3D;
      for (const v of block.variables) accumulate(grads, v, r.grads[j++] ?? null);
      x.dispose();
      inputs[i] = null;
    }
    if (first === -1) {
      const rctx = replayContext(ctx, stemSeeds);
      const r = gradients(() => g.stem(rctx), stemVars, dy!);
      r.value.dispose();
      stemVars.forEach((v, j) => accumulate(grads, v, r.grads[j] ?? null));
    }
    for (const v of vars) if (!grads[v.name]) grads[v.name] = tf.zerosLike(v);
    return { loss, grads };
  } catch (e) {
    for (const t of Object.values(grads)) t.dispose();
    throw e;
  } finally {
    h?.dispose();
    dy?.dispose();
    for (const x of inputs) x?.dispose();
  }
}

export function lossAndGrads(g: BlockwiseGraph, opts: { recompute: boolean; ctx?: ForwardContext }): LossAndGrads {
  return opts.recompute ? recomputeLossAndGrads(g, opts.ctx) : plainLossAndGrads(g, opts.ctx);
}
