/**
 * Fault trials: filesystem errors (injected: we run as root, so chmod does not bite). Each is one
 * `logolab: error:` line naming the path and the cause, exit 1, and what was there before is intact.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { cli, expectFailure, expectOk, expectUnchanged, snapshot, withFsFault } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel, dataDir, loraRun } from './fixtures.js';
import Database from 'better-sqlite3';
import { DataDb, openDataDb } from '../../src/data/db.js';
import { DB_FILENAME } from '../../src/data/db-schema.js';
import { encodePng, makeImage } from '../../src/preprocess/image.js';
import { writeVoc } from '../../src/data/voc.js';

const IMG = join(FIXTURES, 'images/small_40x23.png');

describe('fault trials: filesystem errors', () => {
  before(async () => {
    await loraRun();
    await dataDir();
  });

  it('EROFS: export onto a read-only filesystem; the earlier export is intact', async () => {
    const run = await loraRun();
    const ro = join(ROOT_TMP, 'ro');
    const out = join(ro, 'model');
    expectOk(await cli('export', '--checkpoint', run.last, '--out', out, ...BACKEND));
    const before = snapshot(ro);
    const r = await withFsFault('EROFS', ro, () => cli('export', '--checkpoint', run.last, '--out', out, '--format', 'hf', ...BACKEND));
    expectFailure(r, 1, /ro\/model.*read-only file system/);
    expectUnchanged(before);
    assert.deepEqual(readdirSync(ro), ['model'], 'no temp folder left behind');
  });

  it('ENOSPC: embed --out on a full disk; no partial file, the earlier output intact', async () => {
    const full = join(ROOT_TMP, 'full');
    const out = join(full, 'emb.jsonl');
    expectOk(await cli('embed', IMG, '--model', await baseModel(), '--out', out, ...BACKEND));
    const before = snapshot(full);
    const model = await baseModel();
    const r = await withFsFault('ENOSPC', full, () => cli('embed', IMG, join(FIXTURES, 'images/wide_300x200.png'), '--model', model, '--out', out, ...BACKEND));
    expectFailure(r, 1, /full\/emb\.jsonl.*no space left on device/);
    expectUnchanged(before);
    assert.deepEqual(readdirSync(full), ['emb.jsonl'], 'no temp file left behind');
  });

  it('ENOSPC while an export is being built: the message names the target file, no temp folder is left', async () => {
    const run = await loraRun();
    const dir = join(ROOT_TMP, 'nospc-export');
    mkdirSync(dir, { recursive: true });
    const r = await withFsFault('ENOSPC', dir, () => cli('export', '--checkpoint', run.last, '--out', join(dir, 'model'), ...BACKEND));
    expectFailure(r, 1, /nospc-export\/model\/(model|adapter)[^ ]*: no space left on device \(ENOSPC\)/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('EACCES: eval --json into a folder we may not write', async () => {
    const dir = join(ROOT_TMP, 'acc');
    mkdirSync(dir, { recursive: true });
    const r = await withFsFault('EACCES', dir, async () => cli('eval', '--data', await dataDir(), '--model', await baseModel(), '-n', '2', '--no-cache', '--json', join(dir, 'result.json'), ...BACKEND));
    expectFailure(r, 1, /acc\/result\.json.*permission denied/);
  });

  it('EPERM: convert --out where the filesystem forbids it', async () => {
    const dir = join(ROOT_TMP, 'perm');
    mkdirSync(dir, { recursive: true });
    const r = await withFsFault('EPERM', dir, () => cli('convert', join(FIXTURES, 'clip_tiny/model'), '--out', join(dir, 'model')));
    expectFailure(r, 1, /perm\/model.*operation not permitted/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('EISDIR: embed --out naming an existing folder', async () => {
    const dir = join(ROOT_TMP, 'isdir.jsonl');
    mkdirSync(dir, { recursive: true });
    const before = snapshot(dir);
    expectFailure(await cli('embed', IMG, '--model', await baseModel(), '--out', dir, ...BACKEND), 1, /isdir\.jsonl.*(is a directory|is a folder)/);
    expectUnchanged(before);
  });

  it('ENOTDIR: --out below a regular file', async () => {
    const file = join(ROOT_TMP, 'plain-file');
    writeFileSync(file, 'x');
    expectFailure(await cli('embed', IMG, '--model', await baseModel(), '--out', join(file, 'e.jsonl'), ...BACKEND), 1, /plain-file.*not a directory/);
  });

  it('--cache below a regular file names the file in the way', async () => {
    const file = join(ROOT_TMP, 'cache-parent-file');
    writeFileSync(file, 'x');
    expectFailure(await cli('eval', '--data', await dataDir(), '--model', await baseModel(), '-n', '2', '--cache', join(file, 'c.sqlite'), ...BACKEND), 1, /cache-parent-file is not a directory/);
  });

  it('ENOENT: eval --output-file in a folder that does not exist', async () => {
    const r = await cli('eval', '--data', await dataDir(), '--model', await baseModel(), '-n', '2', '--no-cache', '--output-file', join(ROOT_TMP, 'no', 'such', 'dir', 'r.txt'), ...BACKEND);
    expectFailure(r, 1, /no\/such\/dir\/r\.txt.*no such file or directory/);
  });

  it('ENOSPC during prepare: one line; the data dir stays consistent and a re-run completes it', async () => {
    const ds = join(ROOT_TMP, 'prep-full-ds');
    mkdirSync(join(ds, 'Cat', 'acme'), { recursive: true });
    for (let i = 1; i <= 3; i++) {
      const img = makeImage(32, 24);
      img.data.fill(60 * i);
      writeFileSync(join(ds, 'Cat', 'acme', `${i}.png`), await encodePng(img));
      writeFileSync(join(ds, 'Cat', 'acme', `${i}.xml`), writeVoc({ folder: 'acme', filename: `${i}.png`, width: 32, height: 24, objects: [{ name: 'acme', box: [4, 4, 20, 20] }] }));
    }
    const out = join(ROOT_TMP, 'prep-full');
    const r = await withFsFault('ENOSPC', join(out, 'reference_logos'), () => cli('prepare', '--dataset', ds, '--out', out, '--concurrency', '1'));
    expectFailure(r, 1, /reference_logos\/Cat\/acme\/1_0\.jpg.*no space left on device/);
    // unfinished: its readers refuse it; its rows are read past that check
    assert.throws(() => openDataDb(out), /an unfinished `logolab prepare`/);
    const db = new DataDb(out, new Database(join(out, DB_FILENAME), { readonly: true }));
    try {
      assert.equal(db.stats().referenceCrops, 0, 'no row without its file');
    } finally {
      db.close();
    }
    expectOk(await cli('prepare', '--dataset', ds, '--out', out));
    const db2 = openDataDb(out);
    try {
      assert.equal(db2.stats().referenceCrops, 3);
    } finally {
      db2.close();
    }
  });

  it('ENOSPC while writing a compare report: the earlier report files are intact', async () => {
    const rep = join(ROOT_TMP, 'report-full');
    const args = ['compare', '--data', await dataDir(), '--baseline', await baseModel(), '--candidate', await baseModel(), '--report', rep, '-n', '2', '--no-cache', ...BACKEND];
    expectOk(await cli(...args));
    const before = snapshot(rep);
    const r = await withFsFault('ENOSPC', rep, () => cli(...args));
    expectFailure(r, 1, /report-full\/report\.\w+.*no space left on device/);
    expectUnchanged(before);
  });

  it('EROFS at the start of training (checkpoint_dir not writable): one line, nothing trained', async () => {
    const ck = join(ROOT_TMP, 'ro-train', 'checkpoints');
    const r = await withFsFault('EROFS', join(ROOT_TMP, 'ro-train'), async () =>
      cli('train', '--base-model', 'preset:tiny', '--db-path', await dataDir(), '--split-level', 'image', '--lora-r', '0', '--freeze-layers', '0', '--logos-per-batch', '2', '--samples-per-logo', '2',
        '--gradient-accumulation-steps', '1', '--batches-per-epoch', '1', '--max-epochs', '1', '--checkpoint-dir', ck, '--skip-export', ...BACKEND));
    expectFailure(r, 1, /ro-train\/checkpoints.*read-only file system/);
    assert.ok(!existsSync(ck));
  });
});
