import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitData } from '../../src/data/splits.js';
import { makeRng } from '../../src/util/rng.js';

const items = (logo: string, n: number) => Array.from({ length: n }, (_, i) => `${logo}/${i}.jpg`);

test('logo level: sizes int(n·p) by hand, disjoint, covers all, seeded shuffle order', () => {
  // n = 10, 0.7/0.15/0.15 → trainEnd = int(7.000000000000001) = 7, valEnd = 7 + int(1.5) = 8, test = 2
  const m = new Map(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((l) => [l, items(l, 3)] as const));
  const s = splitData(m, { level: 'logo', train: 0.7, val: 0.15, test: 0.15, seed: 42 });
  assert.deepEqual([s.train.size, s.val.size, s.test.size], [7, 1, 2]);
  const expectedOrder = makeRng(42).shuffle([...m.keys()]);
  assert.deepEqual([...s.train.keys(), ...s.val.keys(), ...s.test.keys()], expectedOrder);
  assert.deepEqual(s.info, { splitLevel: 'logo', totalLogos: 10, trainLogos: 7, valLogos: 1, testLogos: 2, trainImages: 21, valImages: 3, testImages: 6 });
  // labels index the input order and are shared
  assert.equal(s.labelOf.get('a'), 0);
  assert.equal(s.labelOf.get('j'), 9);
  // n = 3: int(2.1)=2, int(0.45)=0 → 2/0/1
  const s3 = splitData(new Map([['x', ['1']], ['y', ['2']], ['z', ['3']]]), { level: 'logo', train: 0.7, val: 0.15, test: 0.15, seed: 1 });
  assert.deepEqual([s3.train.size, s3.val.size, s3.test.size], [2, 0, 1]);
  // same seed → same split, other seed → (here) a different order
  const again = splitData(m, { level: 'logo', train: 0.7, val: 0.15, test: 0.15, seed: 42 });
  assert.deepEqual([...again.train.keys()], [...s.train.keys()]);
});

test('image level: 1 → train, 2 → train/val, else max(1, int(n·p)) — hand-computed sizes', () => {
  const m = new Map([
    ['one', items('one', 1)],
    ['two', items('two', 2)],
    ['three', items('three', 3)], // train max(1,int(2.1))=2, val max(1,int(0.45))=1, test 0
    ['five', items('five', 5)], // train int(3.5)=3, val max(1,int(0.75))=1, test 1
    ['ten', items('ten', 10)], // train 7, val int(1.5)=1, test 2
  ]);
  const s = splitData(m, { level: 'image', train: 0.7, val: 0.15, test: 0.15, seed: 7 });
  const sz = (mm: Map<string, string[]>, l: string) => mm.get(l)?.length ?? 0;
  const table = [...m.keys()].map((l) => [l, sz(s.train, l), sz(s.val, l), sz(s.test, l)]);
  assert.deepEqual(table, [
    ['one', 1, 0, 0],
    ['two', 1, 1, 0],
    ['three', 2, 1, 0],
    ['five', 3, 1, 1],
    ['ten', 7, 1, 2],
  ]);
  assert.equal(s.test.has('three'), false, 'empty parts are left out');
  // one generator for the whole pass, logos in input order, each list shuffled as a copy
  const rng = makeRng(7);
  for (const [l, its] of m) {
    const sh = rng.shuffle(its.slice());
    assert.deepEqual([...(s.train.get(l) ?? []), ...(s.val.get(l) ?? []), ...(s.test.get(l) ?? [])], sh, l);
  }
  assert.deepEqual(m.get('ten'), items('ten', 10), 'input not mutated');
  // train 0.5 val 0.5 test 0 on n = 4 → 2/2/0; train 0.1 on n = 3 → max(1, 0) = 1
  const s2 = splitData(new Map([['q', items('q', 4)], ['r', items('r', 3)]]), { level: 'image', train: 0.5, val: 0.5, test: 0, seed: 3 });
  assert.deepEqual([sz(s2.train, 'q'), sz(s2.val, 'q'), sz(s2.test, 'q')], [2, 2, 0]);
  const s3 = splitData(new Map([['r', items('r', 3)]]), { level: 'image', train: 0.1, val: 0.1, test: 0.8, seed: 3 });
  assert.deepEqual([sz(s3.train, 'r'), sz(s3.val, 'r'), sz(s3.test, 'r')], [1, 1, 1]);
  // val_split 0 means no validation at the image level too (the at-least-one rule gave every logo
  // a validation photo, so a run asked to validate on nothing chose a "best" epoch)
  const m0 = new Map([['two', items('two', 2)], ['five', items('five', 5)], ['ten', items('ten', 10)]]);
  const s4 = splitData(m0, { level: 'image', train: 0.85, val: 0, test: 0.15, seed: 5 });
  assert.equal(s4.val.size, 0);
  assert.deepEqual([...m0.keys()].map((l) => [sz(s4.train, l), sz(s4.test, l)]), [[1, 1], [4, 1], [8, 2]]);
  const s5 = splitData(m0, { level: 'image', train: 1, val: 0, test: 0, seed: 5 });
  assert.deepEqual([s5.val.size, s5.test.size, s5.info.trainImages], [0, 0, 17]);
});

