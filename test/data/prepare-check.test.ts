/**
 * prepare's first phase (every XML parsed, every file hashed: ~30 s for LogoDet-3K's 158k sources
 * on this machine) shows progress, and a re-run's forgetting of changed sources finds their skipped
 * rows through an index rather than a scan of the whole table per source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stderrOf, tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { DB_FILENAME } from '../../src/data/db-schema.js';

test('prepare: the check of every source shows progress on stderr; skipped rows are found by source through an index', async () => {
  const root = tmpDir('logolab-prep-check-');
  const ds = join(root, 'ds');
  await synthesize({ out: ds, brands: 2, seed: 5, imagesPerBrand: 2, negatives: 0, quiet: true, minSide: 96, maxSide: 128 });
  const out = join(root, 'out');
  const { value: s, err } = await stderrOf(() => prepareDataset({ dataset: ds, out }));
  const n = s.ingestedImages;
  assert.ok(n > 0);
  assert.match(err, new RegExp(`check 100% ${n}/${n} src .*${n} sources hashed`), err);
  // the check comes before the first ingested image
  assert.ok(err.indexOf('sources hashed') < err.indexOf('prepare '), err);
  const db = new Database(join(out, DB_FILENAME), { readonly: true });
  try {
    const plan = db.prepare('EXPLAIN QUERY PLAN DELETE FROM skipped WHERE source = ?').all('x') as { detail: string }[];
    assert.ok(plan.some((r) => /USING (COVERING )?INDEX idx_skipped_source/.test(r.detail)), JSON.stringify(plan));
  } finally {
    db.close();
  }
});
