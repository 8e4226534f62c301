import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { PARITY_BACKENDS, useBackend, expectNoLeak } from '../helpers.js';
import { makeRng } from '../../src/util/rng.js';
import { retrievalMetrics, retrievalScores, precisionAt1, recallAtK, rPrecision, mapAtR } from '../../src/metrics/retrieval.js';
import { retrievalMetricsLoop } from './oracles.js';

/** Points on the unit circle at the given angles (degrees): cosine ranking = angular distance. */
function circle(deg: number[]): Float32Array[] {
  return deg.map((d) => Float32Array.from([Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]));
}

function randomSet(n: number, dim: number, classes: number, seed: number) {
  const rng = makeRng(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => rng.normal()));
  const labels: number[] = [];
  const embs: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    labels.push(c);
    embs.push(Float32Array.from(centres[c]!, (v) => v + 1.2 * rng.normal()));
  }
  return { embs, labels };
}

for (const backend of PARITY_BACKENDS) {
  describe(`retrieval metrics (${backend})`, () => {
    before(() => useBackend(backend));

    it('hand-computed example (self-retrieval, PML definitions)', () => {
      // angles: A at 0,10,20 ; B at 15, 100 ; C at 200 (lone)
      const e = circle([0, 10, 20, 15, 100, 200]);
      const l = [0, 0, 0, 1, 1, 2];
      // ranked neighbours (labels):
      // q0 (0°):   10(A) 15(B) 20(A) 100(B) 200(C)  R=2: only ranks ≤ R count → AP=(1/1)/2, RP=1/2, p1=1
      // q1 (10°):  15(B) 0(A)|20(A) …               R=2: AP=(1/2)/2, RP=1/2, p1=0, hit@2
      // q2 (20°):  15(B) 10(A) 0(A) …               R=2: AP=(1/2)/2, RP=1/2, p1=0, hit@2
      // q3 (15°):  10(A)|20(A) 0(A) 100(B) …        R=1: AP=0, RP=0, first hit at rank 4
      // q4 (100°): 20(A) 15(B) …                    R=1: AP=0, RP=0, first hit at rank 2
      // q5 (200°): lone (no other C) → left out
      const m = retrievalMetrics({ queries: e, queryLabels: l, ks: [1, 2, 5] });
      const ref = retrievalMetricsLoop({ queries: e, queryLabels: l, ks: [1, 2, 5] });
      assert.equal(m.num_queries, 5);
      assert.equal(m.num_lone_queries, 1);
      assert.ok(Math.abs(m.precision_at_1 - 1 / 5) < 1e-9, `p@1 ${m.precision_at_1}`);
      assert.ok(Math.abs(m.r_precision - (0.5 + 0.5 + 0.5 + 0 + 0) / 5) < 1e-9);
      assert.ok(Math.abs(m.map_at_r - (0.5 + 0.25 + 0.25) / 5) < 1e-9, `map ${m.map_at_r}`);
      assert.ok(Math.abs(m.recall_at_k[1]! - 1 / 5) < 1e-9);
      assert.ok(Math.abs(m.recall_at_k[2]! - 4 / 5) < 1e-9, `r@2 ${m.recall_at_k[2]}`);
      assert.ok(Math.abs(m.recall_at_k[5]! - 1) < 1e-9);
      assert.deepEqual(m, ref);
    });

    it('vectorised == loop on random clustered sets (self and query→reference)', async () => {
      const { embs, labels } = randomSet(150, 12, 9, 3);
      await expectNoLeak(() => {
        const a = retrievalMetrics({ queries: embs, queryLabels: labels, ks: [1, 3, 10] }, 40);
        const b = retrievalMetricsLoop({ queries: embs, queryLabels: labels, ks: [1, 3, 10] });
        for (const k of ['precision_at_1', 'r_precision', 'map_at_r'] as const) assert.ok(Math.abs(a[k] - b[k]) < 1e-12, `${k}: ${a[k]} vs ${b[k]}`);
        assert.deepEqual(a.recall_at_k, b.recall_at_k);
        assert.ok(a.precision_at_1 > 0.3 && a.precision_at_1 < 1, `non-trivial p@1 ${a.precision_at_1}`);
        const q = embs.slice(0, 50);
        const r = embs.slice(50);
        const c = retrievalMetrics({ queries: q, queryLabels: labels.slice(0, 50), references: r, referenceLabels: labels.slice(50) });
        const d = retrievalMetricsLoop({ queries: q, queryLabels: labels.slice(0, 50), references: r, referenceLabels: labels.slice(50) });
        assert.deepEqual(c, d);
      });
    });

    it('perfect and degenerate cases; single-metric helpers, no tensor left behind', async () => {
      await expectNoLeak(() => {
        const e = circle([0, 1, 90, 91, 180, 181]);
        const l = [0, 0, 1, 1, 2, 2];
        const m = retrievalMetrics({ queries: e, queryLabels: l });
        assert.equal(m.precision_at_1, 1);
        assert.equal(m.map_at_r, 1);
        assert.equal(m.r_precision, 1);
        assert.equal(precisionAt1({ queries: e, queryLabels: l }), 1);
        assert.equal(recallAtK({ queries: e, queryLabels: l }, 1), 1);
        assert.equal(rPrecision({ queries: e, queryLabels: l }), 1);
        assert.equal(mapAtR({ queries: e, queryLabels: l }), 1);
        const lone = retrievalMetrics({ queries: circle([0, 90]), queryLabels: [0, 1] });
        assert.equal(lone.num_queries, 0);
        assert.equal(lone.precision_at_1, 0);
        assert.throws(() => retrievalMetrics({ queries: e, queryLabels: [0, 1] }), /queryLabels/);
        assert.throws(() => retrievalMetrics({ queries: e, queryLabels: l, ks: [0] }), /ks/);
      });
    });
  });
}

