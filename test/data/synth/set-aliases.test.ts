/** Set-B brands that are set-A logos under another name (set-aliases.ts) are never drawn as labelled set-B brands. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brandSet, listBrands, selectBrands, type Brand } from '../../../src/data/synth/sources.js';
import { isSetBAlias, SET_B_ALIASES } from '../../../src/data/synth/set-aliases.js';
import { makeRng } from '../../../src/util/rng.js';

/** selectBrands before aliases were skipped: the seeded shuffle of both tiers, cut at count. */
function shuffledPool(seed: number): string[] {
  const pool = listBrands('B');
  const rng = makeRng(`synth-brands:${seed}`);
  const rich = rng.shuffle(pool.filter((b) => b.simpleIcon && b.logos.length > 0));
  const rest = rng.shuffle(pool.filter((b) => !(b.simpleIcon && b.logos.length > 0)));
  return [...rich, ...rest].map((b) => b.slug);
}
const slugs = (bs: Brand[]) => bs.map((b) => b.slug);

test('set aliases: every entry is a catalogue brand of set B whose twin is a catalogue brand of set A', () => {
  const all = new Map(listBrands('all').map((b) => [b.slug, b]));
  const entries = Object.entries(SET_B_ALIASES);
  assert.ok(entries.length > 0);
  for (const [b, { a, reason }] of entries) {
    assert.equal(all.get(b)?.set, 'B', `${b}: a set-B brand`);
    assert.equal(brandSet(b), 'B');
    assert.equal(all.get(a)?.set, 'A', `${b} → ${a}: a set-A brand`);
    assert.ok(reason.length > 0, b);
  }
  assert.deepEqual(Object.keys(SET_B_ALIASES), Object.keys(SET_B_ALIASES).sort(), 'one sorted table');
});

test('set aliases: the confirmed pairs chrome, azure and gitcode are listed with their set-A twins', () => {
  assert.equal(SET_B_ALIASES.chrome?.a, 'googlechrome');
  assert.equal(SET_B_ALIASES.azure?.a, 'microsoftazure');
  assert.equal(SET_B_ALIASES.gitcode?.a, 'atomgit');
});

test('selectBrands set B: never draws a listed alias, even when every drawable brand is asked for', () => {
  const aliases = Object.keys(SET_B_ALIASES);
  const drawable = listBrands('B').length - aliases.length;
  const every = slugs(selectBrands({ seed: 3, count: drawable, set: 'B' }));
  assert.equal(every.length, drawable);
  assert.equal(new Set(every).size, drawable);
  assert.deepEqual(every.filter(isSetBAlias), []);
  for (const seed of [0, 1, 7, 8, 9, 101]) assert.deepEqual(slugs(selectBrands({ seed, count: 300, set: 'B' })).filter(isSetBAlias), [], `seed ${seed}`);
  // the demo's default sample (seed 7, 40 brands) met two aliases before they were skipped
  assert.deepEqual(shuffledPool(7).slice(0, 40).filter(isSetBAlias), ['mailchimp', 'envoyproxy']);
  assert.throws(() => selectBrands({ seed: 3, count: drawable + 1, set: 'B' }), new RegExp(`--brands: ${drawable + 1} requested but brand set B has ${drawable} \\(${aliases.length} aliases of set-A brands left out\\)`));
});

test('selectBrands set B: the same seeded order with the aliases taken out, so a draw that meets none is unchanged', () => {
  let unchanged = 0;
  for (const seed of [0, 1, 2, 7, 8, 9, 101]) {
    const order = shuffledPool(seed);
    for (const count of [8, 16, 40, 64]) {
      const got = slugs(selectBrands({ seed, count, set: 'B' }));
      assert.deepEqual(got, order.filter((s) => !isSetBAlias(s)).slice(0, count), `seed ${seed}, ${count} brands`);
      if (!order.slice(0, count).some(isSetBAlias)) {
        assert.deepEqual(got, order.slice(0, count), `seed ${seed}, ${count} brands: no alias met, the old draw`);
        unchanged++;
      }
    }
  }
  assert.ok(unchanged > 0, 'some draws meet no alias');
  // the demo's quick and tiny samples meet none: exactly the old draw
  assert.deepEqual(slugs(selectBrands({ seed: 7, count: 16, set: 'B' })), shuffledPool(7).slice(0, 16));
});

test('selectBrands set A and all: unchanged (the baseline was trained on set A)', () => {
  for (const set of ['A', 'all'] as const) {
    const pool = listBrands(set);
    const rng = makeRng('synth-brands:5');
    const rich = rng.shuffle(pool.filter((b) => b.simpleIcon && b.logos.length > 0));
    const rest = rng.shuffle(pool.filter((b) => !(b.simpleIcon && b.logos.length > 0)));
    assert.deepEqual(slugs(selectBrands({ seed: 5, count: pool.length, set })), slugs([...rich, ...rest]), set);
  }
});
