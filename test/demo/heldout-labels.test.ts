/**
 * The held-out check's data (scripts/heldout-eval.ts): removing brands also removes their
 * annotations from the other brands' scenes (else prepare files them under the scene's brand), and
 * the drawing-level labels come from renditions.json and group crops by drawing within a brand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { listBrands, shapes } from '../../src/data/synth/sources.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { byDrawing, removeBrands, REMOVED_MARKER, stripAnnotations } from '../../scripts/heldout-eval.js';

type Drawn = Record<string, { name: string; box: number[]; rendition: string }[]>;

test('held-out data: removed brands lose their annotations elsewhere; crops relabel by drawing', async () => {
  const root = tmpDir('logolab-heldout-');
  try {
    const synth = join(root, 'synthB');
    await synthesize({ out: synth, brands: 8, imagesPerBrand: 4, seed: 101, brandSet: 'B', minSide: 128, maxSide: 160, negatives: 0, quiet: true, recordRenditions: true });
    const drawn = JSON.parse(readFileSync(join(synth, 'renditions.json'), 'utf8')) as Drawn;
    // the brand most often drawn in other brands' scenes is removed
    const guests = new Map<string, number>();
    for (const [img, objs] of Object.entries(drawn)) for (const o of objs) if (o.name !== img.split('/')[1]) guests.set(o.name, (guests.get(o.name) ?? 0) + 1);
    const [gone, appearances] = [...guests].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
    assert.ok(appearances > 0);
    // a run killed after removing the folders, before stripping: the next one completes the job
    for (const cat of readdirSync(synth).filter((c) => statSync(join(synth, c)).isDirectory())) rmSync(join(synth, cat, gone), { recursive: true, force: true });
    const kept = Object.entries(drawn).filter(([img]) => img.split('/')[1] !== gone);
    const expected = kept.reduce((a, [, objs]) => a + objs.filter((o) => o.name === gone).length, 0);
    assert.ok(!existsSync(join(synth, REMOVED_MARKER)));
    assert.deepEqual(removeBrands(synth, new Set([gone])), { removed: 0, stripped: expected });
    assert.ok(existsSync(join(synth, REMOVED_MARKER)));
    assert.equal(stripAnnotations(synth, new Set([gone])), 0, 'idempotent');
    await prepareDataset({ dataset: synth, out: join(root, 'data'), quiet: true });

    const ds = datasetFromDataDir(join(root, 'data'));
    const images = new Map(ds.images.map((im) => [im.id, im.name]));
    assert.equal(ds.refs.length, kept.reduce((a, [, objs]) => a + objs.filter((o) => o.name !== gone).length, 0));
    // every crop carries the name of the object it was cut from (no removed brand filed under its host)
    for (const r of ds.refs) {
      const o = drawn[images.get(r.sourceImage!)!]!.find((x) => x.box.every((v, k) => v === r.box![k]))!;
      assert.equal(r.logo, o.name);
    }
    const dd = byDrawing(ds, join(synth, 'renditions.json'));
    const brands = new Map(listBrands('B').map((b) => [b.slug, b]));
    let split = 0;
    for (const [k, r] of dd.refs.entries()) {
      const brandRef = ds.refs[k]!;
      const o = drawn[images.get(brandRef.sourceImage!)!]!.find((x) => x.box.every((v, j) => v === brandRef.box![j]))!;
      const shape = shapes(brands.get(brandRef.logo)!).find((s) => s.label === r.logo);
      assert.ok(shape, `${r.logo} is a drawing of ${brandRef.logo}`);
      assert.ok(shape.renditions.some((x) => x.id === o.rendition), `${o.rendition} belongs to ${r.logo}`);
    }
    for (const b of new Set(ds.refs.map((r) => r.logo))) if (new Set(dd.refs.filter((_, k) => ds.refs[k]!.logo === b).map((r) => r.logo)).size > 1) split++;
    assert.ok(split > 0, 'some brand is drawn in more than one drawing');
    assert.deepEqual(dd.logos, [...new Set([...dd.refs.map((r) => r.logo), ...dd.images.flatMap((im) => im.gt.map((g) => g.logo))])].sort());
    assert.throws(() => byDrawing(ds, join(root, 'missing.json')), /missing/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
