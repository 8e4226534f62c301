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
  assert.doesNotMatch(warn.stderr, /\[logolab\] (sample|backend): /);
  assert.match(warn.stdout, /LOGO DETECTION TEST RESULTS/);
  // without the flag: $LOGOLAB_LOG_LEVEL, else info — not the level an earlier run set
  process.env.LOGOLAB_LOG_LEVEL = 'warn';
  try {
    const env = await runCli(args);
    assert.doesNotMatch(env.stderr, /\[logolab\] (sample|backend): /);
    process.env.LOGOLAB_LOG_LEVEL = 'loud';
    const bad = await runCli(args);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /LOGOLAB_LOG_LEVEL: expected one of debug, info, warn, error, got 'loud'/);
  } finally {
    delete process.env.LOGOLAB_LOG_LEVEL;
  }
  assert.match((await runCli(args)).stderr, /\[logolab\] sample: /);
});
