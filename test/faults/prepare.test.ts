/**
 * Fault trials: data preparation. `prepare` notices changed sources (by content, not size/mtime),
 * deleted outputs and removed sources, warns about empty brand folders, refuses special files,
 * and ingests the Burnley folder layout (evaluated the same as `eval --folders`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, expectFailure, expectOk, expectUnchanged, snapshot } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel, dataDir } from './fixtures.js';
import { encodePng, makeImage } from '../../src/preprocess/image.js';
import { writeVoc } from '../../src/data/voc.js';
import { openDataDb } from '../../src/data/db.js';
import { makeTinyFolders } from '../eval/tinydata.js';

/** A LogoDet-3K-layout dataset: 2 brands × 3 scenes, one box each (PNG + VOC XML). */
async function makeDataset(name: string): Promise<string> {
  const root = join(ROOT_TMP, name);
  for (const [b, colour] of [['acme', [200, 40, 40]], ['zeta', [40, 40, 200]]] as const) {
    const dir = join(root, 'Cat', b);
    mkdirSync(dir, { recursive: true });
    for (let i = 1; i <= 3; i++) {
      const img = makeImage(40, 30);
      for (let p = 0; p < 40 * 30; p++) for (let k = 0; k < 3; k++) img.data[p * 3 + k] = p % 40 >= 8 && p % 40 < 24 && p / 40 >= 6 && p / 40 < 20 ? colour[k]! : 128 + i;
      writeFileSync(join(dir, `${i}.png`), await encodePng(img));
      writeFileSync(join(dir, `${i}.xml`), writeVoc({ folder: b, filename: `${i}.png`, width: 40, height: 30, objects: [{ name: b, box: [8, 6, 24, 20] }] }));
    }
  }
  return root;
}

const rows = (out: string) => {
  const db = openDataDb(out);
  try {
    return {
      refs: db.referenceCrops().map((c) => `${c.logoName}:${c.file}:${c.box?.join(',')}`).sort(),
      images: db.testImages().map((t) => t.file).sort(),
      stats: db.stats(),
    };
  } finally {
    db.close();
  }
};

async function prepare(ds: string, out: string) {
  const r = await cli('prepare', '--dataset', ds, '--out', out);
  expectOk(r);
  return r;
}

