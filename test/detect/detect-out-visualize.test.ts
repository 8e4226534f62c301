/** `detect --out F --visualize D`: the two outputs are checked together before any work, and F may lie inside D. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';

const IMG = join(FIXTURES, 'images/small_40x23.png');
let W = '';
let DET = '';

before(() => {
  W = tmpDir('logolab-detect-out-vis-');
  DET = join(W, 'detr');
  cpSync(join(FIXTURES, 'detr_tiny/model'), DET, { recursive: true });
  writeFileSync(join(DET, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 64, longest_edge: 96 } }));
});

test('--out and --visualize at one path: a usage error naming both, before any work', async () => {
  const same = join(W, 'same');
  // a detector that does not exist: the refusal comes first
  expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', join(W, 'missing'), '--out', same, '--visualize', same]), 2, /--out .*same and --visualize .*same: one path for the boxes JSON file and the drawings' folder/);
  assert.ok(!existsSync(same));
});
