/**
 * Folder layout: a test image's name written in NFD (as macOS writes file names) names the same
 * logo as its reference folder written in NFC, and the other way round — not a silent negative.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/run.js';
import { tmpDir } from '../helpers.js';
import { encodePng, makeImage } from '../../src/preprocess/image.js';
import { expectedLogosFromFilename } from '../../src/data/folders.js';
import { openDataDb } from '../../src/data/db.js';

const ROOT = tmpDir('logolab-nfd-');
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

const NFC = 'Nestlé'.normalize('NFC');
const NFD = 'Nestlé'.normalize('NFD');

describe('folder layout: Unicode normalisation of names', () => {
  it('expectedLogosFromFilename matches an NFD file name to an NFC logo and vice versa', () => {
    assert.notEqual(NFC, NFD);
    assert.deepEqual(expectedLogosFromFilename(`${NFD.toLowerCase()}_1.jpg`, [NFC]), [NFC]);
    assert.deepEqual(expectedLogosFromFilename(`${NFC}_1.jpg`, [NFD]), [NFD]);
    assert.deepEqual(expectedLogosFromFilename(`${NFD}+acme_1.jpg`, ['acme', NFC]), ['acme', NFC].sort());
    assert.deepEqual(expectedLogosFromFilename('nestle_1.jpg', [NFC]), [], 'without the accent it is another name');
  });

  it('prepare labels an NFD-named test image with the NFC reference folder', async () => {
    const ds = join(ROOT, 'ds');
    mkdirSync(join(ds, `${NFC}_reference_images`), { recursive: true });
    mkdirSync(join(ds, 'test_images'), { recursive: true });
    const png = await encodePng(makeImage(16, 16));
    writeFileSync(join(ds, `${NFC}_reference_images`, 'r.png'), png);
    writeFileSync(join(ds, 'test_images', `${NFD.toLowerCase()}_1.png`), png);
    writeFileSync(join(ds, 'test_images', `${NFC.toLowerCase()}_2.png`), png);
    const out = join(ROOT, 'out');
    const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).negativeImages, 0);
    const db = openDataDb(out);
    try {
      const gt = db.groundTruthAll();
      const labels = db.testImages().map((t) => [t.file.normalize('NFC'), (gt.get(t.id) ?? []).map((g) => g.logoName)]);
      assert.deepEqual(labels.sort(), [[`${NFC.toLowerCase()}_1.png`, [NFC]], [`${NFC.toLowerCase()}_2.png`, [NFC]]]);
    } finally {
      db.close();
    }
  });
});
