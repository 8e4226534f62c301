/**
 * prepare on a tiny synth dataset with injected faults of every kind: completes, counts each
 * kind, the DB holds exactly the valid objects, a second run changes nothing, and a run killed
 * mid-way (SIGKILL in a child process) then re-run ends identical to an uninterrupted one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openDataDb } from '../../src/data/db.js';
import { DB_FILENAME } from '../../src/data/db-schema.js';
import { parseVoc, writeVoc } from '../../src/data/voc.js';

function hashTree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== DB_FILENAME) m.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return m;
}

function dbRows(dir: string) {
  const db = openDataDb(dir);
  try {
    const q = (t: string) => db.db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all();
    return { images: q('test_images'), gt: q('test_image_logos'), refs: q('reference_logos'), skipped: q('skipped'), logos: q('logo_names'), progress: q('progress') };
  } finally {
    db.close();
  }
}

async function makeFaultyDataset() {
  const root = tmpDir('logolab-prep-');
  const ds = join(root, 'ds');
  const s = await synthesize({ out: ds, brands: 3, seed: 5, imagesPerBrand: 4, negatives: 1, quiet: true, minSide: 128, maxSide: 192 });
  const [b0, b1, b2] = s.brands;
  const dir = (b: typeof b0) => join(ds, b!.category, b!.slug);
  const xml = (b: typeof b0, n: number) => join(dir(b), `${n}.xml`);
  const jpg = (b: typeof b0, n: number) => join(dir(b), `${n}.jpg`);
  const objs = (b: typeof b0, n: number) => parseVoc(readFileSync(xml(b, n), 'utf8')).objects.length;
  const injected: Record<string, string> = {};
  let lostObjects = 0;
  // malformed XML: truncated
  lostObjects += objs(b0, 1);
  const goodXml = { path: xml(b0, 1), text: readFileSync(xml(b0, 1), 'utf8'), objects: objs(b0, 1) };
  writeFileSync(xml(b0, 1), readFileSync(xml(b0, 1), 'utf8').slice(0, 120));
  injected.malformed_xml = `${b0!.category}/${b0!.slug}/1`;
  // missing image
  lostObjects += objs(b0, 2);
  rmSync(jpg(b0, 2));
  // corrupt JPEG: garbage after the header
  lostObjects += objs(b1, 1);
  const buf = readFileSync(jpg(b1, 1));
  writeFileSync(jpg(b1, 1), Buffer.concat([buf.subarray(0, 200), Buffer.alloc(400, 0x55)]));
  // missing xml: an image without annotation
  cpSync(jpg(b1, 2), join(dir(b1), 'orphan.jpg'));
  // box outside the image (clipped, ingested) + a degenerate box (skipped object) in one file
  const a = parseVoc(readFileSync(xml(b1, 3), 'utf8'));
  const meta = await sharp(jpg(b1, 3)).metadata();
  const o0 = a.objects[0]!;
  const clippedBox: [number, number, number, number] = [o0.box[0], o0.box[1], meta.width! + 40, o0.box[3]];
  writeFileSync(
    xml(b1, 3),
    writeVoc({ folder: b1!.slug, filename: '3.jpg', width: meta.width!, height: meta.height!, objects: [{ name: o0.name, box: clippedBox }, ...a.objects.slice(1), { name: b1!.slug, box: [50, 50, 50, 80] }] }),
  );
  // an image whose only object is degenerate → no_valid_objects
  const a4 = parseVoc(readFileSync(xml(b2, 4), 'utf8'));
  lostObjects += a4.objects.length;
  const meta4 = await sharp(jpg(b2, 4)).metadata();
  writeFileSync(xml(b2, 4), writeVoc({ folder: b2!.slug, filename: '4.jpg', width: meta4.width!, height: meta4.height!, objects: [{ name: b2!.slug, box: [-50, -50, -10, -10] }] }));
  // grayscale, CMYK JPEGs and a 16-bit PNG (converted + ingested)
  writeFileSync(jpg(b2, 1), await sharp(jpg(b2, 1)).toColourspace('b-w').jpeg().toBuffer());
  writeFileSync(jpg(b2, 2), await sharp(jpg(b2, 2)).toColourspace('cmyk').jpeg().toBuffer());
  const png16 = await sharp(jpg(b2, 3)).toColourspace('rgb16').png().toBuffer();
  rmSync(jpg(b2, 3));
  writeFileSync(join(dir(b2), '3.png'), png16);
  return { root, ds, s, lostObjects, b1, b2, clippedBox, goodXml };
}

test('prepare: every fault kind counted, DB holds exactly the valid objects, re-run is a no-op, kill + resume = clean run', async () => {
  const f = await makeFaultyDataset();
  const total = f.s.objects;
  const out = join(f.root, 'data');
  const sum = await prepareDataset({ dataset: f.ds, out, quiet: true });
  assert.deepEqual(sum.skipped, { malformed_xml: 1, missing_image: 1, corrupt_image: 1, missing_xml: 1, degenerate_box: 2, no_valid_objects: 1 });
  assert.deepEqual(sum.converted, { grayscale: 1, cmyk: 1, '16bit': 1 });
  assert.equal(sum.clippedBoxes, 1);
  // every object of the clean synth dataset, minus the ones in skipped sources
  assert.equal(sum.objects, total - f.lostObjects);
  const db = openDataDb(out);
  const st = db.stats();
  assert.equal(st.referenceCrops, total - f.lostObjects);
  assert.equal(st.groundTruthObjects, total - f.lostObjects);
  assert.equal(st.testImages, f.s.images - 4); // malformed, missing image, corrupt, no valid objects
  assert.equal(st.negativeImages, f.s.negatives);
  assert.deepEqual(st.skipped, { corrupt_image: 1, degenerate_box: 2, malformed_xml: 1, missing_image: 1, missing_xml: 1, no_valid_objects: 1 });
  // the clipped box was clipped to the image width; crop files exist with the recorded size
  const gt = [...db.groundTruthAll().values()].flat();
  const clipped = gt.filter((g) => g.clipped);
  assert.equal(clipped.length, 1);
  assert.equal(clipped[0]!.box![2], (await sharp(join(f.ds, f.b1!.category, f.b1!.slug, '3.jpg')).metadata()).width);
  for (const c of db.referenceCrops()) {
    const m = await sharp(c.path).metadata();
    assert.deepEqual([m.width, m.height], [c.width, c.height]);
    assert.deepEqual([c.box[2] - c.box[0], c.box[3] - c.box[1]], [c.width, c.height]);
  }
  // the 16-bit PNG is a test image and decodes; logo-to-images mapping is ORDER BY name
  assert.ok(db.testImages().some((t) => t.file.endsWith('3.png') && t.converted === '16bit'));
  const names = [...db.logoToImages().keys()];
  assert.deepEqual(names, names.slice().sort());
  // read API consistency: listLogos counts, per-image ground truth, negatives, skipped rows
  const logos = db.listLogos();
  assert.deepEqual(logos.map((l) => l.name), names);
  assert.equal(logos.reduce((a, l) => a + l.numReferences, 0), st.referenceCrops);
  for (const l of logos) assert.equal(db.referenceCrops(l.id).length, l.numReferences);
  const all = db.groundTruthAll();
  for (const t of db.testImages()) {
    assert.deepEqual(db.groundTruth(t.id), all.get(t.id));
    assert.equal(t.numObjects, all.get(t.id)!.length);
    assert.deepEqual(db.expectedLogos(t.id), new Set(all.get(t.id)!.map((g) => g.logoName)));
    assert.ok(statSync(t.path).size > 0);
  }
  assert.equal(db.skipped().length, 7);
  assert.throws(() => db.testImage(99999), /no test image with id 99999/);
  db.close();

  // second run: nothing changes (rows and file hashes)
  const rows1 = dbRows(out);
  const files1 = hashTree(out);
  const sum2 = await prepareDataset({ dataset: f.ds, out, quiet: true });
  assert.equal(sum2.processed, 0);
  assert.equal(sum2.alreadyDone, sum.sources);
  assert.deepEqual(dbRows(out), rows1);
  assert.deepEqual(hashTree(out), files1);

  // killed mid-way (SIGKILL after 5 sources, in a child process), then re-run → same as clean run
  const out2 = join(f.root, 'data2');
  const cli = [join(ROOT, 'bin/logolab.mjs'), 'prepare', '--dataset', f.ds, '--out', out2];
  // (the killed run imports prepare.ts directly — faster than loading every CLI command)
  const direct = `const { prepareDataset } = await import(${JSON.stringify(join(ROOT, 'src/data/prepare.ts'))}); await prepareDataset({ dataset: ${JSON.stringify(f.ds)}, out: ${JSON.stringify(out2)}, quiet: true });`;
  const killed = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', direct], { cwd: ROOT, env: { ...process.env, LOGOLAB_QUIET: '1', LOGOLAB_PREPARE_KILL_AFTER: '5' }, encoding: 'utf8' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  // simulate a crash between writing a crop and its transaction: a stray temp file
  appendFileSync(join(out2, 'reference_logos', '.x.jpg.123.4.tmp'), 'partial');
  const resumed = spawnSync(process.execPath, cli, { env: { ...process.env, LOGOLAB_QUIET: '1' }, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const rs = JSON.parse(resumed.stdout) as { alreadyDone: number; processed: number };
  assert.equal(rs.alreadyDone, 5);
  assert.equal(rs.processed, sum.sources - 5);
  assert.deepEqual(dbRows(out2), rows1);
  assert.deepEqual(hashTree(out2), files1);
  assert.ok(statSync(join(out2, DB_FILENAME)).size > 0);

  // fixing a skipped source's file and re-running ingests it (and only it)
  writeFileSync(f.goodXml.path, f.goodXml.text);
  const sum3 = await prepareDataset({ dataset: f.ds, out, quiet: true });
  assert.equal(sum3.processed, 1);
  assert.equal(sum3.objects, f.goodXml.objects);
  assert.equal(sum3.totals.referenceCrops, total - f.lostObjects + f.goodXml.objects);
  assert.equal(sum3.totals.skipped.malformed_xml, undefined);
  assert.equal(sum3.totals.skipped.missing_image, 1);
});

test('prepare: bad arguments are one-line errors', async () => {
  const root = tmpDir('logolab-prep-');
  await assert.rejects(prepareDataset({ dataset: join(root, 'nope'), out: join(root, 'o'), quiet: true }), /--dataset .*nope: not a folder/);
  const empty = tmpDir('logolab-prep-empty-');
  await assert.rejects(prepareDataset({ dataset: empty, out: join(root, 'o'), quiet: true }), /no <Category>\/<Brand>\/ folders/);
  await assert.rejects(prepareDataset({ dataset: empty, out: join(empty, 'o'), quiet: true }), /must not be inside --dataset/);
  assert.throws(() => openDataDb(join(root, 'none')), /no prepared database/);
});

test('prepare: a foreign non-empty --out is refused untouched; only a dead writer\'s temp files are removed', async () => {
  const root = tmpDir('logolab-prep-');
  const ds = join(root, 'ds');
  await synthesize({ out: ds, brands: 2, seed: 3, imagesPerBrand: 2, negatives: 0, quiet: true, minSide: 96, maxSide: 128 });
  const foreign = join(root, 'foreign');
  mkdirSync(join(foreign, 'test_images'), { recursive: true });
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  writeFileSync(join(foreign, 'test_images', '.x.jpg.1.2.tmp'), 'a temp-like name');
  const before = hashTree(foreign);
  await assert.rejects(prepareDataset({ dataset: ds, out: foreign, quiet: true }), /--out .*foreign: folder is not empty and holds no test_data_mapping\.db .*refusing to write into it/);
  assert.deepEqual(hashTree(foreign), before);
  assert.ok(!existsSync(join(foreign, DB_FILENAME)));
  // our own data dir: a temp of a live pid (this process) stays, one of a dead pid goes
  const out = join(root, 'out');
  await prepareDataset({ dataset: ds, out, quiet: true });
  const live = join(out, 'test_images', `.a.jpg.${process.pid}.1.tmp`);
  const dead = join(out, 'test_images', '.b.jpg.999999999.1.tmp');
  writeFileSync(live, 'x');
  writeFileSync(dead, 'x');
  await prepareDataset({ dataset: ds, out, quiet: true });
  assert.ok(existsSync(live) && !existsSync(dead));
});
