/**
 * prepare killed (SIGKILL, power loss) at points the child-process test in prepare.test.ts does not
 * reach: each test writes the state such a kill leaves, then checks that the re-run finishes
 * exactly as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { DataDbWriter } from '../../src/data/db-writer.js';
import { linkOrCopy } from '../../src/data/sync.js';
import { DB_FILENAME } from '../../src/data/db-schema.js';
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
  const ds = await dataset(root);
  const full = join(root, 'full');
  await prepareDataset({ dataset: ds, out: full, quiet: true });
  const all = openDataDb(full);
  const refs = all.referenceCrops().length;
  all.close();
  // killed after 2 sources (SIGKILL reaches no finally: the abort hook's throw leaves the same rows)
  const out = join(root, 'out');
  await assert.rejects(prepareDataset({ dataset: ds, out, quiet: true, abortAfter: 2 }), /aborted after 2 sources/);
  assert.throws(() => openDataDb(out), (e: Error) => e instanceof LogolabError && /out: an unfinished `logolab prepare` \(.*2 sources recorded\): run prepare again/.test(e.message));
  assert.throws(() => referenceCropsByLogo(out), /an unfinished `logolab prepare`/);
  await prepareDataset({ dataset: ds, out, quiet: true });
  const db = openDataDb(out);
  assert.equal(db.referenceCrops().length, refs);
  db.close();
});
