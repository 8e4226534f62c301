import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validationSubset } from '../../training/data/val-subset.js';

const split = (sizes: number[]) => new Map(sizes.map((n, l) => [`logo${String(l).padStart(2, '0')}`, Array.from({ length: n }, (_, k) => `l${l}c${k}`)]));

test('validationSubset: under the cap every crop, in the split\'s order', () => {
  const s = split([3, 1, 4]);
  assert.deepEqual(validationSubset(s, 8, 1).map((v) => v.item), [...s.values()].flat());
});

test('validationSubset: over the cap every logo gets a pair before any gets a third, not the first logos by name', () => {
  const s = split([10, 10, 10, 10, 10, 10, 3, 1]);
  const got = validationSubset(s, 16, 5);
  assert.equal(got.length, 16);
  const per = new Map<string, number>();
  for (const v of got) per.set(v.logo, (per.get(v.logo) ?? 0) + 1);
  // 7 logos with ≥ 2 crops get 2 each (14), the single-crop logo its 1, one more crop somewhere
  assert.equal(per.get('logo07'), 1);
  for (const l of ['logo00', 'logo01', 'logo02', 'logo03', 'logo04', 'logo05', 'logo06']) assert.ok(per.get(l)! >= 2 && per.get(l)! <= 3, `${l}: ${per.get(l)}`);
  // grouped by logo in the split's order (each P·K chunk keeps positives), items from the split
  const order = got.map((v) => v.logo);
  assert.deepEqual(order, [...order].sort());
  for (const v of got) assert.ok(s.get(v.logo)!.includes(v.item));
  assert.equal(new Set(got.map((v) => v.item)).size, 16);
  // seeded: the same seed the same subset, another seed another
  assert.deepEqual(validationSubset(s, 16, 5), got);
  assert.notDeepEqual(validationSubset(s, 16, 6).map((v) => v.item), got.map((v) => v.item));
});

test('validationSubset: a cap below two per logo still spreads pairs over as many logos as it can', () => {
  const got = validationSubset(split([5, 5, 5, 5, 5]), 6, 2);
  const per = new Map<string, number>();
  for (const v of got) per.set(v.logo, (per.get(v.logo) ?? 0) + 1);
  assert.deepEqual([...per.values()], [2, 2, 2]);
});
