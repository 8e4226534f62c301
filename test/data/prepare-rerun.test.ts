/**
 * prepare re-run into an existing data dir (LogoDet-3K layout): the result equals a fresh prepare
 * when brand folders were added (labels depend on the other folders), and --limit-brands removes
 * the data of a scanned brand folder that was emptied or deleted, as a run without it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpDir } from '../helpers.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openDataDb } from '../../src/data/db.js';
import { addImage } from './voc-source.js';

process.env.LOGOLAB_QUIET = '1';

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Everything a consumer reads, by name (row ids depend on the order of ingestion). */
function tables(out: string) {
  const db = openDataDb(out);
  try {
    const q = (sql: string) => db.db.prepare(sql).all();
    return {
      crops: q('SELECT rl.filename, ln.name AS logo, c.name AS category, i.filename AS image, rl.object_index FROM reference_logos rl JOIN logo_names ln ON ln.id = rl.logo_name_id JOIN categories c ON c.id = ln.category_id JOIN test_images i ON i.id = rl.test_image_id ORDER BY rl.filename'),
      gt: q('SELECT i.filename AS image, g.object_index, ln.name AS logo, c.name AS category FROM test_image_logos g JOIN test_images i ON i.id = g.test_image_id JOIN logo_names ln ON ln.id = g.logo_name_id JOIN categories c ON c.id = ln.category_id ORDER BY 1, 2'),
      logos: q('SELECT ln.name, c.name AS category FROM logo_names ln JOIN categories c ON c.id = ln.category_id ORDER BY 1'),
      images: q('SELECT filename FROM test_images ORDER BY 1'),
      skipped: q('SELECT source, object_index, kind FROM skipped ORDER BY 1, 2'),
      cropFiles: files(join(out, 'reference_logos')),
      imageFiles: files(join(out, 'test_images')),
    };
  } finally {
    db.close();
  }
}

test('a re-run after brand folders were added equals a fresh prepare (logo renamed by a same-named folder, object taken by a new folder)', async () => {
  const root = tmpDir('logolab-rerun-');
  const ds = join(root, 'ds');
  await addImage(ds, 'Tech', 'Acme', 't1', [0, 0, 200], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'Tech', 'Acme', 't2', [0, 0, 150], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'Food', 'Eat', 'e1', [200, 0, 0], [{ name: 'Eat', box: [5, 5, 40, 40] }, { name: 'Bolt', box: [50, 10, 100, 60] }]);
  const out = join(root, 'out');
  const first = await prepareDataset({ dataset: ds, out, quiet: true });
  assert.equal(first.totals.logos, 2); // Acme, Eat: no Bolt folder yet, its object is Eat's
  // Food/Acme sorts before Tech/Acme: it takes the name "Acme" and Tech's becomes "Acme (Tech)";
  // Tech/Bolt takes e1's object named Bolt
  await addImage(ds, 'Food', 'Acme', 'f1', [0, 200, 0], [{ name: 'Acme', box: [10, 10, 50, 50] }]);
  await addImage(ds, 'Tech', 'Bolt', 'b1', [0, 150, 0], [{ name: 'Bolt', box: [10, 10, 50, 50] }]);
  const again = await prepareDataset({ dataset: ds, out, quiet: true });
  const fresh = await prepareDataset({ dataset: ds, out: join(root, 'fresh'), quiet: true });
  assert.deepEqual(tables(out), tables(join(root, 'fresh')));
  assert.deepEqual(again.totals, fresh.totals);
  assert.equal(again.changed, 3); // t1, t2 (renamed logo) and e1 (object moved); the others are new
  assert.deepEqual(tables(out).logos, [
    { name: 'Acme', category: 'Food' },
    { name: 'Acme (Tech)', category: 'Tech' },
    { name: 'Bolt', category: 'Tech' },
    { name: 'Eat', category: 'Food' },
  ]);
  // unchanged dataset: a third run changes nothing
  const third = await prepareDataset({ dataset: ds, out, quiet: true });
  assert.equal(third.changed + third.processed + third.removed, 0);
  // and removing the folders again goes back: Tech/Acme is "Acme" again, e1's Bolt object is Eat's
  rmSync(join(ds, 'Food', 'Acme'), { recursive: true });
  rmSync(join(ds, 'Tech', 'Bolt'), { recursive: true });
  await prepareDataset({ dataset: ds, out, quiet: true });
  await prepareDataset({ dataset: ds, out: join(root, 'fresh2'), quiet: true });
  assert.deepEqual(tables(out), tables(join(root, 'fresh2')));
});

test('--limit-brands: a scanned brand folder that was emptied, or deleted, loses its data as without the limit; folders past the limit are left alone', async () => {
  const root = tmpDir('logolab-limit-');
  const ds = join(root, 'ds');
  await addImage(ds, 'A', 'Acme', 'a1', [10, 0, 0], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'A', 'Acme', 'a2', [20, 0, 0], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'B', 'Bolt', 'b1', [0, 10, 0], [{ name: 'Bolt', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'C', 'Cat', 'c1', [0, 0, 10], [{ name: 'Cat', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'D', 'Dog', 'd1', [0, 0, 20], [{ name: 'Dog', box: [5, 5, 40, 40] }]);
  const out = join(root, 'out');
  await prepareDataset({ dataset: ds, out, quiet: true });
  for (const f of readdirSync(join(ds, 'A', 'Acme'))) rmSync(join(ds, 'A', 'Acme', f)); // emptied: still a brand folder
  rmSync(join(ds, 'B', 'Bolt'), { recursive: true }); // deleted: sorts before C/Cat, the 2nd folder now
  const s = await prepareDataset({ dataset: ds, out, quiet: true, limitBrands: 2 });
  assert.equal(s.removed, 3);
  const t = tables(out);
  assert.deepEqual(t.images, [{ filename: 'C/Cat/c1.png' }, { filename: 'D/Dog/d1.png' }]); // D/Dog: past the limit, kept
  assert.deepEqual(t.cropFiles, ['C/Cat/c1_0.jpg', 'D/Dog/d1_0.jpg']);
  assert.deepEqual(t.logos.map((l) => (l as { name: string }).name), ['Cat', 'Dog']);
});

test('--limit-brands after a same-named folder of another category appears: the new folder\'s logo is not merged into the old rows past the limit', async () => {
  const root = tmpDir('logolab-limit-name-');
  const ds = join(root, 'ds');
  await addImage(ds, 'Tech', 'Acme', 't1', [0, 0, 200], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  const out = join(root, 'out');
  await prepareDataset({ dataset: ds, out, quiet: true });
  // Food/Acme sorts first and takes the name "Acme"; Tech/Acme (past the limit) would be "Acme (Tech)"
  await addImage(ds, 'Food', 'Acme', 'f1', [0, 200, 0], [{ name: 'Acme', box: [10, 10, 50, 50] }]);
  const s = await prepareDataset({ dataset: ds, out, quiet: true, limitBrands: 1 });
  await prepareDataset({ dataset: ds, out: join(root, 'fresh'), quiet: true, limitBrands: 1 });
  assert.equal(s.removed, 1);
  assert.deepEqual(tables(out), tables(join(root, 'fresh')));
  assert.deepEqual(tables(out).logos, [{ name: 'Acme', category: 'Food' }]);
  // the run without the limit brings Tech/Acme back under its own name
  await prepareDataset({ dataset: ds, out, quiet: true });
  await prepareDataset({ dataset: ds, out: join(root, 'fresh-all'), quiet: true });
  assert.deepEqual(tables(out), tables(join(root, 'fresh-all')));
});
