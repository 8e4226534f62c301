/**
 * `detect --visualize DIR` writes only into a folder it may replace: never one holding an input image
 * (the drawings would overwrite the photos), never a non-empty foreign folder; two inputs with one
 * name from different folders get two drawings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { drawingNames } from '../../cli/commands/detect.js';
import { expectFailure, runCli } from './run.js';

const IMAGES = join(FIXTURES, 'images');

test('drawingNames: the stem when free, the input index when another input took it', () => {
  assert.deepEqual(drawingNames(['/p/a.jpg', '/q/a.jpg', '/p/b.png', '/p/a.png', '/p/A.jpg']), ['a.png', 'a.1.png', 'b.png', 'a.3.png', 'A.4.png']);
  // an input whose own stem looks like a made-up name still gets a unique drawing
  const n = drawingNames(['/p/a.jpg', '/q/a.1.jpg', '/r/a.jpg']);
  assert.equal(new Set(n).size, 3, n.join(' '));
});

test('detect --visualize: the input folder and a foreign folder are refused before any work; same-named inputs both drawn', async () => {
  const d = tmpDir();
  const photos = join(d, 'photos');
  mkdirSync(photos);
  copyFileSync(join(IMAGES, 'small_40x23.png'), join(photos, 'a.png'));
  const before = readFileSync(join(photos, 'a.png'));
  // a detector that does not exist: the refusal comes first
  const missing = join(d, 'no-detector');
  const r1 = await runCli(['detect', '--backend', 'wasm', '--detector', missing, photos, '--visualize', photos]);
  expectFailure(r1, 1, /--visualize .*photos: contains the input image .*a\.png/);
  const r1b = await runCli(['detect', '--backend', 'wasm', '--detector', missing, photos, '--visualize', d, '--overwrite']);
  expectFailure(r1b, 1, /--visualize .*: contains the input image/);
  assert.deepEqual(readFileSync(join(photos, 'a.png')), before);

  const foreign = join(d, 'mine');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'keep.txt'), 'mine');
  const r2 = await runCli(['detect', '--backend', 'wasm', '--detector', missing, photos, '--visualize', foreign]);
  expectFailure(r2, 1, /--visualize .*mine: folder is not empty/);
  assert.deepEqual(readdirSync(foreign), ['keep.txt']);

  // two a.png from two folders: two drawings; a second run replaces its own earlier folder
  const scans = join(d, 'scans');
  mkdirSync(scans);
  copyFileSync(join(IMAGES, 'tall_97x151.png'), join(scans, 'a.png'));
  const detr = join(d, 'detr');
  cpSync(join(FIXTURES, 'detr_tiny/model'), detr, { recursive: true });
  writeFileSync(join(detr, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 64, longest_edge: 96 } }));
  const vis = join(d, 'vis');
  const out = join(d, 'boxes.json');
  for (let run = 0; run < 2; run++) {
    const r = await runCli(['detect', '--backend', 'wasm', '--detector', detr, join(photos, 'a.png'), join(scans, 'a.png'), '--out', out, '--visualize', vis]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(readdirSync(vis).filter((f) => f.endsWith('.png')).sort(), ['a.1.png', 'a.png']);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { images: { file: string; drawing: string }[] };
  assert.deepEqual(j.images.map((im) => im.drawing), ['a.png', 'a.1.png']);
});
