// The VisionModel contract beyond parity: presets, determinism, per-layer use with LoRA, fingerprint,
// config validation, the bicubic interpolation matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeak, maxAbsDiff, useBackend } from '../helpers.js';
import { buildVisionModel, FAMILIES } from '../../src/models/vision/index.js';
import { presetConfig } from '../../src/models/vision/presets.js';
import { parameterCount } from '../../src/models/vision/weights.js';
import { validateVisionConfig } from '../../src/models/vision/config.js';
import { bicubicMatrix } from '../../src/models/vision/interpolate.js';
import { LogolabError } from '../../src/errors.js';

test('presets: tiny models of the three families run with the right output shapes, deterministically', async () => {
  await useBackend('wasm');
  for (const family of ['clip', 'dinov2', 'siglip'] as const) {
    const a = buildVisionModel(family, 'tiny', 'random', 1);
    const b = buildVisionModel(family, 'tiny', 'random', 1);
    const c = buildVisionModel(family, 'tiny', 'random', 2);
    try {
      const size = a.processor.outputSize;
      assert.equal(size.height, family === 'dinov2' ? 224 : 32, family);
      const x = tf.randomUniform([2, 3, 32, 32], -1, 1, 'float32', 5) as tf.Tensor4D;
      const oa = a.forward(x);
      const ob = b.forward(x);
      const tokens = family === 'siglip' ? 16 : 17;
      assert.deepEqual(oa.lastHiddenState.shape, [2, tokens, 64]);
      assert.deepEqual(oa.poolerOutput.shape, [2, 64]);
      assert.deepEqual(oa.imageEmbeds.shape, [2, family === 'clip' ? 24 : 64]);
      assert.equal(maxAbsDiff(oa.imageEmbeds.dataSync(), ob.imageEmbeds.dataSync()), 0);
      assert.equal(a.fingerprint(), b.fingerprint());
      assert.notEqual(a.fingerprint(), c.fingerprint());
      tf.dispose([x, ...Object.values(oa), ...Object.values(ob)] as tf.Tensor[]);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  }
});

test('vit-l14 / vit-b16 presets have the real shapes; weights are kept pre-transposed [in, out]', async () => {
  const count = (name: 'vit-b16' | 'vit-l14') => {
    const c = presetConfig('clip', name);
    return parameterCount(FAMILIES.clip.keyMap(c, FAMILIES.clip.canonicalLayout(c)));
  };
  assert.equal(count('vit-b16'), 85_799_424 + 768 * 512); // CLIPVisionModel ViT-B/16 + visual_projection
  assert.equal(count('vit-l14'), 303_966_208);
  await useBackend('cpu');
  const m = buildVisionModel('clip', 'tiny', 'random', 0);
  try {
    assert.equal(m.layers.length, 4);
    assert.deepEqual(m.layers[0]!.fc1.weight.shape, [64, 128]); // torch [128, 64] → [in, out]
    assert.equal(m.namedTensors().reduce((s, [, t]) => s + t.size, 0), 149_120);
  } finally {
    m.dispose();
  }
});

test('a LoRA adapter on layers[i].q_proj changes outputs and fingerprint; gradients reach the LoRA vars through layer.forward', async () => {
  await useBackend('wasm');
  const m = buildVisionModel('clip', 'tiny', 'random', 3);
  const x = tf.randomUniform([2, 3, 32, 32], -1, 1, 'float32', 9) as tf.Tensor4D;
  try {
    const base = m.forward(x).imageEmbeds;
    const fp0 = m.fingerprint();
    const layer = m.layers[3]!;
    assert.equal(layer.hfModules['encoder.layers.3.self_attn.q_proj'], 'q_proj');
    const A = tf.variable(tf.randomNormal([64, 4], 0, 0.1, 'float32', 1));
    const B = tf.variable(tf.zeros([4, 64]));
    layer.q_proj.lora = { A, B, scaling: 2, dropout: 0 };
    const fpZero = m.fingerprint(); // an attached adapter is part of the fingerprint, even with B = 0
    assert.notEqual(fpZero, fp0);
    B.assign(tf.randomNormal([4, 64], 0, 0.1, 'float32', 2));
    const fp1 = m.fingerprint();
    assert.notEqual(fp1, fpZero); // trained in place: values are hashed every time
    const adapted = m.forward(x).imageEmbeds;
    assert.ok(maxAbsDiff(adapted.dataSync(), base.dataSync()) > 1e-4);
    // per-block recomputation: gradients of one layer's output w.r.t. its LoRA vars
    const h = tf.tidy(() => {
      let y = m.embeddings(x);
      for (const l of m.layers.slice(0, 3)) y = l.forward(y);
      return y;
    });
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.forward(h, { training: true }))) as tf.Scalar, [A, B]);
    assert.ok(tf.norm(grads[A.name]!).dataSync()[0]! > 0);
    assert.ok(tf.norm(grads[B.name]!).dataSync()[0]! > 0);
    tf.dispose([h, base, adapted, ...Object.values(grads)]);
    layer.q_proj.lora = null;
    assert.equal(m.fingerprint(), fp0);
    A.dispose();
    B.dispose();
    await expectNoLeak(() => {
      for (let i = 0; i < 2; i++) tf.dispose(Object.values(m.forward(x, { training: false, outputHiddenStates: true })) as tf.TensorContainer);
    });
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('config validation: unknown keys, bad types, inconsistent fields are one-line errors', () => {
  assert.throws(() => validateVisionConfig({ family: 'clip', hidden_sise: 3 }, 'cfg'), (e: Error) => e instanceof LogolabError && e.message === "cfg: field 'hidden_sise': unknown key");
  // an inherited property name is no field either
  assert.throws(() => validateVisionConfig({ family: 'clip', constructor: 3 }, 'cfg'), (e: Error) => e instanceof LogolabError && e.message === "cfg: field 'constructor': unknown key");
  assert.throws(() => validateVisionConfig({ family: 'vit' }, 'cfg'), /field 'family'/);
  assert.throws(() => validateVisionConfig({ family: 'clip', hidden_size: 100, num_attention_heads: 12 }, 'cfg'), /num_attention_heads/);
  assert.throws(() => validateVisionConfig({ family: 'dinov2', projection_dim: 10 }, 'cfg'), /only CLIP has a visual projection/);
  assert.throws(() => validateVisionConfig({ family: 'clip', hidden_act: 'relu' }, 'cfg'), /unsupported activation/);
  assert.equal(validateVisionConfig({ family: 'siglip' }).hidden_act, 'gelu_pytorch_tanh');
});

test('bicubic interpolation matrices: identity at equal size, rows sum to 1, torch taps', () => {
  const id = bicubicMatrix(5, 5);
  for (let o = 0; o < 5; o++) for (let i = 0; i < 5; i++) assert.ok(Math.abs(id[o * 5 + i]! - (o === i ? 1 : 0)) < 1e-12);
  const m = bicubicMatrix(5, 4);
  for (let o = 0; o < 4; o++) {
    let s = 0;
    for (let i = 0; i < 5; i++) s += m[o * 5 + i]!;
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  // output 0 of 5→4: src = 0.5·1.25 − 0.5 = 0.125, taps −1..2 clamped (A = −0.75)
  const t = 0.125;
  const A = -0.75;
  const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  const w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
  assert.ok(Math.abs(m[0]! - (w0 + w1)) < 1e-12); // taps −1 and 0 both clamp to 0
});

test('multi-head attention: batched and per-head (wasm inference) paths equal a loop reference', async () => {
  const { multiHeadAttention, setAttentionImpl } = await import('../../src/models/vision/blocks.js');
  const [b, tq, tk, d, h] = [2, 3, 5, 8, 2];
  const q = tf.randomNormal([b, tq, d], 0, 1, 'float32', 1) as tf.Tensor3D;
  const k = tf.randomNormal([b, tk, d], 0, 1, 'float32', 2) as tf.Tensor3D;
  const v = tf.randomNormal([b, tk, d], 0, 1, 'float32', 3) as tf.Tensor3D;
  const [Q, K, V] = [q, k, v].map((t) => t.arraySync() as number[][][]) as [number[][][], number[][][], number[][][]];
  const dh = d / h;
  const ref: number[] = [];
  for (let bi = 0; bi < b; bi++)
    for (let i = 0; i < tq; i++)
      for (let hh = 0; hh < h; hh++) {
        const sc = Array.from({ length: tk }, (_, j) => {
          let s = 0;
          for (let c = 0; c < dh; c++) s += Q[bi]![i]![hh * dh + c]! * K[bi]![j]![hh * dh + c]!;
          return s / Math.sqrt(dh);
        });
        const mx = Math.max(...sc);
        const e = sc.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, x) => a + x, 0);
        for (let c = 0; c < dh; c++) ref.push(e.reduce((a, p, j) => a + (p / z) * V[bi]![j]![hh * dh + c]!, 0));
      }
  // ref is ordered [b, tq, h, dh] = [b, tq, d]
  for (const backend of ['wasm', 'cpu']) {
    await useBackend(backend);
    for (const impl of ['batched', 'sliced'] as const) {
      setAttentionImpl(impl);
      try {
        const out = multiHeadAttention(q, k, v, h);
        assert.ok(maxAbsDiff(out.dataSync(), ref) < 1e-5, `${backend} ${impl}`);
        out.dispose();
      } finally {
        setAttentionImpl('auto');
      }
    }
  }
  tf.dispose([q, k, v]);
});

test('host transforms (transpose list) equal tf.transpose: linear [out,in]→[in,out], conv [D,C,p,q]→[p,q,C,D]', async () => {
  const { hostTransform } = await import('../../src/models/vision/weights.js');
  await useBackend('cpu');
  for (const [shape, tr, perm] of [[[37, 70], 'linear', [1, 0]], [[5, 3, 2, 4], 'conv', [2, 3, 1, 0]]] as const) {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    const got = hostTransform(data, [...shape], tr);
    const want = tf.tidy(() => tf.tensor(data, [...shape]).transpose([...perm]));
    assert.deepEqual(got.shape, want.shape);
    assert.deepEqual(Array.from(got.data), Array.from(want.dataSync()));
    want.dispose();
  }
});
