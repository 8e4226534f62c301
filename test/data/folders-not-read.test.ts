/**
 * Folder (Burnley) layout: it reads the image types the LogoDet-3K layout reads (.webp .tif .tiff
 * .bmp, the last decoded by src/preprocess/bmp.ts as libvips reads none) plus .gif, and every other file in its folders (another extension, anything in a subfolder) is
 * named in one warning and counted in prepare's summary (skipped.not_in_layout), never dropped
 * without a word. Hidden files (.DS_Store) are passed over, as in the LogoDet-3K layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../cli/run.js';
import { FIXTURES, tmpDir } from '../helpers.js';
import { readFolderDataset } from '../../src/data/folders.js';

const image = (fmt: 'png' | 'jpeg' | 'webp' | 'tiff' | 'gif') => sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 30, b: 30 } } }).toFormat(fmt).toBuffer();

async function dataset(root: string): Promise<string> {
  const ds = join(root, 'ds');
  const refs = join(ds, 'Acme_reference_images');
  const tests = join(ds, 'test_images');
  mkdirSync(join(tests, 'sub', 'deeper'), { recursive: true });
  mkdirSync(refs, { recursive: true });
  writeFileSync(join(refs, '1.png'), await image('png'));
  writeFileSync(join(refs, '2.webp'), await image('webp'));
  writeFileSync(join(refs, '3.gif'), await image('gif'));
  copyFileSync(join(FIXTURES, 'bmp', 'pil_rgb24.bmp'), join(refs, '4.bmp'));
  writeFileSync(join(refs, 'logo.svg'), '<svg/>');
  writeFileSync(join(tests, 'Acme_1.jpg'), await image('jpeg'));
  writeFileSync(join(tests, 'Acme_2.tif'), await image('tiff'));
  writeFileSync(join(tests, 'other_3.TIFF'), await image('tiff'));
  copyFileSync(join(FIXTURES, 'bmp', 'pal4.bmp'), join(tests, 'Acme_6.BMP'));
  writeFileSync(join(tests, 'notes.txt'), 'n\n');
  writeFileSync(join(tests, '.DS_Store'), 'x');
  writeFileSync(join(tests, 'sub', 'Acme_4.jpg'), await image('jpeg'));
  writeFileSync(join(tests, 'sub', 'deeper', 'Acme_5.png'), await image('png'));
  return ds;
}

const NOT_READ = ['Acme_reference_images/logo.svg', 'test_images/notes.txt', 'test_images/sub/Acme_4.jpg', 'test_images/sub/deeper/Acme_5.png'];

test('folder layout: reads .webp .tif .tiff .gif .bmp; names the files it does not read', async () => {
  const ds = await dataset(tmpDir('logolab-folders-notread-'));
  const fd = readFolderDataset(ds);
  assert.deepEqual(fd.logos[0]!.references.map((p) => p.slice(ds.length + 1)), ['Acme_reference_images/1.png', 'Acme_reference_images/2.webp', 'Acme_reference_images/3.gif', 'Acme_reference_images/4.bmp']);
  assert.deepEqual(fd.testImages.map((t) => [t.file, t.expected]), [['Acme_1.jpg', ['Acme']], ['Acme_2.tif', ['Acme']], ['Acme_6.BMP', ['Acme']], ['other_3.TIFF', []]]);
  assert.deepEqual(fd.notRead, NOT_READ);
});

test('prepare (folder layout): the files not read are counted as skipped.not_in_layout and named in one warning', async () => {
  const root = tmpDir('logolab-folders-notread-');
  const ds = await dataset(root);
  // two more, so the warning shows the first five and the count
  writeFileSync(join(ds, 'test_images', 'z1.psd'), 'p');
  writeFileSync(join(ds, 'test_images', 'z2.psd'), 'p');
  const r = await runCli(['prepare', '--dataset', ds, '--out', join(root, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { referenceImages: number; testImages: number; skipped: Record<string, number> };
  // the BMPs are ingested (libvips alone would have counted them as corrupt_image)
  assert.deepEqual([s.referenceImages, s.testImages], [4, 4]);
  assert.deepEqual(s.skipped, { not_in_layout: 6 });
  const warn = r.stderr.split('\n').filter((l) => /not read/.test(l));
  assert.equal(warn.length, 1, r.stderr);
  assert.match(warn[0]!, new RegExp(`^\\[logolab\\] warn: ${ds}: 6 files not read \\(the folder layout reads .*\\.webp .*\\.gif .*not in subfolders\\): ${NOT_READ.join(', ')}, test_images/z1\\.psd, … \\(6 in all\\)$`));
  // no "see the skipped table": these files are no sources and have no rows there
  assert.doesNotMatch(r.stderr, /skipped table/);
});
