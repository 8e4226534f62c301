/**
 * --clear-cache deletes only a logolab embedding cache: a --cache naming any other file (a typo, a
 * user's notes, another SQLite database) is refused with one line, and the file survives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { EmbeddingCache } from '../../src/eval/cache.js';
import { expectFailure, runCli } from '../cli/run.js';
import { makeTinyDataDir } from './tinydata.js';

test('EmbeddingCache.clear deletes our cache, refuses a text file or another database', () => {
  const d = tmpDir();
  const cache = join(d, 'cache.sqlite');
  const c = EmbeddingCache.open(cache);
  c.putMany([['k', Float32Array.of(1, 2)]]);
  c.close();
  EmbeddingCache.clear(cache);
  assert.ok(!existsSync(cache));
  EmbeddingCache.clear(cache); // nothing there: nothing to do

  const notes = join(d, 'notes.txt');
  writeFileSync(notes, 'my notes\n');
  assert.throws(() => EmbeddingCache.clear(notes), /notes\.txt: not a logolab embedding cache/);
  assert.equal(readFileSync(notes, 'utf8'), 'my notes\n');

  const other = join(d, 'other.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE embeddings (key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL, created INTEGER NOT NULL); CREATE TABLE users (name TEXT)');
  db.close();
  assert.throws(() => EmbeddingCache.clear(other), /other\.sqlite: not a logolab embedding cache/);
  assert.ok(existsSync(other));
});

test('eval --cache notes.txt --clear-cache: one error line before the model loads, the file intact', async () => {
  const d = tmpDir();
  const data = join(d, 'data');
  await makeTinyDataDir(data, { perLogo: 2, negatives: 1 });
  const notes = join(d, 'notes.txt');
  writeFileSync(notes, 'my notes\n');
  // a model that does not exist: the cache is refused first
  const r = await runCli(['eval', '--data', data, '--model', join(d, 'no-model'), '--cache', notes, '--clear-cache', '--backend', 'wasm']);
  expectFailure(r, 1, /--cache .*notes\.txt: not a logolab embedding cache.*--clear-cache/);
  assert.equal(readFileSync(notes, 'utf8'), 'my notes\n');
  // a real cache is cleared and rebuilt
  const cache = join(d, 'cache.sqlite');
  const args = ['eval', '--data', data, '--model', join(FIXTURES, 'clip_tiny/model'), '-n', '2', '--cache', cache, '--backend', 'wasm'];
  assert.equal((await runCli(args)).code, 0);
  const json = join(d, 'r.json');
  const again = await runCli([...args, '--clear-cache', '--json', json]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).cache.hits, 0, 'cleared: nothing cached');
});

test('compare --clear-cache empties the cache once: both models\' embeddings are in it afterwards', async () => {
  const d = tmpDir();
  const data = join(d, 'data');
  await makeTinyDataDir(data, { perLogo: 2, negatives: 1 });
  const cache = join(d, 'cache.sqlite');
  const count = () => {
    const db = new Database(cache, { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM embeddings').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const args = (report: string, ...extra: string[]) => ['compare', '--data', data, '--baseline', join(FIXTURES, 'clip_tiny/model'), '--candidate', join(FIXTURES, 'siglip_tiny/model'), '-n', '2', '--cache', cache, '--report', join(d, report), '--backend', 'wasm', ...extra];
  assert.equal((await runCli(args('r1'))).code, 0);
  const both = count();
  const r = await runCli(args('r2', '--clear-cache'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(count(), both, 'the baseline\'s embeddings survive the candidate\'s pass');
});
