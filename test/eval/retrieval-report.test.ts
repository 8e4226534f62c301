import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceRetrieval } from '../../src/eval/retrieval.js';
import { retrievalMetricsLoop } from '../metrics/oracles.js';
import type { EmbeddedSet } from '../../src/eval/types.js';

const at = (deg: number) => Float32Array.from([Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]);

test('reference retrieval: overall = the loop oracle, per logo = mean of its own queries (hand-computed)', () => {
  // A at 0°,10°,20°; B at 15°,100°; C at 200° (one ref: no per-logo score)
  const refs = ([[0, 'A'], [10, 'A'], [20, 'A'], [15, 'B'], [100, 'B'], [200, 'C']] as const).map(([d, logo], i) => ({ id: `r${i}`, logo, embedding: at(d) }));
  const set: EmbeddedSet = { logos: ['A', 'B', 'C'], refs, images: [], meta: {} };
  const r = referenceRetrieval(set)!;
  assert.deepEqual(r.overall, retrievalMetricsLoop({ queries: refs.map((x) => x.embedding), queryLabels: [0, 0, 0, 1, 1, 2], ks: [1, 5] }));
  // A: nearest of 0° is 10° (A), of 10° and 20° is 15° (B) → p@1 1/3; each has 1 of 2 A's in its top 2 → RP 1/2
  assert.deepEqual(r.perLogo, [
    { logo: 'A', refs: 3, precisionAt1: 1 / 3, rPrecision: 0.5 },
    { logo: 'B', refs: 2, precisionAt1: 0, rPrecision: 0 },
    { logo: 'C', refs: 1, precisionAt1: null, rPrecision: null },
  ]);
});
