/**
 * prepare: which logo an object's <name> is (brand folders of one name in two categories, NFD
 * names), repeated objects, and skip details that name their file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { objectBrandResolver } from '../../src/data/logodet-layout.js';
import { openDataDb } from '../../src/data/db.js';
import { writeVoc } from '../../src/data/voc.js';
import { addImage } from './voc-source.js';
import { oversizedPng } from './oversized-png.js';

process.env.LOGOLAB_QUIET = '1';

function labelsOf(out: string) {
  const db = openDataDb(out);
  try {
    const gt = db.db.prepare('SELECT i.filename AS f, n.name AS logo FROM test_image_logos g JOIN test_images i ON i.id = g.test_image_id JOIN logo_names n ON n.id = g.logo_name_id ORDER BY f').all() as { f: string; logo: string }[];
    const skipped = db.db.prepare('SELECT kind, detail FROM skipped ORDER BY id').all() as { kind: string; detail: string }[];
    return { gt, skipped };
  } finally {
    db.close();
  }
}

test('one brand folder name in two categories: each image keeps its own folder\'s logo', async () => {
  const root = tmpDir('logolab-names-');
  const ds = join(root, 'ds');
  await addImage(ds, 'Drink', 'Foo', '1', [0, 0, 255], [{ name: 'Foo', box: [10, 10, 60, 50] }]);
  await addImage(ds, 'Food', 'Foo', '1', [255, 0, 0], [{ name: 'Foo', box: [10, 10, 60, 50] }]);
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.equal(s.totals.logos, 2);
  assert.deepEqual(labelsOf(join(root, 'out')).gt, [
    { f: 'Drink/Foo/1.png', logo: 'Foo' },
    { f: 'Food/Foo/1.png', logo: 'Foo (Food)' },
  ]);
});

test('objectBrandResolver: own folder, then its category, then the first; exact before case-insensitive; NFC', () => {
  const b = (category: string, folder: string, name = folder) => ({ category, folder, name });
  const [drinkFoo, foodFoo, foodBar, toyFoo, cafe] = [b('Drink', 'Foo'), b('Food', 'Foo', 'Foo (Food)'), b('Food', 'Bar'), b('Toy', 'foo'), b('Food', 'Caf\u00e9')];
  const brandOf = objectBrandResolver([drinkFoo, foodFoo, foodBar, toyFoo, cafe]);
  assert.equal(brandOf('Foo', foodFoo), foodFoo);
  assert.equal(brandOf('Foo', foodBar), foodFoo); // same category
  assert.equal(brandOf('Foo', toyFoo), drinkFoo); // exact match wins over the own folder's case-insensitive one; first of two
  assert.equal(brandOf('FOO', toyFoo), toyFoo);
  assert.equal(brandOf('Cafe\u0301', foodBar), cafe); // NFD as macOS writes it
  assert.equal(brandOf('Nothing', foodBar), foodBar);
});

test('an object repeated in its XML (same logo, same box) is counted and skipped; a second box of the logo is kept', async () => {
  const root = tmpDir('logolab-dups-');
  const ds = join(root, 'ds');
  const box: [number, number, number, number] = [10, 10, 60, 50];
  await addImage(ds, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box }, { name: 'acme', box }, { name: 'acme', box: [62, 10, 110, 50] }]);
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.equal(s.objects, 2);
  assert.equal(s.totals.referenceCrops, 2);
  assert.deepEqual(s.skipped, { duplicate_object: 1 });
  assert.match(labelsOf(join(root, 'out')).skipped[0]!.detail, /1\.xml: object #1 \(acme\) repeats object #0: same logo, same box \[10, 10, 60, 50\]$/);
});

test('an undecodable image\'s skip detail names its file', async () => {
  const root = tmpDir('logolab-corrupt-');
  const ds = join(root, 'ds');
  await addImage(ds, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box: [10, 10, 60, 50] }]);
  mkdirSync(join(ds, 'C', 'acme'), { recursive: true });
  const html = join(ds, 'C', 'acme', '2.jpg');
  writeFileSync(html, '<!doctype html><html><body>not an image</body></html>');
  writeFileSync(join(ds, 'C', 'acme', '2.xml'), writeVoc({ folder: 'acme', filename: '2.jpg', width: 120, height: 80, objects: [{ name: 'acme', box: [10, 10, 60, 50] }] }));
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.deepEqual(s.skipped, { corrupt_image: 1 });
  const d = labelsOf(join(root, 'out')).skipped[0]!.detail;
  assert.ok(d.startsWith(`${html}: `), d);
});

test('two images with one stem: the first by name is ingested and the other is named in a warning', async (t) => {
  const root = tmpDir('logolab-stem-');
  const ds = join(root, 'ds');
  await addImage(ds, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box: [10, 10, 60, 50] }]);
  await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 1, g: 2, b: 3 } } }).jpeg().toFile(join(ds, 'C', 'acme', '1.jpg'));
  const lines: string[] = [];
  const quiet = process.env.LOGOLAB_QUIET;
  delete process.env.LOGOLAB_QUIET;
  t.mock.method(process.stderr, 'write', (s: string) => (lines.push(String(s)), true));
  try {
    const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
    assert.equal(s.ingestedImages, 1);
  } finally {
    t.mock.restoreAll();
    process.env.LOGOLAB_QUIET = quiet;
  }
  assert.ok(lines.some((l) => /C\/acme\/1\.png shares the stem '1' with 1\.jpg, which is the image of 1\.xml; 1\.png is not ingested/.test(l)), lines.join(''));
});

test('a data dir prepared from one dataset is not synced with another unless --replace-dataset (a typo would delete its crops)', async () => {
  const root = tmpDir('logolab-otherds-');
  const [a, b, out] = [join(root, 'a'), join(root, 'b'), join(root, 'out')];
  await addImage(a, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box: [10, 10, 60, 50] }]);
  await addImage(b, 'C', 'other', '1', [0, 0, 200], [{ name: 'other', box: [10, 10, 60, 50] }]);
  await prepareDataset({ dataset: a, out, quiet: true });
  await assert.rejects(prepareDataset({ dataset: b, out, quiet: true }), new RegExp(`--out ${out}: was prepared from ${a}, not ${b}; .*--replace-dataset`));
  assert.deepEqual(labelsOf(out).gt, [{ f: 'C/acme/1.png', logo: 'acme' }]); // untouched
  await prepareDataset({ dataset: a, out, quiet: true }); // the same dataset again: fine
  const s = await prepareDataset({ dataset: b, out, quiet: true, replaceDataset: true });
  assert.equal(s.removed, 1);
  assert.deepEqual(labelsOf(out).gt, [{ f: 'C/other/1.png', logo: 'other' }]);
});

test('a box field that is not a number is named as such; an inverted box is empty', async () => {
  const root = tmpDir('logolab-nanbox-');
  const ds = join(root, 'ds');
  await addImage(ds, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box: [10, 10, 60, 50] }, { name: 'acme', box: [60, 10, 10, 50] }]);
  const xml = join(ds, 'C', 'acme', '1.xml');
  writeFileSync(xml, readFileSync(xml, 'utf8').replace('<xmin>10</xmin>', '<xmin>ten</xmin>'));
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.deepEqual(s.skipped, { degenerate_box: 2, no_valid_objects: 1 });
  const d = labelsOf(join(root, 'out')).skipped.map((r) => r.detail);
  assert.match(d[0]!, /object #0 \(acme\) box \[NaN, 10, 60, 50\] has no number in <xmin>$/);
  assert.match(d[1]!, /object #1 \(acme\) box \[60, 10, 10, 50\] is empty inside the 120x80 image$/);
});

test('accepted annotated images with EXIF orientation 2–4, or 5–8 on a square, are counted in one warning (their boxes fit either grid)', async (t) => {
  const root = tmpDir('logolab-exif3-');
  const ds = join(root, 'ds');
  mkdirSync(join(ds, 'C', 'acme'), { recursive: true });
  // 1, 2: turned 180° (3); 3: a square turned 90° (6); 4: a 120×80 turned 90° (<size> tells the grid); 5: orientation 3, no usable box
  for (const [stem, orientation, w, box] of [['1', 3, 120, [10, 10, 60, 50]], ['2', 3, 120, [10, 10, 60, 50]], ['3', 6, 80, [10, 10, 60, 50]], ['4', 6, 120, [10, 10, 60, 50]], ['5', 3, 120, [500, 500, 600, 600]]] as const) {
    // (another colour each: byte-identical images would be duplicate_image copies)
    await sharp({ create: { width: w, height: 80, channels: 3, background: { r: 9 * Number(stem), g: 9, b: 9 } } }).withMetadata({ orientation }).jpeg().toFile(join(ds, 'C', 'acme', `${stem}.jpg`));
    writeFileSync(join(ds, 'C', 'acme', `${stem}.xml`), writeVoc({ folder: 'acme', filename: `${stem}.jpg`, width: w, height: 80, objects: [{ name: 'acme', box: [...box] }] }));
  }
  const lines: string[] = [];
  const quiet = process.env.LOGOLAB_QUIET;
  delete process.env.LOGOLAB_QUIET;
  t.mock.method(process.stderr, 'write', (s: string) => (lines.push(String(s)), true));
  try {
    await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  } finally {
    t.mock.restoreAll();
    process.env.LOGOLAB_QUIET = quiet;
  }
  const warned = lines.filter((l) => /EXIF orientation/.test(l));
  assert.equal(warned.length, 1, lines.join(''));
  assert.match(warned[0]!, /3 annotated images have an EXIF orientation whose stored and displayed grids have one size \(2–4: mirrored or turned 180°; 5–8 on a square picture; e\.g\. C\/acme\/1\)/);
});

test('an image over the decoder\'s pixel limit is image_too_large naming the file, not corrupt', async () => {
  const root = tmpDir('logolab-huge-');
  const ds = join(root, 'ds');
  await addImage(ds, 'C', 'acme', '1', [0, 128, 0], [{ name: 'acme', box: [10, 10, 60, 50] }]);
  const huge = join(ds, 'C', 'acme', '2.png');
  writeFileSync(huge, oversizedPng());
  writeFileSync(join(ds, 'C', 'acme', '2.xml'), writeVoc({ folder: 'acme', filename: '2.png', width: 20000, height: 20000, objects: [{ name: 'acme', box: [10, 10, 60, 50] }] }));
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.deepEqual(s.skipped, { image_too_large: 1 });
  assert.deepEqual(labelsOf(join(root, 'out')).skipped.map((r) => r.detail), [`${huge}: more pixels than the decoder accepts (sharp's limit, 16383 × 16383); downscale it`]);
});

test('a brand folder or file whose name is not valid UTF-8 is refused naming it (was dropped silently, or a false "no such file")', async (t) => {
  const root = tmpDir('logolab-utf8-');
  const ds = join(root, 'ds');
  await addImage(ds, 'C', 'B', 'b1', [0, 128, 0], [{ name: 'B', box: [10, 10, 60, 50] }]);
  const latin1 = (dir: string, pre: string, post: string) => Buffer.concat([Buffer.from(`${dir}/${pre}`), Buffer.from([0xe4]), Buffer.from(post)]);
  try {
    mkdirSync(latin1(join(ds, 'C'), 'Br', 'nd'));
  } catch {
    return t.skip('this file system refuses names that are not UTF-8');
  }
  await assert.rejects(() => prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true }), (e: Error) => {
    assert.equal(e.name, 'LogolabError');
    assert.match(e.message, new RegExp(`^${join(ds, 'C')}/Br\\\\xe4nd: the file name is not valid UTF-8`));
    return true;
  });
});
