/** DETR model beyond the fixture: the query path, the real detr-resnet-50 key map, loader errors, leaks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, useBackend, maxAbsDiff, expectNoLeak, tmpDir } from '../helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { LogolabError } from '../../src/errors.js';
import { detrConfigFromJson } from '../../src/detect/config.js';
import { detrKeySpec } from '../../src/detect/spec.js';
import { detrFromSource, loadDetrModel } from '../../src/detect/load.js';
import { syntheticSource, type WeightSource } from '../../src/detect/weights.js';
import { DetrDetector } from '../../src/detect/detector.js';
import { DetrImageProcessor, detrProcessorConfig } from '../../src/preprocess/detr.js';
import { decodeImage } from '../../src/preprocess/image.js';

const TINY = join(FIXTURES, 'detr_tiny/model');
const LAYOUT = JSON.parse(readFileSync(join(FIXTURES, 'layouts/detr-resnet-50.json'), 'utf8')) as { config: Record<string, unknown>; state_dict_shapes: Record<string, number[]> };

function fixtureInputs() {
  const io = readSafetensors(join(FIXTURES, 'detr_tiny/io.safetensors'));
  const pv = io.get('pixel_values')!;
  return { pv: pv.data as Float32Array, shape: pv.shape as [number, number, number, number], mask: io.get('pixel_mask')!.data };
}

test('query path: queries are told apart, and permuting query embeddings permutes every output', async () => {
  await useBackend('wasm');
  // The fixture model's backbone output does not vary over its 2×3 positions, so every query reads the
  // same values (the fixture's known weakness). Use the tiny config with seeded synthetic weights
  // (He-init convs, identity BN) instead, whose features do vary.
  const cfg = detrConfigFromJson(JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')), 'tiny config');
  const model = detrFromSource(cfg, syntheticSource(cfg, { seed: 7 }));
  const { pv, shape, mask } = fixtureInputs();
  const Q = model.config.numQueries;
  // ×10: with 0.02-std projections, unit-scale query embeddings barely move the attention
  const qpe = tf.mul(model.weights.query_position_embeddings, 10) as tf.Tensor2D;
  const perm = [3, 7, 0, 9, 1, 5, 2, 8, 6, 4];
  const qpeP = tf.gather(qpe, perm) as tf.Tensor2D;
  const x = tf.tensor4d(pv, shape);
  try {
    const a = model.forward(x, mask, { queryPositionEmbeddings: qpe });
    const b = model.forward(x, mask, { queryPositionEmbeddings: qpeP });
    const aP = [a.logits, a.predBoxes, a.lastHiddenState].map((t) => tf.gather(t, perm, 1));
    const bs = [b.logits, b.predBoxes, b.lastHiddenState];
    const names = ['logits', 'pred_boxes', 'last_hidden_state'];
    for (let i = 0; i < 3; i++) {
      const e = maxAbsDiff(await aP[i]!.data(), await bs[i]!.data());
      assert.ok(e <= 1e-5, `${names[i]}: permuted outputs differ by ${e}`);
    }
    // outputs really depend on the query: spread of last_hidden_state across the queries of image 0
    const hs = (await a.lastHiddenState.array())[0]!;
    let spread = 0;
    for (let q = 1; q < Q; q++) spread = Math.max(spread, maxAbsDiff(hs[q]!, hs[0]!));
    console.log(`# last_hidden_state spread across queries: ${spread.toExponential(2)}`);
    assert.ok(spread > 5e-3, `queries give the same output (spread ${spread})`);
    [...aP, a.logits, a.predBoxes, a.lastHiddenState, b.logits, b.predBoxes, b.lastHiddenState].forEach((t) => t.dispose());
  } finally {
    [x, qpe, qpeP].forEach((t) => t.dispose());
    model.dispose();
  }
});

test('real detr-resnet-50 layout: every key mapped with its shape, none left over', () => {
  const cfg = detrConfigFromJson(LAYOUT.config, 'layouts/detr-resnet-50.json');
  assert.equal(cfg.backbone.kind, 'timm');
  const spec = detrKeySpec(cfg);
  const layout = LAYOUT.state_dict_shapes;
  for (const [k, shape] of Object.entries(layout)) {
    assert.ok(spec.has(k), `layout key not mapped: ${k}`);
    assert.deepEqual(spec.get(k), shape, `shape of ${k}`);
  }
  for (const k of spec.keys()) assert.ok(k in layout, `mapped key not in the layout: ${k}`);
  assert.equal(spec.size, Object.keys(layout).length);
  const params = [...spec.values()].reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  console.log(`# detr-resnet-50 layout: ${spec.size} keys, ${params} values`);
});

function layoutSource(extra: Record<string, number[]> = {}, drop: string[] = [], reshape: Record<string, number[]> = {}): WeightSource {
  const shapes: Record<string, number[]> = { ...LAYOUT.state_dict_shapes, ...extra };
  for (const k of drop) delete shapes[k];
  Object.assign(shapes, reshape);
  return {
    source: 'layouts/detr-resnet-50.json',
    keys: () => Object.keys(shapes),
    shape: (k) => shapes[k]!,
    read: (k) => {
      const n = shapes[k]!.reduce((a, b) => a * b, 1);
      // values do not matter here (shapes do): BN running_var 1 so the fold is finite, the rest 1e-3
      return new Float32Array(n).fill(k.endsWith('running_var') ? 1 : 1e-3);
    },
  };
}

test('real-shape detr-resnet-50 loads through the loader (BN folded) and runs a 32×64 forward on wasm', async () => {
  await useBackend('wasm');
  const cfg = detrConfigFromJson(LAYOUT.config, 'layouts/detr-resnet-50.json');
  const before = tf.memory().numTensors;
  const model = detrFromSource(cfg, layoutSource({ 'model.backbone.conv_encoder.model.bn1.num_batches_tracked': [] }));
  try {
    assert.deepEqual(model.leftovers, ['model.backbone.conv_encoder.model.bn1.num_batches_tracked']);
    const x = tf.zeros([1, 3, 32, 64]) as tf.Tensor4D;
    const out = model.forward(x, null);
    assert.deepEqual(out.logits.shape, [1, 100, 2]);
    assert.deepEqual(out.predBoxes.shape, [1, 100, 4]);
    assert.deepEqual(out.lastHiddenState.shape, [1, 100, 256]);
    assert.ok((await out.predBoxes.data()).every(Number.isFinite));
    [x, out.logits, out.predBoxes, out.lastHiddenState].forEach((t) => t.dispose());
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'dispose() frees every weight');
});

test('loader errors name the key: missing tensor, wrong shape', () => {
  const cfg = detrConfigFromJson(LAYOUT.config, 'layouts/detr-resnet-50.json');
  const k = 'model.backbone.conv_encoder.model.layer3.5.conv2.weight';
  assert.throws(() => detrFromSource(cfg, layoutSource({}, [k])), (e: Error) => e instanceof LogolabError && e.message.includes(`missing tensor '${k}'`) && !e.message.includes('\n'));
  assert.throws(() => detrFromSource(cfg, layoutSource({}, [], { 'class_labels_classifier.weight': [92, 256] })), /tensor 'class_labels_classifier.weight' has shape \[92,256\], expected \[2,256\]/);
});

test('wrong checkpoint type and unusable folders → one-line LogolabError', () => {
  const one = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: Error) => {
      assert.ok(e instanceof LogolabError, `not a LogolabError: ${e}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  one(() => loadDetrModel(join(FIXTURES, 'clip_tiny/model')), /config\.json: model_type 'clip' is not a DETR checkpoint/);
  one(() => loadDetrModel(join(FIXTURES, 'no-such-dir')), /no-such-dir: not a DETR model folder/);
  const d = tmpDir();
  one(() => loadDetrModel(d), /no config\.json/);
  copyFileSync(join(TINY, 'config.json'), join(d, 'config.json'));
  writeFileSync(join(d, 'pytorch_model.bin'), 'x');
  one(() => loadDetrModel(d), /pytorch_model\.bin: not a torch checkpoint \(not a ZIP archive\)/);
  const cfg = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8'));
  one(() => detrConfigFromJson({ ...cfg, backbone_config: { ...cfg.backbone_config, layer_type: 'basic' } }, 'c.json'), /c\.json: backbone_config\.layer_type 'basic' is not supported/);
  one(() => detrConfigFromJson({ ...cfg, dilation: true }, 'c.json'), /dilation/);
  // a safetensors file of another model under a DETR config
  const e = tmpDir();
  mkdirSync(e, { recursive: true });
  copyFileSync(join(TINY, 'config.json'), join(e, 'config.json'));
  writeSafetensors(join(e, 'model.safetensors'), { 'vision_model.embeddings.patch_embedding.weight': { shape: [2, 2], data: new Float32Array(4) } });
  one(() => loadDetrModel(e), /missing tensor 'model\.backbone\.conv_encoder\.model\.embedder\.embedder\.convolution\.weight'/);
  // a checkpoint deeper than its config is refused, not run shallower (the 2+2-layer fixture)
  const f = tmpDir();
  copyFileSync(join(TINY, 'model.safetensors'), join(f, 'model.safetensors'));
  writeFileSync(join(f, 'config.json'), JSON.stringify({ ...cfg, encoder_layers: 1 }));
  one(() => loadDetrModel(f), /model\.safetensors: holds encoder layer 1 \(\d+ tensors beyond the config\), but config encoder_layers is 1/);
  writeFileSync(join(f, 'config.json'), JSON.stringify({ ...cfg, decoder_layers: 1 }));
  one(() => loadDetrModel(f), /holds decoder layer 1 \(\d+ tensors beyond the config\), but config decoder_layers is 1/);
});

test('detector: repeated detect calls leak no tensors; results are stable and well-formed', async () => {
  await useBackend('wasm');
  const model = loadDetrModel(TINY);
  const proc = new DetrImageProcessor(detrProcessorConfig({ size: { shortest_edge: 64, longest_edge: 96 } }, 'test'));
  const det = new DetrDetector('detr:tiny', model, proc, { threshold: 0, minBoxSize: 0, nmsIouThreshold: 1, batchSize: 2 });
  try {
    const imgs = await Promise.all(['wide_300x200', 'tall_97x151', 'small_40x23'].map((n) => decodeImage(join(FIXTURES, 'images', `${n}.png`))));
    const first = await det.detect(imgs);
    await expectNoLeak(async () => {
      for (let i = 0; i < 3; i++) {
        const again = await det.detect(imgs);
        assert.deepEqual(again, first);
      }
    });
    assert.equal(first.length, 3);
    for (const r of first) {
      assert.equal(r.scores.length, 10); // threshold 0, no filters: every query
      assert.ok(r.labelNames.every((n) => n === 'logo' || n === 'other'));
    }
    // filters reduce: NMS on identical boxes keeps one
    const strict = new DetrDetector('detr:tiny', model, proc, { threshold: 0, minBoxSize: 0, nmsIouThreshold: 0.5 });
    const s = await strict.detect(imgs.slice(0, 1));
    assert.equal(s[0]!.scores.length, 1);
    // integer boxes as the HF pipeline's _get_bounding_box (torch .int(): truncation)
    const ints = await new DetrDetector('detr:tiny', model, proc, { threshold: 0, minBoxSize: 0, nmsIouThreshold: 1, integerBoxes: true }).detect(imgs.slice(0, 1));
    assert.deepEqual(ints[0]!.boxes, first[0]!.boxes.map((b) => b.map(Math.trunc)));
  } finally {
    det.dispose();
  }
});

test('benchDetect runs the whole detector path and reports images/s (smoke, not a timing test)', async () => {
  await useBackend('wasm');
  const { benchDetect } = await import('../../src/detect/bench.js');
  const before = tf.memory().numTensors;
  const r = await benchDetect({ detector: `detr:${TINY}`, size: 64, images: 2, warmup: 1, batchSize: 2 });
  assert.deepEqual(r.input_hw, [64, 85]);
  assert.equal(r.images, 2);
  assert.ok(r.images_per_s > 0 && Number.isFinite(r.images_per_s));
  assert.equal(tf.memory().numTensors, before);
});

test('timm resnet50 naming builds the same network as an HF ResNet-50 backbone (the fixture-verified path)', async () => {
  const { backboneSpec } = await import('../../src/detect/spec.js');
  const timm = detrConfigFromJson(LAYOUT.config, 'layout');
  const hf = detrConfigFromJson({ ...LAYOUT.config, backbone_config: { model_type: 'resnet', embedding_size: 64, hidden_sizes: [256, 512, 1024, 2048], depths: [3, 4, 6, 3], layer_type: 'bottleneck', downsample_in_first_stage: false, downsample_in_bottleneck: false, out_features: ['stage4'] } }, 'hf-resnet50');
  const strip = (c: { conv: string; bn: string } & Record<string, unknown>) => ({ ...c, conv: undefined, bn: undefined });
  const a = backboneSpec(timm);
  const b = backboneSpec(hf);
  assert.deepEqual(strip(a.stem as never), strip(b.stem as never));
  assert.equal(a.stages.length, b.stages.length);
  a.stages.forEach((st, s) => {
    assert.equal(st.length, b.stages[s]!.length);
    st.forEach((blk, i) => {
      const o = b.stages[s]![i]!;
      for (const k of ['c1', 'c2', 'c3', 'down'] as const) {
        assert.deepEqual(blk[k] ? strip(blk[k] as never) : null, o[k] ? strip(o[k] as never) : null, `stage ${s} block ${i} ${k}`);
      }
    });
  });
  // strides sit on the 3×3 conv of each stage's first block (ResNet v1.5, torchvision/timm resnet50)
  assert.deepEqual(a.stages.map((st) => [st[0]!.c1.stride, st[0]!.c2.stride, st[0]!.down?.stride]), [[1, 1, 1], [1, 2, 2], [1, 2, 2], [1, 2, 2]]);
});

test('broken DETR weights are errors naming their source, never "no logos": a negative BatchNorm variance, a non-finite output', async () => {
  await useBackend('wasm');
  const tensors = readSafetensors(join(TINY, 'model.safetensors'));
  const copy = (name: string, edit: (t: Map<string, { shape: number[]; data: Float32Array }>) => void): string => {
    const d = join(tmpDir(), name);
    mkdirSync(d, { recursive: true });
    copyFileSync(join(TINY, 'config.json'), join(d, 'config.json'));
    const m = new Map([...tensors].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data as Float32Array) }]));
    edit(m);
    writeSafetensors(join(d, 'model.safetensors'), m);
    return d;
  };
  const bn = [...tensors.keys()].find((k) => k.endsWith('.running_var'))!;
  const negVar = copy('negvar', (m) => m.get(bn)!.data.fill(-1));
  assert.throws(() => loadDetrModel(negVar), (e: Error) => e instanceof LogolabError && e.message.includes(`tensor '${bn}' holds -1 at index 0; a BatchNorm variance must be ≥ 0`));
  // finite weights whose logits overflow to Inf (softmax → NaN): every query would be dropped silently
  const huge = copy('huge', (m) => m.get('class_labels_classifier.weight')!.data.fill(3e38));
  const proc = new DetrImageProcessor(detrProcessorConfig({ size: { shortest_edge: 64, longest_edge: 96 } }, 'test'));
  const det = new DetrDetector('detr:huge', loadDetrModel(huge), proc, { threshold: 0, minBoxSize: 0 });
  try {
    const imgs = await Promise.all(['wide_300x200', 'tall_97x151'].map((n) => decodeImage(join(FIXTURES, 'images', `${n}.png`))));
    await assert.rejects(() => det.detect(imgs), (e: Error) => e instanceof LogolabError && /^detr:huge: the detector's logits hold (-?Inf|NaN) for image 1 of 2; its weights are broken$/.test(e.message));
  } finally {
    det.dispose();
  }
});
