/** DETR post-processing vs HF post_process_object_detection (fixtures/detr_tiny/postprocess.json), plus min-box-size and NMS. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, useBackend } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadDetrModel } from '../../src/detect/load.js';
import { filterMinBoxSize, iou, nms, postProcessObjectDetection, type Detections } from '../../src/detect/postprocess.js';
import type { Box } from '../../src/util/box.js';

const DIR = join(FIXTURES, 'detr_tiny');
const ref = JSON.parse(readFileSync(join(DIR, 'postprocess.json'), 'utf8')) as { scores: number[]; labels: number[]; boxes: number[][] }[];
const TARGETS: [number, number][] = [[200, 300], [150, 120]];
const BOX_TOL = 1e-3;
const SCORE_TOL = 1e-6;

function compare(got: Detections[], what: string): number {
  let worst = 0;
  assert.equal(got.length, ref.length);
  got.forEach((g, i) => {
    const r = ref[i]!;
    assert.equal(g.scores.length, r.scores.length, `${what} image ${i}: count`);
    assert.deepEqual(g.labels, r.labels, `${what} image ${i}: labels`);
    g.scores.forEach((s, j) => assert.ok(Math.abs(s - r.scores[j]!) <= SCORE_TOL, `${what} score ${s} vs ${r.scores[j]}`));
    g.boxes.forEach((b, j) => b.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - r.boxes[j]![k]!)))));
  });
  assert.ok(worst <= BOX_TOL, `${what}: box max abs err ${worst}`);
  return worst;
}

test(`post_process_object_detection on the fixture outputs equals HF (boxes ≤ ${BOX_TOL} px, scores ≤ ${SCORE_TOL})`, () => {
  const io = readSafetensors(join(DIR, 'io.safetensors'));
  const lg = io.get('logits')!;
  const got = postProcessObjectDetection(lg.data, io.get('pred_boxes')!.data, lg.shape[0]!, lg.shape[1]!, lg.shape[2]!, 0, TARGETS);
  console.log(`# from HF outputs: box max abs err ${compare(got, 'fixture outputs')}`);
});

test('post-processing our own wasm forward equals HF end to end', async () => {
  await useBackend('wasm');
  const io = readSafetensors(join(DIR, 'io.safetensors'));
  const model = loadDetrModel(join(DIR, 'model'));
  const pv = io.get('pixel_values')!;
  const x = tf.tensor4d(pv.data as Float32Array, pv.shape as [number, number, number, number]);
  const out = model.forward(x, io.get('pixel_mask')!.data);
  try {
    const got = postProcessObjectDetection(await out.logits.data(), await out.predBoxes.data(), 2, 10, 3, 0, TARGETS);
    console.log(`# from our forward: box max abs err ${compare(got, 'our forward')}`);
  } finally {
    [x, out.logits, out.predBoxes, out.lastHiddenState].forEach((t) => t.dispose());
    model.dispose();
  }
});

test('threshold is strict (score > threshold) and drops the no-object class', () => {
  // one query, 2 labels + no-object; logits so that p(no-object) is highest
  const logits = [0, Math.log(2), Math.log(5)]; // p = [1/8, 2/8, 5/8]
  const boxes = [0.5, 0.5, 0.2, 0.4];
  const [d] = postProcessObjectDetection(logits, boxes, 1, 1, 3, 0.1, [[100, 200]]);
  assert.deepEqual(d!.labels, [1]);
  assert.ok(Math.abs(d!.scores[0]! - 0.25) < 1e-12);
  assert.deepEqual(d!.boxes[0], [80, 30, 120, 70]);
  assert.equal(postProcessObjectDetection(logits, boxes, 1, 1, 3, 0.25, [[100, 200]])[0]!.scores.length, 0);
});

test('min_box_size drops boxes narrower or lower than the minimum', () => {
  const d: Detections = { boxes: [[0, 0, 19, 100], [0, 0, 100, 19.5], [10, 10, 30, 30], [0, 0, 50, 50]], scores: [0.9, 0.8, 0.7, 0.6], labels: [0, 0, 0, 0] };
  assert.deepEqual(filterMinBoxSize(d, 20).boxes, [[10, 10, 30, 30], [0, 0, 50, 50]]);
  assert.equal(filterMinBoxSize(d, 0).boxes.length, 4);
});

test('NMS: greedy by score, IoU > threshold suppressed, class-agnostic unless perClass', () => {
  const boxes: Box[] = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 10]];
  assert.ok(Math.abs(iou(boxes[0]!, boxes[1]!) - 90 / 110) < 1e-12);
  const d: Detections = { boxes, scores: [0.6, 0.9, 0.5, 0.6], labels: [0, 0, 0, 1] };
  const r = nms(d, 0.5);
  assert.deepEqual(r.scores, [0.9, 0.5]); // box 1 wins; 0 and 3 overlap it
  assert.deepEqual(r.boxes, [[1, 0, 11, 10], [20, 20, 30, 30]]);
  const pc = nms(d, 0.5, { perClass: true });
  assert.deepEqual(pc.scores, [0.9, 0.6, 0.5]); // label-1 box survives
  assert.equal(pc.labels[1], 1);
  // IoU exactly at the threshold is kept (torchvision: suppress only when IoU > threshold)
  const e: Detections = { boxes: [[0, 0, 10, 10], [0, 0, 10, 5]], scores: [0.9, 0.8], labels: [0, 0] };
  assert.equal(nms(e, 0.5).scores.length, 2);
  assert.equal(nms(e, 0.49).scores.length, 1);
  assert.equal(nms(d, 1).scores.length, 4);
});
