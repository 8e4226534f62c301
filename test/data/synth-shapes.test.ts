/** `synth --label-by shape`: one logo identity per drawing of a brand, several annotated per scene. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { listBrands, renditions, selectBrands, shapes } from '../../src/data/synth/sources.js';
import { parseVoc } from '../../src/data/voc.js';
import { composeScene } from '../../src/data/synth/scene.js';
import { makeRng } from '../../src/util/rng.js';

test('shapes: a brand\'s renditions grouped by drawing (simple-icons glyph; each iconify icon)', () => {
  const youtube = listBrands('all').find((b) => b.slug === 'youtube')!;
  const sh = shapes(youtube);
  assert.equal(sh.length, (youtube.simpleIcon ? 1 : 0) + youtube.logos.length);
  assert.deepEqual(sh.flatMap((s) => s.renditions.map((r) => r.id)), renditions(youtube).map((r) => r.id)); // a partition, in order
  assert.deepEqual(sh.map((s) => s.label), sh.map((_, k) => `youtube-${k + 1}`));
  assert.deepEqual(sh[0]!.renditions.map((r) => r.style), ['brand', 'black', 'white', 'inverted', 'plate']);
  for (const s of sh.slice(1)) assert.equal(new Set(s.renditions.map((r) => r.id.split(':')[1])).size, 1, 'one iconify icon per shape');
});

test('synth --label-by shape: folders per shape, every label drawn images × targets times, objects drawn from their own shape', async () => {
  const root = tmpDir('logolab-synth-shape-');
  const o = { brands: 4, seed: 3, imagesPerBrand: 2, negatives: 0, quiet: true, minSide: 128, maxSide: 160, brandSet: 'A' as const, labelBy: 'shape' as const, targetsPerScene: 3 };
  const s = await synthesize({ ...o, out: join(root, 'a') });
  const labels = selectBrands({ seed: 3, count: 4, set: 'A' }).flatMap((b) => shapes(b));
  const byLabel = new Map(labels.map((l) => [l.label, new Set(l.renditions.map((r) => r.id))]));
  const manifest = JSON.parse(readFileSync(join(root, 'a', 'synth.json'), 'utf8')) as { labelBy: string; targetsPerScene: number; shapes: { label: string }[] };
  assert.equal(manifest.labelBy, 'shape');
  assert.deepEqual(manifest.shapes.map((x) => x.label), labels.map((l) => l.label));
  assert.equal(s.images, labels.length * 2);
  const seen = new Map<string, number>();
  const folders = new Set<string>();
  for (const cat of readdirSync(join(root, 'a')).filter((c) => !c.endsWith('.json'))) {
    for (const folder of readdirSync(join(root, 'a', cat))) {
      folders.add(folder);
      for (const f of readdirSync(join(root, 'a', cat, folder)).filter((x) => x.endsWith('.xml'))) {
        const ann = parseVoc(readFileSync(join(root, 'a', cat, folder, f), 'utf8'), f);
        assert.ok(ann.objects.length <= 3);
        for (const ob of ann.objects) {
          assert.ok(byLabel.has(ob.name), `object ${ob.name} is a shape label`);
          seen.set(ob.name, (seen.get(ob.name) ?? 0) + 1);
        }
      }
    }
  }
  assert.deepEqual([...folders].sort(), labels.map((l) => l.label).sort());
  // the rotation draws each label exactly 2 × 3 times; a failed placement can only lower that
  for (const l of labels) assert.ok((seen.get(l.label) ?? 0) <= 6 && (seen.get(l.label) ?? 0) >= 4, `${l.label}: ${seen.get(l.label)}`);
  assert.equal([...seen.values()].reduce((a, b) => a + b, 0), s.objects);
  // each placed object is drawn from its own shape's renditions
  const rng = makeRng('shape-scene');
  for (let k = 0; k < 6; k++) {
    const t = labels.slice(k % 3, (k % 3) + 3);
    const scene = await composeScene(rng, { targets: [], labelledTargets: t.map((l) => ({ name: l.label, key: l.brand.slug, renditions: l.renditions })), distractors: [], minSide: 128, maxSide: 160 });
    for (const ob of scene.objects) assert.ok(byLabel.get(ob.name)!.has(ob.rendition), `${ob.name} drawn as ${ob.rendition}`);
  }
  const again = await synthesize({ ...o, out: join(root, 'b') });
  assert.equal(again.objects, s.objects);
  assert.equal(readFileSync(join(root, 'b', 'synth.json'), 'utf8'), readFileSync(join(root, 'a', 'synth.json'), 'utf8'));
  await assert.rejects(synthesize({ ...o, labelBy: 'brand', out: join(root, 'c') }), /--targets-per-scene > 1 needs --label-by shape/);
});

test('synth --renditions-per-shape: each shape keeps that many of its renditions (seeded), recorded in synth.json', async () => {
  const root = tmpDir('logolab-synth-rps-');
  try {
    const o = { brands: 3, seed: 5, imagesPerBrand: 1, negatives: 0, quiet: true, minSide: 128, maxSide: 160, brandSet: 'A' as const, labelBy: 'shape' as const, targetsPerScene: 2, renditionsPerShape: 1 };
    await synthesize({ ...o, out: join(root, 'a') });
    const m = JSON.parse(readFileSync(join(root, 'a', 'synth.json'), 'utf8')) as { renditionsPerShape: number; shapes: { label: string; renditions: string[] }[] };
    assert.equal(m.renditionsPerShape, 1);
    const all = new Map(selectBrands({ seed: 5, count: 3, set: 'A' }).flatMap((b) => shapes(b)).map((s) => [s.label, s.renditions.map((r) => r.id)]));
    assert.deepEqual(m.shapes.map((s) => s.label), [...all.keys()]);
    for (const s of m.shapes) {
      assert.equal(s.renditions.length, 1, s.label);
      assert.ok(all.get(s.label)!.includes(s.renditions[0]!), `${s.label}: ${s.renditions[0]} is one of its own renditions`);
    }
    assert.ok(m.shapes.some((s) => all.get(s.label)!.length > 1), 'the sample has a shape with several renditions to choose from');
    await synthesize({ ...o, out: join(root, 'b') });
    assert.equal(readFileSync(join(root, 'b', 'synth.json'), 'utf8'), readFileSync(join(root, 'a', 'synth.json'), 'utf8'));
    await assert.rejects(synthesize({ ...o, renditionsPerShape: 0, out: join(root, 'c') }), /--renditions-per-shape: 0/);
    await assert.rejects(synthesize({ ...o, labelBy: 'brand', targetsPerScene: 1, out: join(root, 'd') }), /--renditions-per-shape: 1 needs --label-by shape/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
