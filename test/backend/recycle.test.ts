/**
 * Reuse of the native kernels' output buffers (src/backend/native/recycle.ts): a disposed output's
 * buffer serves the next output of its length, and never a buffer that anything but the native
 * kernels could still hold (dataSync'd arrays, views a stock kernel made of it). A LoRA step gives
 * bit-identical losses and gradients with and without reuse. Skipped only when the addon is not built.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { ROOT, useBackend, expectNoLeak } from '../helpers.js';
import { installNativeKernels, nativeKernelsStatus, uninstallNativeKernels } from '../../src/backend/native.js';
import { nativeValues, recycleCapBytes, recycleStats } from '../../src/backend/native/recycle.js';
import type { CpuBackend } from '../../src/backend/native/cpu.js';
import { expectFailure, runCli } from '../cli/run.js';
import { buildVisionModel } from '../../src/models/vision/index.js';
import { applyLora } from '../../src/models/lora/index.js';
import { createHead } from '../../src/models/heads.js';
import { getLoss } from '../../training/losses/index.js';
import { lossAndGrads } from '../../training/recompute.js';
import { visionGraph } from '../../training/vision_graph.js';

const status = nativeKernelsStatus();
const skip = status.available ? false : `native kernels unavailable: ${status.why}`;

const N = 4096; // above alloc's 1,024-float floor for reuse
const buf = (t: tf.Tensor): Float32Array => nativeValues(tf.backend() as unknown as CpuBackend, t.dataId) as Float32Array;

/** Re-installs the native kernels with LOGOLAB_RECYCLE_MB = `mb` (undefined: the default) for fn. */
async function withCap<T>(mb: string | undefined, fn: () => Promise<T> | T): Promise<T> {
  const prev = process.env.LOGOLAB_RECYCLE_MB;
  uninstallNativeKernels();
  if (mb === undefined) delete process.env.LOGOLAB_RECYCLE_MB;
  else process.env.LOGOLAB_RECYCLE_MB = mb;
  installNativeKernels();
  try {
    return await fn();
  } finally {
    uninstallNativeKernels();
    if (prev === undefined) delete process.env.LOGOLAB_RECYCLE_MB;
    else process.env.LOGOLAB_RECYCLE_MB = prev;
    installNativeKernels();
  }
}

