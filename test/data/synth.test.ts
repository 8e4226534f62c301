import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { listBrands, renditions, selectBrands } from '../../src/data/synth/sources.js';
import { parseVoc } from '../../src/data/voc.js';
import { readFolderDataset } from '../../src/data/folders.js';

function hashTree(dir: string): Record<string, string> {
  const m: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else m[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return m;
}

test('catalogue: ≥ 500 real brands, several renditions, disjoint A/B sets, deterministic selection', () => {
  const all = listBrands('all');
  assert.ok(all.length >= 500, `${all.length} brands`);
  const a = listBrands('A'), b = listBrands('B');
  assert.equal(a.length + b.length, all.length);
  assert.ok(a.length > 500 && b.length > 500);
  const aSet = new Set(a.map((x) => x.slug));
  assert.ok(b.every((x) => !aSet.has(x.slug)));
  const youtube = all.find((x) => x.slug === 'youtube')!;
  const r = renditions(youtube);
  assert.ok(r.some((x) => x.pack === 'simple-icons') && r.some((x) => x.pack === 'logos'));
  assert.ok(new Set(r.map((x) => x.style)).size >= 5);
  const s1 = selectBrands({ seed: 3, count: 20, set: 'A' }).map((x) => x.slug);
  assert.deepEqual(selectBrands({ seed: 3, count: 20, set: 'A' }).map((x) => x.slug), s1);
  assert.notDeepEqual(selectBrands({ seed: 4, count: 20, set: 'A' }).map((x) => x.slug), s1);
  assert.ok(s1.every((s) => aSet.has(s)));
  assert.throws(() => selectBrands({ seed: 1, count: 100000 }), /--brands: 100000 requested/);
});

test('synth: same seed → byte-identical files; other seed differs; boxes inside the image', async () => {
  const root = tmpDir('logolab-synth-');
  const opts = { brands: 3, seed: 11, imagesPerBrand: 2, negatives: 1, quiet: true, minSide: 128, maxSide: 224 };
  const s1 = await synthesize({ ...opts, out: join(root, 'a'), contactSheet: join(root, 'sheet.png') });
  await synthesize({ ...opts, out: join(root, 'b') });
  await synthesize({ ...opts, seed: 12, out: join(root, 'c') });
  const ha = hashTree(join(root, 'a'));
  assert.equal(Object.keys(ha).length, 2 + 2 * 7); // synth.json + the output marker + (jpg, xml) × 7 scenes
  assert.deepEqual(hashTree(join(root, 'b')), ha);
  assert.notDeepEqual(hashTree(join(root, 'c')), ha);
  assert.equal(s1.images, 7);
  let boxes = 0;
  for (const [rel] of Object.entries(ha).filter(([p]) => p.endsWith('.xml'))) {
    const ann = parseVoc(readFileSync(join(root, 'a', rel), 'utf8'), rel);
    const m = await sharp(join(root, 'a', rel.replace(/\.xml$/, '.jpg'))).metadata();
    assert.deepEqual([ann.width, ann.height], [m.width, m.height]);
    for (const o of ann.objects) {
      const [x0, y0, x1, y1] = o.box;
      assert.ok(x0 >= 0 && y0 >= 0 && x1 <= m.width! && y1 <= m.height! && x1 - x0 >= 2 && y1 - y0 >= 2, `${rel}: ${o.box}`);
      assert.ok(s1.brands.some((b) => b.slug === o.name), `${rel}: object ${o.name} is a selected brand`);
      boxes++;
    }
    if (rel.startsWith('Negatives/')) assert.equal(ann.objects.length, 0);
  }
  assert.equal(boxes, s1.objects);
  const sheet = await sharp(join(root, 'sheet.png')).metadata();
  assert.ok(sheet.width! > 0);
  // refuses to replace a folder that is not a synth output
  await assert.rejects(synthesize({ ...opts, out: root }), /--out .*: folder is not empty and is not an earlier output of this command; refusing to replace it/);
});

test('synth --layout folders: Burnley layout that folders.ts reads back', async () => {
  const root = tmpDir('logolab-synth-');
  const s = await synthesize({ brands: 2, seed: 2, imagesPerBrand: 2, negatives: 1, layout: 'folders', referencesPerBrand: 2, quiet: true, minSide: 128, maxSide: 160, out: join(root, 'f') });
  const f = readFolderDataset(join(root, 'f'));
  assert.deepEqual(f.logos.map((l) => l.name), s.brands.map((b) => b.slug).sort());
  for (const l of f.logos) assert.equal(l.references.length, 2);
  assert.equal(f.testImages.length, 5);
  assert.equal(f.testImages.filter((t) => t.expected.length === 0).length, s.negatives);
  for (const t of f.testImages) for (const e of t.expected) assert.ok(s.brands.some((b) => b.slug === e));
});
