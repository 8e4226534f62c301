/**
 * --cache (eval, compare, embed --data) is an SQLite file the run creates or writes: it is refused
 * where it would replace or add a file the run reads, as --json is. Unchecked, `--cache
 * <model>/preprocessor_config.json` turned the model's config into a database and `--cache
 * <data>/test_data_mapping.db` added a table (and WAL mode) to the data dir's own database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { makeTinyDataDir } from './tinydata.js';

function tables(db: string): string {
  const h = new Database(db, { readonly: true });
  try {
    const names = (h.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    return `${names.join(',')} ${String(h.pragma('journal_mode', { simple: true }))}`;
  } finally {
    h.close();
  }
}

test('--cache naming a file of the model or the data dir is refused before any work (eval, compare, embed --data, $LOGOLAB_CACHE)', async () => {
  const d = tmpDir();
  const data = join(d, 'data');
  await makeTinyDataDir(data, { perLogo: 2, negatives: 1 });
  const model = join(d, 'model');
  cpSync(join(FIXTURES, 'clip_tiny/model'), model, { recursive: true });
  const db = join(data, 'test_data_mapping.db');
  const dbBefore = tables(db);
  const config = join(model, 'config.json');
  const configBefore = readFileSync(config);
  const newConfig = join(model, 'preprocessor_config.json');
  const runs: [string[], RegExp][] = [
    [['eval', '--data', data, '--model', model, '-n', '2', '--cache', newConfig], /^logolab: error: --cache .*preprocessor_config\.json: would add a file read with the --model folder .*model; refusing/],
    [['eval', '--data', data, '--model', model, '-n', '2', '--cache', config], /--cache .*config\.json: would replace a file of the --model folder/],
    [['eval', '--data', data, '--model', model, '-n', '2', '--cache', db], /--cache .*test_data_mapping\.db: is the --data dir's database/],
    [['compare', '--data', data, '--baseline', model, '--candidate', join(FIXTURES, 'siglip_tiny/model'), '-n', '2', '--cache', db, '--report', join(d, 'rep')], /--cache .*test_data_mapping\.db: is the --data dir's database/],
    [['compare', '--data', data, '--baseline', join(FIXTURES, 'siglip_tiny/model'), '--candidate', model, '-n', '2', '--cache', newConfig, '--report', join(d, 'rep')], /--cache .*preprocessor_config\.json: would add a file read with the --candidate model/],
    [['embed', '--data', data, '--model', model, '--out', join(d, 'x.safetensors'), '--cache', db], /--cache .*test_data_mapping\.db: is the --data dir's database/],
    [['embed', '--data', data, '--model', model, '--out', join(d, 'x.safetensors'), '--cache', newConfig], /--cache .*preprocessor_config\.json: would add a file read with the --model folder/],
  ];
  for (const [args, message] of runs) expectFailure(await runCli([...args, '--backend', 'wasm']), 1, message);
  const prev = process.env.LOGOLAB_CACHE;
  process.env.LOGOLAB_CACHE = db;
  try {
    expectFailure(await runCli(['eval', '--data', data, '--model', model, '-n', '2', '--backend', 'wasm']), 1, /^logolab: error: \$LOGOLAB_CACHE .*test_data_mapping\.db: is the --data dir's database/);
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_CACHE;
    else process.env.LOGOLAB_CACHE = prev;
  }
  assert.equal(tables(db), dbBefore, "the data dir's database changed");
  assert.ok(!existsSync(newConfig), 'an SQLite file was created in the model folder');
  assert.ok(readFileSync(config).equals(configBefore), "the model's config.json changed");
  assert.ok(!existsSync(join(d, 'x.safetensors')) && !existsSync(join(d, 'rep')), 'an output was written');
  // a cache beside the data (the default place) or elsewhere is still fine
  const ok = await runCli(['eval', '--data', data, '--model', model, '-n', '2', '--cache', join(data, 'my_cache.sqlite'), '--backend', 'wasm']);
  assert.equal(ok.code, 0, ok.stderr);
});