describe('retrieval input checks (cpu)', () => {
  before(() => useBackend('cpu'));

  it('a non-integer, NaN or out-of-int32 label is an error naming its row (Int32Array.from merged 0.2 and 0.7 into class 0, NaN into 0)', () => {
    const e = circle([0, 1, 90, 91]);
    const bad = (queryLabels: number[], re: RegExp) => assert.throws(() => retrievalScores({ queries: e, queryLabels }), (err: Error) => err.name === 'LogolabError' && re.test(err.message), String(queryLabels));
    bad([0.2, 0.7, 1.1, 1.9], /^queryLabels\[0\]: label 0\.2 is not an integer/);
    bad([0, 0, NaN, 1], /^queryLabels\[2\]: label NaN/);
    bad([0, 0, 1, 2 ** 31], /^queryLabels\[3\]: label 2147483648/);
    assert.throws(() => retrievalScores({ queries: e, queryLabels: [0, 0, 1, 1], references: e, referenceLabels: [0, 0.5, 1, 1] }), /^LogolabError: referenceLabels\[1\]: label 0\.5/);
    // valid labels: number[] and Int32Array give the very same scores; negative labels are classes too
    const l = [0, 0, -3, -3];
    assert.deepEqual(retrievalMetrics({ queries: e, queryLabels: l }), retrievalMetrics({ queries: e, queryLabels: Int32Array.from(l) }));
    assert.equal(retrievalMetrics({ queries: e, queryLabels: l }).precision_at_1, 1);
  });

  it('a NaN or ±Infinity embedding row is an error naming it (its NaN similarities were ranked arbitrarily); valid rows score as before', async () => {
    await expectNoLeak(() => {
      const rows = () => circle([0, 1, 90, 91, 180, 181]);
      const l = [0, 0, 1, 1, 2, 2];
      for (const v of [NaN, Infinity, -Infinity]) {
        const q = rows();
        q[2]![1] = v;
        assert.throws(() => retrievalMetrics({ queries: q, queryLabels: l }), (err: Error) => err.name === 'LogolabError' && /^queries\[2\]: embedding has a non-finite value/.test(err.message), String(v));
        const r = rows();
        r[4]![0] = v;
        assert.throws(() => retrievalMetrics({ queries: rows(), queryLabels: l, references: r, referenceLabels: l }), /^LogolabError: references\[4\]: embedding has a non-finite value/, String(v));
        // the flat [N·D] form is checked the same way
        const flat = new Float32Array(12).fill(0.5);
        flat[7] = v;
        assert.throws(() => retrievalMetrics({ queries: { data: flat, rows: 6, dim: 2 }, queryLabels: l }), /^LogolabError: queries\[3\]/, String(v));
      }
      // finite rows, zero rows and huge (but finite) rows are accepted and score exactly as the loop oracle
      const q = rows();
      q[5] = Float32Array.of(0, 0);
      q[3] = Float32Array.of(3e38, 3e38);
      assert.deepEqual(retrievalMetrics({ queries: q, queryLabels: l }), retrievalMetricsLoop({ queries: q, queryLabels: l }));
    });
  });
});
