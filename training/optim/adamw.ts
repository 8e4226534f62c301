/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW's update exactly):
 *   p ← p · (1 − lr·wd)
 *   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
 *   p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 * Only the variables it is given are touched (the trainable ones); frozen weights are plain
 * tensors and never reach it. The learning rate is passed per step (the schedule owns it).
 * State (t, m, v) is exported as plain arrays for checkpoints and restored bit-exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../src/errors.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

export interface AdamWState {
  t: number;
  /** per variable name: first and second moments, flat float32 */
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** number of updates applied */
  t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly params: Map<string, tf.Variable>,
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** One update with gradients keyed like `params` (every param must have one). */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd } = this;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2 = 1 - Math.pow(b2, this.t);
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) throw new LogolabError(`AdamW: no gradient for trainable variable '${name}'`);
      tf.tidy(() => {
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(mNew);
        v.assign(vNew);
        const decayed = wd !== 0 ? tf.mul(p, 1 - lr * wd) : p;
        const denom = tf.add(tf.sqrt(tf.div(vNew, bc2)), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(tf.div(mNew, bc1), denom), lr)));
      });
    }
  }

  getState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const name of this.params.keys()) {
      m[name] = this.m.get(name)!.dataSync() as Float32Array;
      v[name] = this.v.get(name)!.dataSync() as Float32Array;
    }
    return { t: this.t, m, v };
  }

  setState(s: AdamWState): void {
    for (const name of this.params.keys()) {
      for (const [which, store] of [['m', this.m], ['v', this.v]] as const) {
        const data = s[which][name];
        const target = store.get(name)!;
        if (!data) throw new LogolabError(`optimizer state: missing ${which} for '${name}'`);
        if (data.length !== target.size) throw new LogolabError(`optimizer state: ${which} of '${name}' has ${data.length} values, expected ${target.size}`);
        tf.tidy(() => target.assign(tf.tensor(data, target.shape)));
      }
    }
    this.t = s.t;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
