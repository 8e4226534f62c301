/**
 * DETR post-processing:
 *  1. HF `post_process_object_detection`: softmax over classes, drop the last (no-object) class,
 *     score/label = max/argmax over the rest, keep score > threshold (strict), boxes
 *     cxcywh → xyxy scaled to each image's original [h, w];
 *  2. the reference pipeline's `min_box_size` filter (width and height ≥ min, in pixels);
 *  3. greedy NMS at `nms_iou_threshold` (a box is dropped when IoU > threshold with a kept,
 *     higher-scoring one; torchvision.ops.nms semantics), class-agnostic by default.
 * (The Python original accepted min_box_size and nms_iou_threshold but never applied them.)
 */

import type { Box } from '../util/box.js';

export interface Detections {
  boxes: Box[];
  scores: number[];
  labels: number[];
}

/**
 * logits [B·Q·(L+1)], predBoxes [B·Q·4] (flat, row-major); targetSizes [h, w] per image (null =
 * normalised coordinates). Results are sorted as the queries come (HF order).
 */
export function postProcessObjectDetection(logits: ArrayLike<number>, predBoxes: ArrayLike<number>, batch: number, numQueries: number, numClasses: number, threshold: number, targetSizes: [number, number][] | null): Detections[] {
  const out: Detections[] = [];
  for (let b = 0; b < batch; b++) {
    const [h, w] = targetSizes ? targetSizes[b]! : [1, 1];
    const det: Detections = { boxes: [], scores: [], labels: [] };
    for (let q = 0; q < numQueries; q++) {
      const o = (b * numQueries + q) * numClasses;
      let mx = -Infinity;
      for (let c = 0; c < numClasses; c++) mx = Math.max(mx, logits[o + c]!);
      let sum = 0;
      for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[o + c]! - mx);
      let best = -1;
      let bestP = -Infinity;
      for (let c = 0; c < numClasses - 1; c++) {
        const p = Math.exp(logits[o + c]! - mx) / sum;
        if (p > bestP) {
          bestP = p;
          best = c;
        }
      }
      if (!(bestP > threshold)) continue;
      const bo = (b * numQueries + q) * 4;
      const [cx, cy, bw, bh] = [predBoxes[bo]!, predBoxes[bo + 1]!, predBoxes[bo + 2]!, predBoxes[bo + 3]!];
      det.boxes.push([(cx - 0.5 * bw) * w, (cy - 0.5 * bh) * h, (cx + 0.5 * bw) * w, (cy + 0.5 * bh) * h]);
      det.scores.push(bestP);
      det.labels.push(best);
    }
    out.push(det);
  }
  return out;
}

function select(d: Detections, keep: number[]): Detections {
  return { boxes: keep.map((i) => d.boxes[i]!), scores: keep.map((i) => d.scores[i]!), labels: keep.map((i) => d.labels[i]!) };
}

/** Drops boxes narrower or lower than minSize pixels. */
export function filterMinBoxSize(d: Detections, minSize: number): Detections {
  if (!(minSize > 0)) return d;
  const keep: number[] = [];
  d.boxes.forEach((b, i) => {
    if (b[2] - b[0] >= minSize && b[3] - b[1] >= minSize) keep.push(i);
  });
  return select(d, keep);
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

/**
 * Greedy NMS: highest score first (ties: lower index first), drop boxes with IoU > iouThreshold
 * against any kept box (of the same label when perClass). Output sorted by descending score.
 * iouThreshold ≥ 1 disables it.
 */
export function nms(d: Detections, iouThreshold: number, opts: { perClass?: boolean } = {}): Detections {
  if (iouThreshold >= 1) return d;
  const order = d.scores.map((_, i) => i).sort((a, b) => d.scores[b]! - d.scores[a]! || a - b);
  const keep: number[] = [];
  for (const i of order) {
    let ok = true;
    for (const k of keep) {
      if (opts.perClass && d.labels[k] !== d.labels[i]) continue;
      if (iou(d.boxes[i]!, d.boxes[k]!) > iouThreshold) {
        ok = false;
        break;
      }
    }
    if (ok) keep.push(i);
  }
  return select(d, keep);
}
