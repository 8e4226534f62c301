/**
 * `detect` over a folder names the image at fault with its own reason: an image too elongated for
 * DETR's size rule (was "resize: invalid output size 1333x0", no file), and corrupt files decoded
 * side by side with --batch-size (libvips' one error buffer gave a JPEG a PNG's text, or another
 * file's, differently on every run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES, tmpDir } from '../helpers.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { corruptImages } from '../preprocess/corrupt-images.js';
import { expectFailure, runCli } from './run.js';

const TINY = join(FIXTURES, 'detr_tiny/model');
const IMAGES = join(FIXTURES, 'images');

test('detect: an 8000x2 image in a folder is named, with why DETR cannot take it', async () => {
  const dir = join(tmpDir(), 'dir1');
  mkdirSync(dir);
  copyFileSync(join(IMAGES, 'small_40x23.png'), join(dir, 'a.png'));
  await sharp({ create: { width: 8000, height: 2, channels: 3, background: '#0a0' } }).png().toFile(join(dir, 'b.png'));
  copyFileSync(join(IMAGES, 'small_40x23.png'), join(dir, 'c.png'));
  const r = await runCli(['detect', '--backend', 'wasm', '--detector', TINY, dir, '--log-level', 'error']);
  expectFailure(r, 1, new RegExp(`^logolab: error: ${join(dir, 'b.png')}: 8000x2 is too elongated for the DETR processor: its shortest edge \\d+ / longest edge \\d+ gives \\d+x0, a side of 0 pixels$`));
});

test('detect --batch-size N: a corrupt image is named with its own reason, as decoded alone, on every run', async () => {
  const root = tmpDir();
  const { bad, good } = await corruptImages(join(root, 'src'));
  const dir = join(root, 'dir3');
  mkdirSync(dir);
  for (const p of [...bad, ...good]) copyFileSync(p, join(dir, basename(p)));
  const alone = new Map<string, string>();
  for (const p of bad) alone.set(join(dir, basename(p)), await decodeImage(join(dir, basename(p))).then(() => 'decoded', (e: Error) => e.message));
  for (let run = 0; run < 4; run++) {
    const r = await runCli(['detect', '--backend', 'wasm', '--detector', TINY, dir, '--batch-size', String(bad.length + good.length), '--log-level', 'error']);
    const line = expectFailure(r, 1, /^logolab: error: cannot decode image /);
    const file = [...alone.keys()].find((f) => line.startsWith(`logolab: error: cannot decode image ${f}: `));
    assert.ok(file, line);
    assert.equal(line, `logolab: error: ${alone.get(file)}`, `run ${run}`);
  }
});

test('detect <folder>: a file name that is not valid UTF-8 is refused naming its bytes (was a false "no such file")', async () => {
  const dir = join(tmpDir(), 'dir5');
  mkdirSync(dir);
  copyFileSync(join(IMAGES, 'small_40x23.png'), join(dir, 'a.png'));
  // 'lat\xe9n.png': a Latin-1 name; Node lists it with U+FFFD, a path that names no file
  copyFileSync(join(IMAGES, 'small_40x23.png'), Buffer.concat([Buffer.from(`${dir}/lat`), Buffer.from([0xe9]), Buffer.from('n.png')]));
  const r = await runCli(['detect', '--backend', 'wasm', '--detector', TINY, dir, '--log-level', 'error']);
  expectFailure(r, 1, /lat\\xe9n\.png: the file name is not valid UTF-8/);
});
