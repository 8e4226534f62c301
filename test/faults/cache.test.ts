/**
 * Fault trials: the shared embedding cache. Its key covers base weights + adapter + preprocessing,
 * so a fine-tuned model never reads the baseline's entries; a locked, corrupt or misplaced cache
 * is one error line naming it.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, expectFailure, expectOk } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel, dataDir, loraExport } from './fixtures.js';
import { EmbeddingCache } from '../../src/eval/cache.js';
import { LogolabError } from '../../src/errors.js';

interface EvalJson {
  cache: { hits: number; misses: number } | null;
  result: { f1: number; tp: number; fp: number };
}

describe('fault trials: embedding cache', () => {
  let data = '';
  before(async () => {
    data = await dataDir();
    await loraExport();
  });
  const evalJson = async (name: string, ...args: string[]): Promise<EvalJson> => {
    const out = join(ROOT_TMP, `${name}.json`);
    expectOk(await cli('eval', '--data', data, '-n', '3', '--json', out, ...args, ...BACKEND));
    return JSON.parse(readFileSync(out, 'utf8')) as EvalJson;
  };

  it('a fine-tuned export shares no cache entries with its base model (adapter in the key)', async () => {
    const cache = join(ROOT_TMP, 'shared-cache.sqlite');
    const a = await evalJson('c-base', '--model', await baseModel(), '--cache', cache);
    const a2 = await evalJson('c-base2', '--model', await baseModel(), '--cache', cache);
    const b = await evalJson('c-export', '--model', await loraExport(), '--cache', cache);
    assert.equal(a.cache!.hits, 0);
    assert.equal(a2.cache!.misses, 0, 'the same model hits');
    assert.equal(b.cache!.hits, 0, 'the adapter changes the key');
  });

  it('another preprocessing mode does not hit the cache', async () => {
    const cache = join(ROOT_TMP, 'pp-cache.sqlite');
    await evalJson('pp-a', '--model', await baseModel(), '--cache', cache);
    const b = await evalJson('pp-b', '--model', await baseModel(), '--cache', cache, '--preprocess-mode', 'letterbox');
    assert.equal(b.cache!.hits, 0);
  });

  it('a cache held locked by another process is one error line naming it', async () => {
    const cache = join(ROOT_TMP, 'locked-cache.sqlite');
    await evalJson('lock-a', '--model', await baseModel(), '--cache', cache);
    const other = new Database(cache);
    other.exec('BEGIN EXCLUSIVE');
    process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS = '200';
    try {
      const r = await cli('eval', '--data', data, '-n', '3', '--model', await loraExport(), '--cache', cache, ...BACKEND);
      expectFailure(r, 1, /locked-cache\.sqlite.*locked/);
    } finally {
      delete process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS;
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('a corrupt cache file is one error line that names it and --clear-cache', async () => {
    const cache = join(ROOT_TMP, 'corrupt-cache.sqlite');
    writeFileSync(cache, 'garbage '.repeat(1000));
    const r = await cli('eval', '--data', data, '-n', '3', '--model', await baseModel(), '--cache', cache, ...BACKEND);
    expectFailure(r, 1, /corrupt-cache\.sqlite.*--clear-cache/);
  });

  it('--cache naming a folder is one error line naming it', async () => {
    const dir = join(ROOT_TMP, 'cache-is-a-dir');
    mkdirSync(dir, { recursive: true });
    expectFailure(await cli('eval', '--data', data, '-n', '3', '--model', await baseModel(), '--cache', dir, ...BACKEND), 1, /cache-is-a-dir/);
  });

  it('a cache that cannot be opened where it is names the file and the way on without it', () => {
    // a write-ahead log that cannot be created beside the cache file (as beside a read-only
    // dataset's default cache, which root cannot reproduce with permissions)
    const cache = join(ROOT_TMP, 'no-wal-cache.sqlite');
    mkdirSync(`${cache}-wal`, { recursive: true });
    assert.throws(
      () => EmbeddingCache.open(cache),
      (e: unknown) => e instanceof LogolabError && /no-wal-cache\.sqlite: cannot open embedding cache: .*SQLITE_.*--no-cache/.test(e.message),
    );
  });

  it('two writers on one cache file (interleaved) keep every entry', () => {
    const path = join(ROOT_TMP, 'two-writers.sqlite');
    const a = EmbeddingCache.open(path);
    const b = EmbeddingCache.open(path);
    try {
      for (let i = 0; i < 20; i++) (i % 2 ? a : b).putMany([[`k${i}`, Float32Array.of(i, 1)]]);
      assert.equal(a.count(), 20);
      assert.deepEqual([...b.get('k7')!], [7, 1]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a cache hit gives the same results as computing', async () => {
    const cache = join(ROOT_TMP, 'same-cache.sqlite');
    const a = await evalJson('same-a', '--model', await baseModel(), '--cache', cache);
    const b = await evalJson('same-b', '--model', await baseModel(), '--cache', cache);
    assert.equal(b.cache!.misses, 0);
    assert.deepEqual(a.result, b.result);
  });
});
