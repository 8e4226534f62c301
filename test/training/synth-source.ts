/**
 * A tiny in-memory DataSource for trainer tests: `classes` brands, each a fixed random colour
 * pattern; an item is its brand's pattern plus item noise; training batches add fresh noise
 * (a stand-in for augmentation). Deterministic in (seed, epoch, index).
 */
import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../../src/util/rng.js';
import type { Batch, DataSource } from '../../training/batch.js';

export function synthSource(o: { classes: number; itemsPerClass: number; size: number; P: number; K: number; seed: number; valBatches?: number }): DataSource {
  const px = 3 * o.size * o.size;
  const rng = makeRng(`synth:${o.seed}`);
  const protos = Array.from({ length: o.classes }, () => Float32Array.from({ length: px }, () => rng.normal()));
  const items = protos.map((p) => Array.from({ length: o.itemsPerClass }, () => Float32Array.from(p, (v) => v + 0.8 * rng.normal())));
  const make = (pairs: [number, number][], noise: number, r: ReturnType<typeof makeRng>, split: string): Batch => {
    const data = new Float32Array(pairs.length * px);
    pairs.forEach(([c, i], j) => {
      const it = items[c]![i]!;
      for (let k = 0; k < px; k++) data[j * px + k] = it[k]! + noise * r.normal();
    });
    return { pixels: tf.tensor4d(data, [pairs.length, 3, o.size, o.size]), labels: Int32Array.from(pairs.map(([c]) => c)), ids: pairs.map(([c, i]) => `${split}:${c}:${i}`) };
  };
  // validation: the last half of each class's items, each once, in batches of P·K
  const valPairs: [number, number][] = [];
  for (let c = 0; c < o.classes; c++) for (let i = Math.floor(o.itemsPerClass / 2); i < o.itemsPerClass; i++) valPairs.push([c, i]);
  const per = o.P * o.K;
  const nVal = Math.ceil(valPairs.length / per);
  return {
    async trainBatch(epoch, index) {
      const r = makeRng(`synth:${o.seed}:${epoch}:${index}`);
      const classes = r.shuffle(Array.from({ length: o.classes }, (_, i) => i)).slice(0, o.P);
      const pairs: [number, number][] = [];
      for (const c of classes) for (let k = 0; k < o.K; k++) pairs.push([c, r.int(Math.floor(o.itemsPerClass / 2))]);
      return make(pairs, 0.3, r, 'train');
    },
    numValBatches: () => Math.min(nVal, o.valBatches ?? nVal),
    async valBatch(i) {
      return make(valPairs.slice(i * per, (i + 1) * per), 0, makeRng(0), 'val');
    },
  };
}
