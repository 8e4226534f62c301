/**
 * A source image that is a relative symlink (a dataset sharing pictures between brand folders)
 * must arrive in the data dir as the picture itself: a hard link of the symlink would dangle there
 * (its relative target means nothing inside test_images/), and every later run would re-ingest it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/run.js';
import { tmpDir } from '../helpers.js';
import { encodePng, makeImage } from '../../src/preprocess/image.js';
import { writeVoc } from '../../src/data/voc.js';

const ROOT = tmpDir('logolab-symlink-');
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

async function png(shade: number): Promise<Buffer> {
  const img = makeImage(40, 30);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i % 3 === 0 ? 200 : shade) & 255;
  return encodePng(img);
}

async function prepare(ds: string, out: string): Promise<Record<string, unknown>> {
  const r = await runCli(['prepare', '--dataset', ds, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** The file in the data dir is a readable regular file with the source picture's bytes. */
function expectCopyOf(placed: string, source: Buffer): void {
  assert.ok(lstatSync(placed).isFile(), `${placed} is a symlink, not the picture`);
  assert.deepEqual(readFileSync(placed), source);
}

describe('prepare: a relative-symlink source image', () => {
  it('LogoDet-3K layout: test_images/ holds the picture, not a dangling link, and a re-run settles', async () => {
    const ds = join(ROOT, 'ds');
    mkdirSync(join(ds, 'pictures'), { recursive: true });
    mkdirSync(join(ds, 'C', 'b'), { recursive: true });
    const bytes: Buffer[] = [];
    for (const i of [1, 2]) {
      bytes.push(await png(60 * i));
      writeFileSync(join(ds, 'pictures', `p${i}.png`), bytes[i - 1]!);
      symlinkSync(`../../pictures/p${i}.png`, join(ds, 'C', 'b', `${i}.png`));
      writeFileSync(join(ds, 'C', 'b', `${i}.xml`), writeVoc({ folder: 'b', filename: `${i}.png`, width: 40, height: 30, objects: [{ name: 'b', box: [0, 0, 30, 30] }] }));
    }
    const out = join(ROOT, 'out');
    await prepare(ds, out);
    for (const i of [1, 2]) expectCopyOf(join(out, 'test_images', 'C', 'b', `${i}.png`), bytes[i - 1]!);
    const again = await prepare(ds, out);
    assert.equal(again.restored, 0, 'a re-run found deleted outputs: the placed files are not readable');
    assert.equal(again.processed, 0);
  });

  it('folder layout: reference and test images that are relative symlinks are placed as pictures', async () => {
    const ds = join(ROOT, 'folders');
    mkdirSync(join(ds, 'pool'), { recursive: true });
    mkdirSync(join(ds, 'acme_reference_images'), { recursive: true });
    mkdirSync(join(ds, 'test_images'), { recursive: true });
    const ref = await png(30);
    const test = await png(90);
    writeFileSync(join(ds, 'pool', 'r.png'), ref);
    writeFileSync(join(ds, 'pool', 't.png'), test);
    symlinkSync('../pool/r.png', join(ds, 'acme_reference_images', 'r.png'));
    symlinkSync('../pool/t.png', join(ds, 'test_images', 'acme_1.png'));
    const out = join(ROOT, 'folders-out');
    await prepare(ds, out);
    expectCopyOf(join(out, 'reference_logos', 'acme', 'r.png'), ref);
    expectCopyOf(join(out, 'test_images', 'acme_1.png'), test);
    const again = await prepare(ds, out);
    assert.equal(again.restored, 0);
    assert.equal(again.processed, 0);
  });
});