describe('fault trials: data preparation', () => {
  it('an XML edited in place (same size, same mtime) is re-ingested: the new box is used', async () => {
    const ds = await makeDataset('ds-xml');
    const out = join(ROOT_TMP, 'data-xml');
    await prepare(ds, out);
    const xml = join(ds, 'Cat', 'acme', '2.xml');
    const st = statSync(xml);
    const text = readFileSync(xml, 'utf8');
    const edited = text.replace('<xmin>8</xmin>', '<xmin>9</xmin>');
    assert.equal(edited.length, text.length);
    writeFileSync(xml, edited);
    utimesSync(xml, st.atime, st.mtime);
    await prepare(ds, out);
    assert.ok(rows(out).refs.some((r) => r.startsWith('acme:Cat/acme/2_0') && r.endsWith(':9,6,24,20')), JSON.stringify(rows(out).refs));
    assert.equal(rows(out).stats.referenceCrops, 6);
  });

  it('an image replaced by another is re-ingested: crop and test image follow the new bytes', async () => {
    const ds = await makeDataset('ds-img');
    const out = join(ROOT_TMP, 'data-img');
    await prepare(ds, out);
    const src = join(ds, 'Cat', 'zeta', '1.png');
    const img = makeImage(40, 30);
    img.data.fill(7);
    rmSync(src); // a new file (breaks the hard link into the data dir)
    writeFileSync(src, await encodePng(img));
    await prepare(ds, out);
    assert.deepEqual(readFileSync(join(out, 'test_images', 'Cat', 'zeta', '1.png')), readFileSync(src));
    assert.equal(rows(out).stats.testImages, 6);
  });

  it('deleted outputs (a crop, a test image) are restored by the next run', async () => {
    const ds = await makeDataset('ds-del');
    const out = join(ROOT_TMP, 'data-del');
    await prepare(ds, out);
    const crop = join(out, 'reference_logos', 'Cat', 'acme', '3_0.jpg');
    const test = join(out, 'test_images', 'Cat', 'zeta', '2.png');
    const want = snapshot(crop, test);
    rmSync(crop);
    rmSync(test);
    await prepare(ds, out);
    expectUnchanged(want, 'restored outputs');
    assert.equal(rows(out).stats.referenceCrops, 6);
  });

  it('a source removed from the dataset is removed from the data dir (no stale ground truth)', async () => {
    const ds = await makeDataset('ds-rm');
    const out = join(ROOT_TMP, 'data-rm');
    await prepare(ds, out);
    rmSync(join(ds, 'Cat', 'acme', '1.png'));
    rmSync(join(ds, 'Cat', 'acme', '1.xml'));
    const r = await prepare(ds, out);
    assert.match(r.stderr, /1 source.* no longer in the dataset/);
    assert.deepEqual(rows(out).images.filter((f) => f.startsWith('Cat/acme/1.')), []);
    assert.ok(!existsSync(join(out, 'reference_logos', 'Cat', 'acme', '1_0.jpg')));
  });

  it('an empty brand folder is a warning naming it', async () => {
    const ds = await makeDataset('ds-empty');
    mkdirSync(join(ds, 'Cat', 'hollow'));
    const r = await prepare(ds, join(ROOT_TMP, 'data-empty'));
    assert.match(r.stderr, /warn.*Cat\/hollow.*(empty|no images)/);
  });

  it('a FIFO named like an image is refused (skipped, named) instead of hanging the run', { timeout: 60_000 }, async () => {
    const ds = await makeDataset('ds-fifo');
    execFileSync('mkfifo', [join(ds, 'Cat', 'acme', '4.png')]);
    writeFileSync(join(ds, 'Cat', 'acme', '4.xml'), writeVoc({ folder: 'acme', filename: '4.png', width: 40, height: 30, objects: [{ name: 'acme', box: [8, 6, 24, 20] }] }));
    const out = join(ROOT_TMP, 'data-fifo');
    const r = await prepare(ds, out);
    const db = openDataDb(out);
    try {
      const sk = db.skipped();
      assert.ok(sk.some((s) => s.source === 'Cat/acme/4' && /FIFO|not a regular file/.test(s.detail)), JSON.stringify(sk));
    } finally {
      db.close();
    }
    assert.ok(r.stdout.length > 0);
  });

  it('prepare ingests the Burnley folder layout; eval --data on it equals eval --folders', async () => {
    const root = join(ROOT_TMP, 'burnley');
    await makeTinyFolders(root);
    const out = join(ROOT_TMP, 'data-burnley');
    const r = await prepare(root, out);
    const s = JSON.parse(r.stdout);
    assert.equal(s.layout, 'folders');
    const st = rows(out).stats;
    assert.ok(st.referenceCrops >= 6 && st.testImages >= 4, JSON.stringify(st));
    const model = await baseModel();
    const a = await cli('eval', '--data', out, '--model', model, '--detector', 'whole-image', '--no-cache', '--no-retrieval', ...BACKEND);
    const b = await cli('eval', '--folders', root, '--model', model, '--detector', 'whole-image', '--no-cache', '--no-retrieval', ...BACKEND);
    expectOk(a);
    expectOk(b);
    const metrics = (x: string) => x.split('\n').filter((l) => /Precision|Recall|F1|True Positives|False Positives/.test(l)).join('\n');
    assert.ok(metrics(a.stdout).length > 0);
    assert.equal(metrics(a.stdout), metrics(b.stdout));
    // a second run changes nothing
    const before = snapshot(join(out, 'reference_logos'), join(out, 'test_images'));
    const rowsBefore = JSON.stringify(rows(out));
    assert.equal(JSON.parse((await prepare(root, out)).stdout).processed, 0);
    expectUnchanged(before);
    assert.equal(JSON.stringify(rows(out)), rowsBefore);
  });

  it('prepare of one layout into a data dir of the other is refused', async () => {
    const root = join(ROOT_TMP, 'burnley2');
    await makeTinyFolders(root);
    const out = join(ROOT_TMP, 'data-mixed');
    await prepare(await makeDataset('ds-mixed'), out);
    const before = snapshot(out);
    expectFailure(await cli('prepare', '--dataset', root, '--out', out), 1, /data-mixed.*(layout|LogoDet)/);
    expectUnchanged(before);
  });

  it('prepare --out inside --dataset is refused', async () => {
    const ds = await makeDataset('ds-inside');
    expectFailure(await cli('prepare', '--dataset', ds, '--out', join(ds, 'prepared')), 1, /must not be inside --dataset/);
  });

  it('eval on a data dir whose database is not a database says so in one line', async () => {
    const dir = join(ROOT_TMP, 'fake-data');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'test_data_mapping.db'), 'this is not sqlite\n'.repeat(100));
    expectFailure(await cli('eval', '--data', dir, '--model', await baseModel(), ...BACKEND), 1, /test_data_mapping\.db.*not a logolab data database/);
  });

  it('a second prepare of an unchanged dataset changes nothing', async () => {
    const data = await dataDir();
    void data;
    const ds = await makeDataset('ds-same');
    const out = join(ROOT_TMP, 'data-same');
    await prepare(ds, out);
    const before = snapshot(join(out, 'reference_logos'), join(out, 'test_images'));
    const r = await prepare(ds, out);
    assert.equal(JSON.parse(r.stdout).processed, 0);
    expectUnchanged(before);
  });
});
