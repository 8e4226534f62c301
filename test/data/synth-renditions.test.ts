/** `synth --record-renditions`: which rendition each annotated object was drawn in, without changing the scenes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { listBrands, renditions } from '../../src/data/synth/sources.js';
import { parseVoc } from '../../src/data/voc.js';

function files(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(root, join(dir, f)) : [relative(root, join(dir, f))])).sort();
}

test('synth --record-renditions: renditions.json names each XML object\'s rendition; every other file is byte-identical', async () => {
  const root = tmpDir('logolab-synth-rend-');
  try {
    const o = { brands: 5, seed: 11, imagesPerBrand: 3, negatives: 1, quiet: true, minSide: 128, maxSide: 160, brandSet: 'B' as const };
    await synthesize({ ...o, out: join(root, 'plain') });
    await synthesize({ ...o, out: join(root, 'rec'), recordRenditions: true });
    const plain = files(join(root, 'plain')), rec = files(join(root, 'rec'));
    assert.deepEqual(rec, [...plain, 'renditions.json'].sort());
    // (the output marker lists each folder's top-level files: rec's names renditions.json too)
    for (const f of plain.filter((x) => x !== '.logolab-output.json')) assert.ok(readFileSync(join(root, 'plain', f)).equals(readFileSync(join(root, 'rec', f))), `${f} differs`);

    const drawn = JSON.parse(readFileSync(join(root, 'rec', 'renditions.json'), 'utf8')) as Record<string, { name: string; box: number[]; rendition: string }[]>;
    const scenes = plain.filter((f) => f.endsWith('.jpg'));
    assert.deepEqual(Object.keys(drawn).sort(), scenes);
    const brands = new Map(listBrands('all').map((b) => [b.slug, b]));
    let objects = 0;
    for (const jpg of scenes) {
      const ann = parseVoc(readFileSync(join(root, 'rec', jpg.replace(/\.jpg$/, '.xml')), 'utf8'), jpg);
      const rec = drawn[jpg]!;
      assert.deepEqual(rec.map((x) => [x.name, x.box]), ann.objects.map((x) => [x.name, x.box]), `${jpg}: objects in XML order`);
      for (const x of rec) assert.ok(renditions(brands.get(x.name)!).some((r) => r.id === x.rendition), `${jpg}: ${x.rendition} is a rendition of ${x.name}`);
      objects += rec.length;
    }
    assert.ok(objects >= 15, `${objects} objects`);
    // more than one rendition per brand is drawn, so a brand label mixes drawings and colour styles
    const perBrand = new Map<string, Set<string>>();
    for (const rec of Object.values(drawn)) for (const x of rec) (perBrand.get(x.name) ?? perBrand.set(x.name, new Set()).get(x.name)!).add(x.rendition);
    assert.ok([...perBrand.values()].some((s) => s.size > 1));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
