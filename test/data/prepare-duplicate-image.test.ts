/**
 * prepare: a source whose image has the same bytes as an earlier source's (LogoDet-3K has such
 * copies) is skipped as duplicate_image and named in a warning, so an image-level split cannot put
 * one photo in train and test; a re-run keeps the same copy as a fresh prepare.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openDataDb } from '../../src/data/db.js';
import { writeVoc } from '../../src/data/voc.js';
import { addImage } from './voc-source.js';

process.env.LOGOLAB_QUIET = '1';

/** A byte copy of <from>.png/.xml as <to> (in another brand folder when `toDir` is given). */
function copySource(ds: string, dir: string, from: string, to: string, toDir = dir): void {
  mkdirSync(join(ds, toDir), { recursive: true });
  for (const ext of ['.png', '.xml']) copyFileSync(join(ds, dir, from + ext), join(ds, toDir, to + ext));
}

/** prepare with warnings on (LOGOLAB_QUIET lifted for the call): its summary and the stderr lines. */
async function prepareWithWarnings(t: TestContext, dataset: string, out: string) {
  const lines: string[] = [];
  const quiet = process.env.LOGOLAB_QUIET;
  delete process.env.LOGOLAB_QUIET;
  t.mock.method(process.stderr, 'write', (x: string) => (lines.push(String(x)), true));
  try {
    return { summary: await prepareDataset({ dataset, out, quiet: true }), lines };
  } finally {
    t.mock.restoreAll();
    process.env.LOGOLAB_QUIET = quiet;
  }
}

function state(out: string) {
  const db = openDataDb(out);
  try {
    const q = (sql: string) => db.db.prepare(sql).all();
    return {
      images: (q('SELECT filename FROM test_images ORDER BY 1') as { filename: string }[]).map((r) => r.filename),
      crops: q('SELECT rl.filename, ln.name AS logo FROM reference_logos rl JOIN logo_names ln ON ln.id = rl.logo_name_id ORDER BY 1'),
      skipped: q('SELECT source, kind, detail FROM skipped ORDER BY 1') as { source: string; kind: string; detail: string }[],
      cropFiles: readdirSync(join(out, 'reference_logos'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jpg')).sort(),
    };
  } finally {
    db.close();
  }
}

test('an image with the same bytes as an earlier source is skipped as duplicate_image, counted, and named with its original in a warning', async (t) => {
  const root = tmpDir('logolab-dupimg-');
  const ds = join(root, 'ds');
  await addImage(ds, 'Food', 'Acme', 'p1', [200, 0, 0], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'Food', 'Acme', 'p2', [0, 200, 0], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  copySource(ds, 'Food/Acme', 'p1', 'p1_copy');
  const { summary: s, lines } = await prepareWithWarnings(t, ds, join(root, 'out'));
  assert.equal(s.ingestedImages, 2);
  assert.deepEqual(s.skipped, { duplicate_image: 1 });
  const st = state(join(root, 'out'));
  assert.deepEqual(st.images, ['Food/Acme/p1.png', 'Food/Acme/p2.png']);
  assert.deepEqual(st.cropFiles, ['Food/Acme/p1_0.jpg', 'Food/Acme/p2_0.jpg']);
  assert.equal(st.skipped.length, 1);
  assert.equal(st.skipped[0]!.source, 'Food/Acme/p1_copy');
  assert.match(st.skipped[0]!.detail, /Food\/Acme\/p1_copy\.png: the same bytes as .*Food\/Acme\/p1\.png/);
  const warn = lines.filter((l) => l.includes('duplicate_image'));
  assert.equal(warn.length, 1, lines.join(''));
  assert.match(warn[0]!, /^\[logolab\] warn: prepare: Food\/Acme\/p1_copy\.png has the same bytes as Food\/Acme\/p1\.png; .*\n$/);
  assert.equal(warn[0]!.split('\n').length, 2); // one line
});

test('duplicate_image on a re-run: the copy kept is the one a fresh prepare keeps, when the earlier copy appears or goes', async () => {
  const root = tmpDir('logolab-dupimg-rerun-');
  const ds = join(root, 'ds');
  const out = join(root, 'out');
  // stage 1: only the later copy (and another brand's copy of it, under its own XML) exists
  await addImage(ds, 'Tech', 'Bolt', 'x', [0, 0, 200], [{ name: 'Bolt', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'Tech', 'Bolt', 'y', [0, 100, 200], [{ name: 'Bolt', box: [5, 5, 40, 40] }]);
  const first = await prepareDataset({ dataset: ds, out, quiet: true });
  assert.equal(first.ingestedImages, 2);
  // stage 2: Food/Acme/a, a byte copy of Tech/Bolt/x, sorts first: a fresh prepare keeps it
  copySource(ds, 'Tech/Bolt', 'x', 'a', 'Food/Acme');
  const again = await prepareDataset({ dataset: ds, out, quiet: true });
  await prepareDataset({ dataset: ds, out: join(root, 'fresh'), quiet: true });
  assert.deepEqual(state(out), state(join(root, 'fresh')));
  assert.deepEqual(again.skipped, { duplicate_image: 1 });
  assert.deepEqual(state(out).images, ['Food/Acme/a.png', 'Tech/Bolt/y.png']);
  assert.deepEqual(state(out).cropFiles, ['Tech/Bolt/a_0@Food@Acme.jpg', 'Tech/Bolt/y_0.jpg']); // x's crop is gone (a's object is named Bolt)
  // stage 3: the kept copy goes; x is ingested again, as in a fresh prepare
  for (const ext of ['.png', '.xml']) writeFileSync(join(ds, 'Food/Acme', 'a' + ext), ''); // (an empty file: malformed XML)
  await prepareDataset({ dataset: ds, out, quiet: true });
  await prepareDataset({ dataset: ds, out: join(root, 'fresh2'), quiet: true });
  assert.deepEqual(state(out), state(join(root, 'fresh2')));
  assert.deepEqual(state(out).images, ['Tech/Bolt/x.png', 'Tech/Bolt/y.png']);
});

test('a copy annotating other logos (one photo under two brands) is ingested with its boxes and named in a warning', async (t) => {
  const root = tmpDir('logolab-dupimg-other-');
  const ds = join(root, 'ds');
  await addImage(ds, 'Food', 'Acme', 'p1', [200, 0, 0], [{ name: 'Acme', box: [5, 5, 40, 40] }]);
  await addImage(ds, 'Tech', 'Bolt', 'q', [0, 0, 200], [{ name: 'Bolt', box: [5, 5, 40, 40] }]);
  // the same photo filed under Bolt, annotating Bolt's box only
  copyFileSync(join(ds, 'Food/Acme/p1.png'), join(ds, 'Tech/Bolt/p1.png'));
  writeFileSync(join(ds, 'Tech/Bolt/p1.xml'), writeVoc({ folder: 'Bolt', filename: 'p1.png', width: 120, height: 80, objects: [{ name: 'Bolt', box: [60, 10, 100, 50] }] }));
  const { summary: s, lines } = await prepareWithWarnings(t, ds, join(root, 'out'));
  assert.deepEqual(s.skipped, {});
  assert.equal(s.ingestedImages, 3);
  const st = state(join(root, 'out'));
  assert.ok(st.cropFiles.includes('Tech/Bolt/p1_0.jpg'), st.cropFiles.join(' '));
  const warn = lines.filter((l) => l.includes('the same photo under two sources'));
  assert.equal(warn.length, 1, lines.join(''));
  assert.match(warn[0]!, /Tech\/Bolt\/p1\.png = Food\/Acme\/p1\.png: .*both are ingested/);
});
