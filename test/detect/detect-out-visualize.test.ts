/** `detect --out F --visualize D`: the two outputs are checked together before any work, and F may lie inside D. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { tinyDetrCopy } from './tiny-detr.js';

const IMG = join(FIXTURES, 'images/small_40x23.png');
let W = '';
let DET = '';

before(() => {
  W = tmpDir('logolab-detect-out-vis-');
  DET = tinyDetrCopy(join(W, 'detr'));
});

test('--out and --visualize at one path: a usage error naming both, before any work', async () => {
  const same = join(W, 'same');
  // a detector that does not exist: the refusal comes first
  expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', join(W, 'missing'), '--out', same, '--visualize', same]), 2, /--out .*same and --visualize .*same: one path for the boxes JSON file and the drawings' folder/);
  assert.ok(!existsSync(same));
});

test('--out inside --visualize: the same command runs again, the JSON is in the folder; a drawing\'s name is refused', async () => {
  const vis = join(W, 'v');
  const out = join(vis, 'boxes.json');
  const args = ['detect', '--backend', 'wasm', IMG, '--detector', DET, '--threshold', '0', '--out', out, '--visualize', vis];
  for (let k = 0; k < 2; k++) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `run ${k + 1}: ${r.stderr}`);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { images: { drawing: string }[] };
    assert.equal(j.images.length, 1);
    assert.ok(existsSync(join(vis, j.images[0]!.drawing)));
  }
  const before = readFileSync(out);
  // a run that fails leaves the earlier folder, its JSON included, as it was
  const bad = join(W, 'bad.png');
  writeFileSync(bad, 'not an image');
  expectFailure(await runCli([...args, bad]), 1, /bad\.png/);
  assert.deepEqual(readFileSync(out), before);
  expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', DET, '--out', join(vis, 'small_40x23.png'), '--visualize', vis]), 2, /--out .*small_40x23\.png: is the drawing of .*small_40x23\.png in --visualize/);
  assert.deepEqual(readFileSync(out), before);
});
