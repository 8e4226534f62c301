import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PxKSampler } from '../../../training/data/sampler.js';

function data(sizes: Record<string, number>) {
  const m = new Map(Object.entries(sizes).map(([l, n]) => [l, Array.from({ length: n }, (_, i) => `${l}${i}`)] as const));
  const labelOf = new Map([...m.keys()].map((l, i) => [l, i] as const));
  return { m, labelOf };
}

test('each batch: P distinct logos × K items, labels match, replacement only when needed', () => {
  const { m, labelOf } = data({ a: 6, b: 4, c: 2, d: 9, e: 1, f: 5 });
  const s = new PxKSampler(m, labelOf, { logosPerBatch: 4, samplesPerLogo: 4, batchesPerEpoch: 50, seed: 3 });
  let sawReplacement = 0;
  for (const b of s.epoch(0)) {
    assert.equal(b.items.length, 16);
    assert.equal(b.labels.length, 16);
    const logos = new Set(b.logos);
    assert.equal(logos.size, 4, 'P distinct logos');
    for (let p = 0; p < 4; p++) {
      const slot = b.logos.slice(p * 4, p * 4 + 4);
      assert.ok(slot.every((l) => l === slot[0]), 'K consecutive slots per logo');
      const its = b.items.slice(p * 4, p * 4 + 4);
      for (let k = 0; k < 4; k++) {
        assert.ok(its[k]!.startsWith(slot[0]!), 'item belongs to its logo');
        assert.equal(b.labels[p * 4 + k], labelOf.get(slot[0]!));
      }
      const enough = m.get(slot[0]!)!.length >= 4;
      if (enough) assert.equal(new Set(its).size, 4, `${slot[0]} has ≥K items: no repeats`);
      assert.equal(b.withReplacement.includes(slot[0]!), !enough);
      if (!enough) sawReplacement++;
    }
  }
  assert.ok(sawReplacement > 0);
  // deterministic per (seed, epoch, batch); epochs differ
  const again = new PxKSampler(m, labelOf, { logosPerBatch: 4, samplesPerLogo: 4, batchesPerEpoch: 50, seed: 3 });
  assert.deepEqual(again.batch(0, 17).items, s.batch(0, 17).items);
  assert.deepEqual([...s.epoch(0, 17)][0]!.items, s.batch(0, 17).items, 'resume mid-epoch');
  assert.notDeepEqual(s.batch(1, 0).items, s.batch(0, 0).items);
  // all logos get drawn over an epoch
  assert.equal(new Set([...s.epoch(0)].flatMap((b) => b.logos)).size, 6);
});

test('preconditions are clear errors', () => {
  const { m, labelOf } = data({ a: 3, b: 3, c: 0 });
  assert.throws(() => new PxKSampler(m, labelOf, { logosPerBatch: 3, samplesPerLogo: 2, batchesPerEpoch: 1, seed: 1, name: 'train split' }), /train split: logos_per_batch = 3 but only 2 logos have images/);
  assert.throws(() => new PxKSampler(m, labelOf, { logosPerBatch: 0, samplesPerLogo: 2, batchesPerEpoch: 1, seed: 1 }), /logos_per_batch: 0/);
  assert.throws(() => new PxKSampler(m, labelOf, { logosPerBatch: 2, samplesPerLogo: 2.5, batchesPerEpoch: 1, seed: 1 }), /samples_per_logo/);
  assert.throws(() => new PxKSampler(m, labelOf, { logosPerBatch: 2, samplesPerLogo: 2, batchesPerEpoch: -1, seed: 1 }), /batches_per_epoch/);
  // every logo with a single image is legal (reference behaviour): K copies of it
  const single = data({ a: 1, b: 1 });
  const sb = new PxKSampler(single.m, single.labelOf, { logosPerBatch: 2, samplesPerLogo: 3, batchesPerEpoch: 1, seed: 1 }).batch(0, 0);
  assert.deepEqual(sb.items.slice().sort(), ['a0', 'a0', 'a0', 'b0', 'b0', 'b0']);
  assert.deepEqual(sb.withReplacement.slice().sort(), ['a', 'b']);
  assert.throws(() => new PxKSampler(m, new Map([['a', 0]]), { logosPerBatch: 1, samplesPerLogo: 1, batchesPerEpoch: 1, seed: 1 }), /'b' has no label/);
});
