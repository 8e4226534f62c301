/**
 * The DETR detector's folder is an input of every command that reads it (detect, eval, embed
 * --data): no --out, --json or --visualize may replace its weights or configs, --overwrite or not.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { makeTinyDataDir } from '../eval/tinydata.js';

const IMG = join(FIXTURES, 'images/small_40x23.png');
const CLIP = join(FIXTURES, 'clip_tiny/model');
let W = '';
let DET = '';
let DATA = '';

const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

before(async () => {
  W = tmpDir('logolab-detector-outputs-');
  DET = join(W, 'detr');
  cpSync(join(FIXTURES, 'detr_tiny/model'), DET, { recursive: true });
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 2, negatives: 1 });
});

test('detect: --out and --visualize never replace the --detector folder or its files', async () => {
  const before = snapshot(DET);
  for (const spec of [DET, `detr:${DET}`]) {
    expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', spec, '--out', join(DET, 'config.json')]), 1, /--out .*config\.json: would replace a file of the --detector folder/);
    expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', spec, '--out', join(DET, 'model.safetensors')]), 1, /--detector folder/);
    expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', spec, '--visualize', DET, '--overwrite']), 1, /--visualize .*detr: contains the --detector folder/);
    expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', spec, '--visualize', W, '--overwrite']), 1, /--visualize .*: contains the --detector folder/);
  }
  assert.deepEqual(snapshot(DET), before);
});

test('eval --json and embed --data --out never replace a file of the detr:<dir> folder', async () => {
  const before = snapshot(DET);
  const small = ['--no-cache', '-n', '2', '--refs-per-logo', '1', '--positive-samples', '1', '--negative-samples', '1', '--backend', 'wasm'];
  expectFailure(await runCli(['eval', '--data', DATA, '--model', CLIP, '--detector', `detr:${DET}`, ...small, '--json', join(DET, 'preprocessor_config.json')]), 1, /--json .*preprocessor_config\.json: would add a file read with the --detector folder/);
  expectFailure(await runCli(['eval', '--data', DATA, '--model', CLIP, '--detector', `detr:${DET}`, ...small, '--json', join(DET, 'config.json')]), 1, /--json .*config\.json: would replace a file of the --detector folder/);
  expectFailure(await runCli(['embed', '--data', DATA, '--model', CLIP, '--detector', `detr:${DET}`, '--no-cache', '--backend', 'wasm', '--out', join(DET, 'model.safetensors')]), 1, /--out .*model\.safetensors: would replace a file of the --detector folder/);
  assert.deepEqual(snapshot(DET), before);
});
