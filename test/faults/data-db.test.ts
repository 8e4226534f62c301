/**
 * Fault trials: the prepared data database. A data dir from an older logolab (progress table
 * without `signature`) is brought up to date by prepare, which re-ingests its sources; a data DB
 * held locked by another process is reported as a lock after LOGOLAB_DB_BUSY_TIMEOUT_MS, not as a
 * foreign file; an SQLite fault no wrapper caught still names the file and SQLite's message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectFailure, runCli } from '../cli/run.js';
import { tmpDir } from '../helpers.js';
import { encodePng, makeImage } from '../../src/preprocess/image.js';
import { writeVoc } from '../../src/data/voc.js';
import { openDataDb } from '../../src/data/db.js';

const ROOT = tmpDir('logolab-datadb-');
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

/** 2 brands × 2 scenes (PNG + VOC XML), prepared into `out`; returns the dataset root. */
async function prepared(name: string): Promise<{ ds: string; out: string; db: string }> {
  const ds = join(ROOT, `${name}-ds`);
  for (const [b, shade] of [['acme', 60], ['zeta', 180]] as const) {
    const dir = join(ds, 'Cat', b);
    mkdirSync(dir, { recursive: true });
    for (const i of [1, 2]) {
      const img = makeImage(40, 30);
      for (let p = 0; p < img.data.length; p++) img.data[p] = (shade + i * 5 + (p % 3) * 20) & 255;
      writeFileSync(join(dir, `${i}.png`), await encodePng(img));
      writeFileSync(join(dir, `${i}.xml`), writeVoc({ folder: b, filename: `${i}.png`, width: 40, height: 30, objects: [{ name: b, box: [8, 6, 24, 20] }] }));
    }
  }
  const out = join(ROOT, `${name}-out`);
  const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return { ds, out, db: join(out, 'test_data_mapping.db') };
}

describe('fault trials: the data database', () => {
  it('prepare on a data dir from an older logolab (progress without signature) re-ingests it and then settles', async () => {
    const { ds, out, db } = await prepared('old');
    // the progress table as an older logolab wrote it (schema_version still 1)
    const old = new Database(db);
    old.exec('CREATE TABLE p2 (source TEXT PRIMARY KEY, status TEXT NOT NULL, kind TEXT); INSERT INTO p2 SELECT source, status, kind FROM progress; DROP TABLE progress; ALTER TABLE p2 RENAME TO progress;');
    old.close();
    const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.changed, 4, 'the older run\'s sources are re-ingested as changed');
    assert.equal(s.totals.testImages, 4);
    assert.equal(s.totals.referenceCrops, 4);
    const again = JSON.parse((await runCli(['prepare', '--dataset', ds, '--out', out])).stdout);
    assert.equal(again.changed, 0);
    assert.equal(again.processed, 0);
  });

  it('an SQLite fault outside the wrappers is one line naming the file and SQLite\'s message', async () => {
    const { out, db } = await prepared('broken');
    const h = new Database(db);
    h.exec('DROP TABLE reference_logos');
    h.close();
    expectFailure(await runCli(['bench', 'loader', '--data', out, '--seconds', '1']), 1, new RegExp(`${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such table: reference_logos \\(SQLITE_ERROR\\)`));
  });

  it('a data DB locked by another process is reported as locked, after LOGOLAB_DB_BUSY_TIMEOUT_MS', async () => {
    const { out, db } = await prepared('locked');
    const other = new Database(db);
    other.exec('BEGIN EXCLUSIVE');
    process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS = '300';
    try {
      const r = await runCli(['bench', 'loader', '--data', out, '--seconds', '1']);
      const line = expectFailure(r, 1, /test_data_mapping\.db: database is locked.*LOGOLAB_DB_BUSY_TIMEOUT_MS/);
      assert.doesNotMatch(line, /not a logolab data database/);
      // better-sqlite3's own default is 5 s: the env's 300 ms must be what applied (timed in this
      // process, without a CLI start-up that a loaded machine stretches)
      const t0 = Date.now();
      assert.throws(() => openDataDb(out), /database is locked/);
      const waited = Date.now() - t0;
      assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms: LOGOLAB_DB_BUSY_TIMEOUT_MS was not what applied`);
    } finally {
      delete process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS;
      other.exec('ROLLBACK');
      other.close();
    }
    // released: the same dir opens
    openDataDb(out).close();
  });

  it('a file that is not SQLite is still "not a logolab data database"', () => {
    const dir = join(ROOT, 'fake');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'test_data_mapping.db'), 'this is not sqlite\n'.repeat(100));
    assert.throws(() => openDataDb(dir), /test_data_mapping\.db: not a logolab data database/);
  });
});
