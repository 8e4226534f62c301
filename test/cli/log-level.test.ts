/** --log-level applies to every command (it was read by train only): eval's info lines go with warn. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { exportDataEmbeddings } from '../../src/eval/exchange.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { fakeEncoder, makeTinyDataDir } from '../eval/tinydata.js';
import { runCli } from './run.js';

test('eval --log-level warn prints no info lines; --log-level info does', async () => {
  delete process.env.LOGOLAB_QUIET;
  const d = tmpDir();
  await makeTinyDataDir(join(d, 'data'), { perLogo: 2, negatives: 1 });
  const emb = join(d, 'emb.safetensors');
  await exportDataEmbeddings(join(d, 'data'), fakeEncoder(), gtBoxes, emb, { quiet: true });
  const args = ['eval', '--embeddings', emb, '-n', '2', '--backend', 'wasm'];
  const info = await runCli([...args, '--log-level', 'info']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stderr, /\[logolab\] sample: /);
  const warn = await runCli([...args, '--log-level', 'warn']);
  assert.equal(warn.code, 0, warn.stderr);
  assert.doesNotMatch(warn.stderr, /\[logolab\] sample: /);
  assert.match(warn.stdout, /LOGO DETECTION TEST RESULTS/);
  // leave the process at the default for later tests
  await runCli([...args, '--log-level', 'info']);
});