describe('native output buffer reuse', { skip }, () => {
  let x: tf.Tensor, y: tf.Tensor;
  before(async () => {
    await useBackend('cpu');
    x = tf.randomUniform([N], -1, 1, 'float32', 1);
    y = tf.randomUniform([N], -1, 1, 'float32', 2);
  });
  after(() => tf.dispose([x, y]));

  test('a disposed output buffer serves the next output of its length', () => {
    const a = tf.add(x, y); // native Add, fresh buffer
    const first = buf(a);
    a.dispose();
    const hits = recycleStats().hits;
    const b = tf.mul(x, y);
    try {
      assert.equal(buf(b), first, 'the buffer was not reused');
      assert.equal(recycleStats().hits, hits + 1);
      // and its stale contents are overwritten: x·y, not x + y
      const xv = x.dataSync(), yv = y.dataSync(), bv = b.dataSync();
      for (let i = 0; i < N; i++) assert.equal(bv[i], Math.fround(xv[i]! * yv[i]!));
    } finally {
      b.dispose();
    }
  });

  test('an array returned by dataSync is never reused, after its tensor is disposed', () => {
    const a = tf.add(x, y);
    const v = a.dataSync();
    const copy = v.slice();
    a.dispose();
    const outs = Array.from({ length: 4 }, (_, k) => tf.mul(x, k + 2));
    try {
      for (const o of outs) assert.notEqual(buf(o), v);
      assert.deepEqual(v, copy);
    } finally {
      tf.dispose(outs);
    }
  });

  test('views a stock kernel made of a native output survive its disposal', () => {
    // tf.unstack runs the stock Unpack, whose slices are subarray views of its input
    const a = tf.tidy(() => tf.add(x, y).reshape([4, N / 4]));
    const whole = buf(a);
    const parts = tf.unstack(a);
    const expect = parts.map((p) => Array.from(buf(p)));
    const aliased = parts.some((p) => buf(p).buffer === whole.buffer);
    assert.ok(aliased, 'the scenario needs a view: stock Unpack no longer aliases its input');
    a.dispose();
    const outs = Array.from({ length: 4 }, (_, k) => tf.mul(x, k + 2));
    try {
      for (const o of outs) assert.notEqual(buf(o), whole);
      parts.forEach((p, i) => assert.deepEqual(Array.from(p.dataSync()), expect[i]));
    } finally {
      tf.dispose([...outs, ...parts]);
    }
  });

  test('a tensor a caller built from its own array never gives that array away', () => {
    const own = new Float32Array(N).fill(3);
    const t = tf.tensor1d(own);
    tf.add(t, 0).dispose(); // a native kernel reads it
    t.dispose();
    const o = tf.mul(x, 2);
    try {
      assert.notEqual(buf(o), own);
      assert.ok(own.every((v) => v === 3));
    } finally {
      o.dispose();
    }
  });

  test('pooled bytes stay under LOGOLAB_RECYCLE_MB; 0 turns reuse off; a malformed value is refused', async () => {
    await withCap('1', () => {
      const big = tf.zeros([100_000]); // 400 kB outputs
      for (let i = 0; i < 3; i++) tf.dispose(Array.from({ length: 6 }, () => tf.add(big, i)));
      const s = recycleStats();
      big.dispose();
      assert.ok(s.on);
      assert.equal(s.capBytes, 2 ** 20);
      assert.ok(s.pooledBytes <= 2 ** 20 && s.pooledBytes > 0, `pooled ${s.pooledBytes}`);
    });
    await withCap('0', () => {
      tf.add(x, y).dispose();
      assert.equal(recycleStats().on, false);
    });
    assert.throws(() => recycleCapBytes('lots'), /LOGOLAB_RECYCLE_MB: expected a whole number of MiB \(0 = off\), got 'lots'/);
  });

  test('the CLI: a malformed LOGOLAB_RECYCLE_MB, LOGOLAB_NATIVE or thread count is one error line naming it, never ignored; doctor reports the cap', async () => {
    const names = ['LOGOLAB_RECYCLE_MB', 'LOGOLAB_NATIVE', 'LOGOLAB_THREADS', 'OPENBLAS_NUM_THREADS'] as const;
    const prev = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    const withEnv = async (n: (typeof names)[number], v: string, re: RegExp) => {
      process.env[n] = v;
      try {
        expectFailure(await runCli(['doctor']), 1, re);
      } finally {
        delete process.env[n];
      }
    };
    try {
      for (const n of names) delete process.env[n];
      await withEnv('LOGOLAB_RECYCLE_MB', '-5', /LOGOLAB_RECYCLE_MB: expected a whole number of MiB \(0 = off\), got '-5'/);
      await withEnv('LOGOLAB_NATIVE', 'off', /LOGOLAB_NATIVE: expected 0 \(native kernels off\) or 1 \(on: an error where they are unavailable\), got 'off'/);
      // the thread count is read when the addon loads: a fresh process
      for (const [n, v] of [['LOGOLAB_THREADS', 'abc'], ['OPENBLAS_NUM_THREADS', '0']] as const) {
        const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'doctor'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, [n]: v } });
        assert.equal(r.status, 1, `${n}=${v}`);
        assert.equal(r.stderr.trim(), `logolab: error: ${n}: expected a whole number of threads ≥ 1, got '${v}'`);
      }
      process.env.LOGOLAB_RECYCLE_MB = '64';
      const r = await runCli(['doctor']);
      assert.match(r.stdout + r.stderr, /output buffers reused \(≤ 64 MiB pooled\)/);
    } finally {
      for (const n of names) {
        if (prev[n] === undefined) delete process.env[n];
        else process.env[n] = prev[n];
      }
    }
  });

  test('a LoRA step: losses and gradients bit-identical with and without reuse, no tensor leaked', async () => {
    const model = buildVisionModel('clip', { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, projection_dim: 16, patch_size: 8, image_size: 32, hidden_act: 'quick_gelu' } as never, 'random', 3);
    applyLora(model, { r: 4, lora_alpha: 8, lora_dropout: 0.1, freeze_layers: 0, target_modules: ['q_proj', 'v_proj', 'fc1', 'fc2'] as never });
    const head = createHead('clip', model);
    const pixels = tf.randomNormal([16, 3, 32, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
    const labels = Int32Array.from({ length: 16 }, (_, i) => i >> 2);
    const loss = getLoss('milnce', { temperature: 0.1 } as never);
    const run = () => {
      const out: Float32Array[] = [];
      let seed = 1;
      for (let step = 0; step < 3; step++) {
        const r = lossAndGrads(visionGraph(model, head, pixels, labels, loss), { recompute: step === 2, ctx: { training: true, nextSeed: () => seed++ } });
        out.push(Float32Array.from(r.loss.dataSync()));
        for (const k of Object.keys(r.grads).sort()) out.push(Float32Array.from(r.grads[k]!.dataSync()));
        r.loss.dispose();
        tf.dispose(Object.values(r.grads));
      }
      return out;
    };
    try {
      const off = await withCap('0', () => expectNoLeak(run));
      const on = await withCap(undefined, () => expectNoLeak(() => { run(); const h = recycleStats().hits; const r = run(); assert.ok(recycleStats().hits > h, 'nothing reused'); return r; }));
      assert.equal(on.length, off.length);
      on.forEach((v, i) => assert.deepEqual(v, off[i], `array ${i} differs`));
    } finally {
      pixels.dispose();
      model.dispose();
    }
  });
});
