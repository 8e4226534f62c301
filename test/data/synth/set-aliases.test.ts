/**
 * Set-B brands that are set-A logos under another name, or the same logo as another set-B brand
 * (set-aliases.ts), are never drawn as labelled set-B brands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brandSet, drawableBrands, listBrands, selectBrands, type Brand } from '../../../src/data/synth/sources.js';
import { isSetBAlias, isSetBDuplicate, isSkippedInSetB, keptDuplicate, SET_B_ALIASES, SET_B_DUPLICATES } from '../../../src/data/synth/set-aliases.js';
import { makeRng } from '../../../src/util/rng.js';
import { runCli } from '../../cli/run.js';

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

test('set-B duplicates: each skipped brand and its kept twin are distinct catalogue brands of set B, the kept one by the fixed rule', () => {
  const all = new Map(listBrands('all').map((b) => [b.slug, b]));
  const entries = Object.entries(SET_B_DUPLICATES);
  assert.ok(entries.length > 0);
  for (const [skipped, { kept, reason }] of entries) {
    const s = all.get(skipped), k = all.get(kept);
    assert.equal(s?.set, 'B', `${skipped}: a set-B brand`);
    assert.equal(k?.set, 'B', `${skipped} → ${kept}: a set-B brand`);
    assert.notEqual(skipped, kept);
    assert.ok(reason.length > 0, skipped);
    // the kept twin is drawn: not skipped itself (no chains), not an alias of a set-A brand
    assert.ok(!isSkippedInSetB(kept), `${skipped} → ${kept}: the kept twin is drawable`);
    assert.ok(!isSetBAlias(skipped), `${skipped}: in one table only`);
    // seed-independent choice of which one is skipped, whichever order the pair is given in
    assert.equal(keptDuplicate(s!, k!).slug, kept, `${skipped} ~ ${kept}: keptDuplicate keeps ${kept}`);
    assert.equal(keptDuplicate(k!, s!).slug, kept);
  }
  assert.deepEqual(Object.keys(SET_B_DUPLICATES), Object.keys(SET_B_DUPLICATES).sort(), 'one sorted table');
  // the rule on its own: more packs, then a simple-icons glyph, then the shorter slug, then sorting order
  const b = (slug: string, si: boolean, logos: number) => ({ slug, simpleIcon: si ? { slug, hex: '000000' } : undefined, logos: Array.from({ length: logos }, (_, i) => `${slug}-${i}`) });
  assert.equal(keptDuplicate(b('zz', true, 1), b('a', true, 0)).slug, 'zz');
  assert.equal(keptDuplicate(b('zzzz', true, 0), b('a', false, 3)).slug, 'zzzz');
  assert.equal(keptDuplicate(b('elm', false, 1), b('elmclassic', false, 1)).slug, 'elm');
  assert.equal(keptDuplicate(b('rb', false, 1), b('ra', false, 1)).slug, 'ra');
  // confirmed pairs, including iconify variants normaliseKey keeps apart
  assert.equal(SET_B_DUPLICATES.openroutericonmono?.kept, 'openrouter');
  assert.equal(SET_B_DUPLICATES.elmclassic?.kept, 'elm');
  assert.equal(SET_B_DUPLICATES.wandb?.kept, 'weightsandbiases');
});

test('selectBrands set B: never draws a listed alias nor both members of a duplicate pair, even when every drawable brand is asked for', () => {
  const aliases = Object.keys(SET_B_ALIASES), duplicates = Object.keys(SET_B_DUPLICATES);
  const drawable = listBrands('B').length - aliases.length - duplicates.length;
  const every = slugs(selectBrands({ seed: 3, count: drawable, set: 'B' }));
  assert.equal(every.length, drawable);
  assert.equal(new Set(every).size, drawable);
  assert.deepEqual(every.filter(isSkippedInSetB), []);
  assert.deepEqual(every, slugs(selectBrands({ seed: 3, count: drawable, set: 'B' })));
  for (const [skipped, { kept }] of Object.entries(SET_B_DUPLICATES)) assert.ok(every.includes(kept) && !every.includes(skipped), `${skipped} ~ ${kept}: only ${kept}`);
  for (const seed of [0, 1, 7, 8, 9, 101]) {
    const got = slugs(selectBrands({ seed, count: 400, set: 'B' }));
    assert.deepEqual(got.filter(isSkippedInSetB), [], `seed ${seed}`);
    for (const [skipped, { kept }] of Object.entries(SET_B_DUPLICATES)) assert.ok(!(got.includes(skipped) && got.includes(kept)), `seed ${seed}: ${skipped} and ${kept}`);
  }
  // the demo's default sample (seed 7, 40 brands) met two aliases before they were skipped
  assert.deepEqual(shuffledPool(7).slice(0, 40).filter(isSetBAlias), ['mailchimp', 'envoyproxy']);
  // seed 9's first 400 brands held both R logos, once as simple-icons r and once as iconify r-lang
  const old9 = shuffledPool(9).filter((s) => !isSetBAlias(s)).slice(0, 400);
  assert.ok(old9.includes('r') && old9.includes('rlang'));
  assert.throws(() => selectBrands({ seed: 3, count: drawable + 1, set: 'B' }), new RegExp(`--brands: ${drawable + 1} requested but brand set B has ${drawable} \\(${aliases.length} aliases of set-A brands and ${duplicates.length} duplicates of set-B brands left out\\)`));
});

test('selectBrands set B: the same seeded order with the aliases and duplicates taken out, so a draw that meets none is unchanged', () => {
  let unchanged = 0, changed = 0;
  for (const seed of [0, 1, 2, 7, 8, 9, 101]) {
    const order = shuffledPool(seed);
    for (const count of [8, 16, 40, 64, 400]) {
      const got = slugs(selectBrands({ seed, count, set: 'B' }));
      assert.deepEqual(got, order.filter((s) => !isSkippedInSetB(s)).slice(0, count), `seed ${seed}, ${count} brands`);
      if (!order.slice(0, count).some(isSkippedInSetB)) {
        assert.deepEqual(got, order.slice(0, count), `seed ${seed}, ${count} brands: none met, the old draw`);
        unchanged++;
      } else changed++;
    }
  }
  assert.ok(unchanged > 0 && changed > 0, 'some draws meet none, some meet one');
  // the demo's samples (seed 7: 40, 16, 8 brands) meet no duplicate: as after the aliases were skipped
  for (const count of [40, 16, 8]) assert.deepEqual(slugs(selectBrands({ seed: 7, count, set: 'B' })), shuffledPool(7).filter((s) => !isSetBAlias(s)).slice(0, count));
  assert.deepEqual(slugs(selectBrands({ seed: 7, count: 16, set: 'B' })), shuffledPool(7).slice(0, 16));
});

test('synth --list-brands --brand-set B lists exactly the brands selectBrands can draw; other sets list every brand', async () => {
  const b = await runCli(['synth', '--list-brands', '--brand-set', 'B']);
  assert.equal(b.code, 0, b.stderr);
  const listed = b.stdout.trim().split('\n').map((l) => l.split('\t')[0]!);
  assert.deepEqual(listed, slugs(drawableBrands('B')));
  assert.deepEqual(listed, slugs(selectBrands({ seed: 0, count: listed.length, set: 'B' })).sort());
  for (const s of ['mailchimp', 'chrome', 'openroutericonmono', 'twitter']) assert.ok(!listed.includes(s), s);
  for (const s of ['openrouter', 'x', 'weightsandbiases']) assert.ok(listed.includes(s), s);
  assert.equal(listed.filter(isSetBDuplicate).length, 0);
  assert.match(b.stderr, new RegExp(`\\[logolab\\] ${listed.length} brands \\(${Object.keys(SET_B_ALIASES).length} aliases of set-A brands and ${Object.keys(SET_B_DUPLICATES).length} duplicates of set-B brands left out\\)`));
  const all = await runCli(['synth', '--list-brands', '--brand-set', 'all']);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.trim().split('\n').length, listBrands('all').length);
  assert.match(all.stderr, new RegExp(`\\[logolab\\] ${listBrands('all').length} brands\\n$`));
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