test('bad split options are one-line errors naming the key', () => {
  const m = new Map([['a', ['x']]]);
  assert.throws(() => splitData(m, { level: 'logo', train: 1.2, val: 0, test: 0, seed: 1 }), /train_split: 1.2/);
  assert.throws(() => splitData(m, { level: 'logo', train: 0.7, val: 0.3, test: 0.3, seed: 1 }), /> 1/);
  assert.throws(() => splitData(m, { level: 'brand' as 'logo', train: 0.7, val: 0.3, test: 0, seed: 1 }), /split level/);
});

test('image level with photos (groupOf): a photo\'s crops never straddle train/val/test; one crop per photo = the plain split', () => {
  // logo A: 10 crops from 5 photos, 2 boxes each (a LogoDet-3K image with two boxes of one brand)
  const crops = Array.from({ length: 10 }, (_, i) => ({ id: `A${i}`, photo: Math.floor(i / 2) }));
  const groupOf = (c: { photo: number | null }) => c.photo;
  for (let seed = 0; seed < 50; seed++) {
    const s = splitData(new Map([['A', crops]]), { level: 'image', train: 0.7, val: 0.15, test: 0.15, seed }, groupOf);
    const side = new Map<number, string>();
    for (const [name, m] of [['train', s.train], ['val', s.val], ['test', s.test]] as const)
      for (const c of m.get('A') ?? []) {
        assert.ok(!side.has(c.photo) || side.get(c.photo) === name, `seed ${seed}: photo ${c.photo} in ${side.get(c.photo)} and ${name}`);
        side.set(c.photo, name);
      }
    assert.equal(s.info.trainImages + s.info.valImages + s.info.testImages, 10);
    assert.equal(side.size, 5);
  }
  // the ungrouped split of these crops does put a photo on two sides (what the grouping prevents)
  const plain = splitData(new Map([['A', crops]]), { level: 'image', train: 0.7, val: 0.15, test: 0.15, seed: 42 });
  const trainPhotos = new Set((plain.train.get('A') ?? []).map((c) => c.photo));
  assert.ok([...(plain.val.get('A') ?? []), ...(plain.test.get('A') ?? [])].some((c) => trainPhotos.has(c.photo)));
  // one crop per photo (or no photo): exactly the original split
  const single = Array.from({ length: 10 }, (_, i) => ({ id: `B${i}`, photo: i as number | null }));
  const none = single.map((c) => ({ ...c, photo: null }));
  const want = splitData(new Map([['B', single]]), { level: 'image', train: 0.7, val: 0.15, test: 0.15, seed: 9 });
  for (const items of [single, none]) {
    const got = splitData(new Map([['B', items]]), { level: 'image', train: 0.7, val: 0.15, test: 0.15, seed: 9 }, groupOf);
    for (const k of ['train', 'val', 'test'] as const) assert.deepEqual(got[k].get('B')?.map((c) => c.id), want[k].get('B')?.map((c) => c.id));
  }
});
