/**
 * prepare killed (SIGKILL, power loss) at points the child-process test in prepare.test.ts does not
 * reach: each test writes the state such a kill leaves, then checks that the re-run finishes
 * exactly as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { DataDbWriter } from '../../src/data/db-writer.js';
import { linkOrCopy } from '../../src/data/sync.js';
import Database from 'better-sqlite3';
import { DB_FILENAME, REFERENCE_DIR, TEST_IMAGES_DIR } from '../../src/data/db-schema.js';
import { openDataDb, referenceCropsByLogo } from '../../src/data/db.js';
import { LogolabError } from '../../src/errors.js';

process.env.LOGOLAB_QUIET = '1';

/** Every file below `dir` (dot files included) with its sha256; the database aside. */
function hashTree(dir: string): Record<string, string> {
  const m: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith(DB_FILENAME)) m[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return m;
}

async function dataset(root: string): Promise<string> {
  const ds = join(root, 'ds');
  await synthesize({ out: ds, brands: 2, seed: 5, imagesPerBrand: 2, negatives: 0, quiet: true, minSide: 96, maxSide: 128 });
  return ds;
}

/** A full prepare's reference-crop count, and a second prepare of the same data killed after 2 sources. */
async function killedAfterTwo(root: string): Promise<{ ds: string; refs: number; out: string }> {
  const ds = await dataset(root);
  const full = join(root, 'full');
  await prepareDataset({ dataset: ds, out: full, quiet: true });
  const all = openDataDb(full);
  const refs = all.referenceCrops().length;
  all.close();
  // killed after 2 sources (SIGKILL reaches no finally: the abort hook's throw leaves the same rows)
  const out = join(root, 'out');
  await assert.rejects(prepareDataset({ dataset: ds, out, quiet: true, abortAfter: 2 }), /aborted after 2 sources/);
  return { ds, refs, out };
}

test('linkOrCopy onto a link of the same file leaves no temp name beside it', () => {
  const root = tmpDir('logolab-link-');
  const src = join(root, 'src.jpg');
  writeFileSync(src, 'pixels');
  const dst = join(root, 'out', 'a.jpg');
  linkOrCopy(src, dst);
  linkOrCopy(src, dst); // rename() of two links to one file does nothing
  assert.deepEqual(readdirSync(join(root, 'out')), ['a.jpg']);
  assert.equal(readFileSync(dst, 'utf8'), 'pixels');
});

test('a run killed after linking a test image, before its transaction: the re-run leaves no temp file in test_images/', async () => {
  const root = tmpDir('logolab-prep-crash-');
  const ds = await dataset(root);
  const out = join(root, 'out');
  await prepareDataset({ dataset: ds, out, quiet: true });
  const clean = hashTree(out);
  // what the kill leaves: the source's crops and its test image (a hard link of the source image)
  // in place, its rows never committed
  const w = DataDbWriter.open(out);
  const key = [...w.doneSources().keys()].sort()[0]!;
  w.forgetSource(key); // rows only: the files stay, as after the kill
  w.close();
  const again = await prepareDataset({ dataset: ds, out, quiet: true });
  assert.equal(again.processed, 1);
  assert.deepEqual(hashTree(out), clean);
});

test('a data dir of a prepare killed mid-way is refused by its readers (eval, train) until a re-run finishes it', async () => {
  const root = tmpDir('logolab-prep-crash-');
  const { ds, refs, out } = await killedAfterTwo(root);
  assert.throws(() => openDataDb(out), (e: Error) => e instanceof LogolabError && /out: an unfinished `logolab prepare` \(.*2 sources recorded\): run prepare again/.test(e.message));
  assert.throws(() => referenceCropsByLogo(out), /an unfinished `logolab prepare`/);
  await prepareDataset({ dataset: ds, out, quiet: true });
  const db = openDataDb(out);
  assert.equal(db.referenceCrops().length, refs);
  db.close();
});

test('a --limit-brands run after a killed full prepare leaves the data dir unfinished; a full run finishes it', async () => {
  const root = tmpDir('logolab-prep-crash-');
  const { ds, refs, out } = await killedAfterTwo(root);
  // the limited run covers one of the two brands: the other stays as the killed run left it
  await prepareDataset({ dataset: ds, out, quiet: true, limitBrands: 1 });
  assert.throws(() => openDataDb(out), /an unfinished `logolab prepare`/);
  await prepareDataset({ dataset: ds, out, quiet: true });
  const db = openDataDb(out);
  assert.equal(db.referenceCrops().length, refs);
  db.close();
  // a limited prepare of a fresh dir is a finished (smaller) data dir, read as before
  const lim = join(root, 'lim');
  await prepareDataset({ dataset: ds, out: lim, quiet: true, limitBrands: 1 });
  openDataDb(lim).close();
});

test('a prepare killed as it created the data dir (empty folders, a 0-byte or schema-less database) is resumed by the re-run, not refused', async () => {
  const root = tmpDir('logolab-prep-crash-');
  const ds = await dataset(root);
  const full = join(root, 'full');
  await prepareDataset({ dataset: ds, out: full, quiet: true });
  const clean = hashTree(full);
  const killedAt: Record<string, (out: string) => void> = {
    // open() makes the folders, then the database
    folders: () => {},
    // the database file is created (0 bytes) before its first page is written
    'empty database': (out) => writeFileSync(join(out, DB_FILENAME), ''),
    // each CREATE TABLE of the schema commits on its own
    'part of the schema': (out) => {
      const db = new Database(join(out, DB_FILENAME));
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      db.close();
    },
  };
  for (const [what, leave] of Object.entries(killedAt)) {
    const out = join(root, what.replace(/ /g, '-'));
    mkdirSync(join(out, REFERENCE_DIR), { recursive: true });
    mkdirSync(join(out, TEST_IMAGES_DIR));
    leave(out);
    const sum = await prepareDataset({ dataset: ds, out, quiet: true });
    assert.equal(sum.alreadyDone, 0, what);
    assert.deepEqual(hashTree(out), clean, what);
    openDataDb(out).close();
  }
  // a folder holding anything else stays refused: a file in test_images/, a foreign database
  const foreign = join(root, 'foreign');
  mkdirSync(join(foreign, TEST_IMAGES_DIR), { recursive: true });
  writeFileSync(join(foreign, TEST_IMAGES_DIR, 'mine.jpg'), 'x');
  await assert.rejects(prepareDataset({ dataset: ds, out: foreign, quiet: true }), /folder is not empty and holds no test_data_mapping\.db/);
  const other = join(root, 'other-db');
  mkdirSync(other);
  const db = new Database(join(other, DB_FILENAME));
  db.exec('CREATE TABLE notes (t TEXT)');
  db.close();
  await assert.rejects(prepareDataset({ dataset: ds, out: other, quiet: true }), /no such table: meta/);
});
