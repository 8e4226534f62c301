import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PARITY_BACKENDS, useBackend, maxAbsDiff, expectNoLeak } from '../helpers.js';
import { cosineWithWarmup } from '../../training/optim/schedule.js';
import { AdamW } from '../../training/optim/adamw.js';
import { GradAccumulator, clipByGlobalNorm, globalNorm, disposeGrads } from '../../training/optim/accumulate.js';
import { makeRng } from '../../src/util/rng.js';

describe('warmup + cosine schedule (optimizer steps)', () => {
  it('values at chosen steps', () => {
    const lr = cosineWithWarmup({ baseLr: 1e-3, warmupSteps: 10, totalSteps: 110 });
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);
    close(lr(0), 0);
    close(lr(5), 5e-4);
    close(lr(10), 1e-3); // peak right after warmup
    close(lr(60), 5e-4); // half-way through the cosine
    close(lr(35), 1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.25)));
    close(lr(110), 0); // schedule completes at total
    close(lr(500), 0); // and stays at the floor
    const f = cosineWithWarmup({ baseLr: 1, warmupSteps: 0, totalSteps: 4, minLrRatio: 0.1 });
    close(f(0), 1);
    close(f(2), 0.1 + 0.9 * 0.5);
    close(f(4), 0.1);
  });
  it('monotone warmup up and cosine down', () => {
    const lr = cosineWithWarmup({ baseLr: 1, warmupSteps: 7, totalSteps: 50 });
    for (let s = 1; s <= 7; s++) assert.ok(lr(s) > lr(s - 1));
    for (let s = 8; s <= 50; s++) assert.ok(lr(s) < lr(s - 1));
  });
});

for (const backend of PARITY_BACKENDS) {
  describe(`AdamW and accumulation (${backend})`, () => {
    before(() => useBackend(backend));

    it('one AdamW step equals a hand computation (torch.optim.AdamW update)', async () => {
      await expectNoLeak(() => {
        const p0 = [0.5, -1.25, 2.0, 0.0];
        const g0 = [0.1, -0.2, 0.3, -0.4];
        const g1 = [-0.05, 0.4, 0.1, 0.2];
        const p = tf.tidy(() => tf.variable(tf.tensor1d(p0)));
        const opt = new AdamW(new Map([['w', p]]), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
        const lr0 = 0.01;
        const lr1 = 0.02;
        for (const [g, lr] of [[g0, lr0], [g1, lr1]] as const) {
          const gt = tf.tensor1d(g as number[]);
          opt.step(new Map([['w', gt]]), lr);
          gt.dispose();
        }
        // hand computation in float64
        const exp = p0.map((x, i) => {
          let pp = x;
          let m = 0;
          let v = 0;
          [[g0[i]!, lr0], [g1[i]!, lr1]].forEach(([g, lr], t) => {
            pp = pp * (1 - lr! * 0.1);
            m = 0.9 * m + 0.1 * g!;
            v = 0.999 * v + 0.001 * g! * g!;
            const mh = m / (1 - 0.9 ** (t + 1));
            const vh = v / (1 - 0.999 ** (t + 1));
            pp = pp - (lr! * mh) / (Math.sqrt(vh) + 1e-8);
          });
          return pp;
        });
        const got = p.dataSync();
        assert.ok(maxAbsDiff(got, exp) < 1e-6, `max diff ${maxAbsDiff(got, exp)}`);
        // state round trip
        const st = opt.getState();
        assert.equal(st.t, 2);
        const q = tf.tidy(() => tf.variable(tf.tensor1d(p0)));
        const opt2 = new AdamW(new Map([['w', q]]), { weightDecay: 0.1 });
        opt2.setState(st);
        assert.deepEqual(opt2.getState(), st);
        opt.dispose();
        opt2.dispose();
        p.dispose();
        q.dispose();
      });
    });

    it('K accumulated micro-batches equal one K×-batch step (per-sample loss)', async () => {
      const rng = makeRng(7);
      const K = 3;
      const B = 4;
      const D = 5;
      const X = Array.from({ length: K * B * D }, () => rng.normal());
      const Y = Array.from({ length: K * B }, () => rng.normal());
      const w0 = Array.from({ length: D }, () => rng.normal());
      await expectNoLeak(() => {
        // loss = mean over samples of (x·w + b − y)²
        const lossOf = (w: tf.Variable, b: tf.Variable, from: number, n: number) => () =>
          tf.tidy(() => {
            const x = tf.tensor2d(X.slice(from * D, (from + n) * D), [n, D]);
            const y = tf.tensor1d(Y.slice(from, from + n));
            const pred = tf.add(tf.squeeze(tf.matMul(x, tf.reshape(w, [D, 1])), [1]), b);
            return tf.mean(tf.square(tf.sub(pred, y))) as tf.Scalar;
          });
        const run = (accumulate: boolean) => {
          const w = tf.tidy(() => tf.variable(tf.tensor1d(w0)));
          const b = tf.tidy(() => tf.variable(tf.scalar(0.3)));
          const params = new Map<string, tf.Variable>([['w', w], ['b', b]]);
          const opt = new AdamW(params, { weightDecay: 0.01 });
          const acc = new GradAccumulator();
          if (accumulate) {
            for (let k = 0; k < K; k++) {
              const { value, grads } = tf.variableGrads(lossOf(w, b, k * B, B), [w, b]);
              value.dispose();
              acc.add({ w: grads[w.name]!, b: grads[b.name]! });
            }
          } else {
            const { value, grads } = tf.variableGrads(lossOf(w, b, 0, K * B), [w, b]);
            value.dispose();
            acc.add({ w: grads[w.name]!, b: grads[b.name]! });
          }
          const g = acc.take();
          const gv = { w: Array.from(g.get('w')!.dataSync()), b: g.get('b')!.dataSync()[0]! };
          opt.step(g, 1e-2);
          disposeGrads(g);
          const out = { g: gv, w: Array.from(w.dataSync()), b: b.dataSync()[0]! };
          opt.dispose();
          w.dispose();
          b.dispose();
          return out;
        };
        const a = run(true);
        const f = run(false);
        assert.ok(maxAbsDiff(a.g.w, f.g.w) < 1e-6, `grad w diff ${maxAbsDiff(a.g.w, f.g.w)}`);
        assert.ok(Math.abs(a.g.b - f.g.b) < 1e-6);
        assert.ok(maxAbsDiff(a.w, f.w) < 1e-6, `param diff ${maxAbsDiff(a.w, f.w)}`);
        assert.ok(Math.abs(a.b - f.b) < 1e-6);
      });
    });

    it('clip by global norm (torch semantics) and non-finite detection', async () => {
      await expectNoLeak(() => {
        const g = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([4])]]);
        assert.equal(globalNorm(g), 5);
        const n = clipByGlobalNorm(g, 1);
        assert.equal(n, 5);
        assert.ok(Math.abs(globalNorm(g) - 5 / (5 + 1e-6)) < 1e-6);
        assert.equal(clipByGlobalNorm(g, 10), globalNorm(g)); // no change below the limit
        disposeGrads(g);
        const bad = new Map<string, tf.Tensor>([['a', tf.tensor1d([1, NaN])]]);
        assert.ok(!Number.isFinite(globalNorm(bad)));
        const inf = new Map<string, tf.Tensor>([['a', tf.tensor1d([1, Infinity])]]);
        assert.ok(!Number.isFinite(globalNorm(inf)));
        disposeGrads(bad);
        disposeGrads(inf);
      });
    });
  });
}
