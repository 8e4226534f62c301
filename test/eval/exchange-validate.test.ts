/**
 * An exchange file whose metadata disagrees with its rows (dim edited, rows dropped, an index out of
 * range, a required key missing) is one error naming the file — never silently wrong metrics.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { exportDataEmbeddings, readExchange, readExchangeFile, type ExchangeMeta } from '../../src/eval/exchange.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { expectFailure, runCli } from '../cli/run.js';
import { fakeEncoder, makeTinyDataDir } from './tinydata.js';

let W = '';
let FILE = '';

before(async () => {
  W = tmpDir('logolab-exchange-');
  const data = join(W, 'data');
  await makeTinyDataDir(data, { perLogo: 3, negatives: 1 });
  FILE = join(W, 'emb.safetensors');
  await exportDataEmbeddings(data, fakeEncoder(), gtBoxes, FILE, { quiet: true });
});

/** A copy of the file with its metadata edited by `meta` and its [N, D] rows by `rows`. */
function tampered(name: string, meta: (m: Record<string, unknown>) => void, rows?: (data: Float32Array, dim: number) => { data: Float32Array; shape: number[] }): string {
  const { meta: m, data } = readExchangeFile(FILE);
  const dim = m.dim;
  const t = rows ? rows(data, dim) : { data, shape: [data.length / dim, dim] };
  meta(m as unknown as Record<string, unknown>);
  const f = join(W, `${name}.safetensors`);
  writeSafetensors(f, { embeddings: t }, { logolab_embeddings: JSON.stringify(m) });
  return f;
}

test('the exported file reads back', () => {
  assert.ok(readExchange(FILE).dataset.refs.length > 0);
});

test('metadata dim halved, rows dropped, a row index out of range: errors naming the file', () => {
  // dim 9 would cut every 27-d row into three: silently wrong similarities
  const third = tampered('third-dim', (m) => (m.dim = 9));
  assert.throws(() => readExchange(third), /third-dim\.safetensors: 'embeddings' has shape \[\d+, 27\], the metadata says dim 9/);
  const half = tampered('half-dim', (m) => (m.dim = 13.5));
  assert.throws(() => readExchange(half), /half-dim\.safetensors: metadata 'dim' is 13\.5, not a non-negative integer/);
  const halfEven = tampered('reshaped', () => {}, (data, dim) => ({ data, shape: [data.length / (dim / 3), dim / 3] }));
  assert.throws(() => readExchange(halfEven), /reshaped\.safetensors: 'embeddings' has shape \[\d+, 9\], the metadata says dim 27/);
  const dropped = tampered('dropped', () => {}, (data, dim) => ({ data: data.slice(0, data.length - 2 * dim), shape: [data.length / dim - 2, dim] }));
  assert.throws(() => readExchange(dropped), /dropped\.safetensors: image img:\d+ region #\d+ names row \d+, the file has \d+ rows/);
  const badRef = tampered('bad-ref', (m) => {
    const rr = m.refRows as Record<string, number>;
    rr[Object.keys(rr)[0]!] = -1;
  });
  assert.throws(() => readExchange(badRef), /bad-ref\.safetensors: reference ref:\d+ names row -1/);
});

test('a required metadata key missing: one error naming the file and the key (eval too)', async () => {
  for (const k of ['dataset', 'model', 'regions', 'refRows', 'dim'] as (keyof ExchangeMeta)[]) {
    const f = tampered(`no-${k}`, (m) => delete m[k]);
    assert.throws(() => readExchange(f), new RegExp(`no-${k}\\.safetensors: metadata .*'${k}'`));
  }
  const f = tampered('no-images', (m) => delete (m.dataset as Record<string, unknown>).images);
  assert.throws(() => readExchange(f), /no-images\.safetensors: metadata 'dataset' lacks 'images'/);
  expectFailure(await runCli(['eval', '--embeddings', join(W, 'no-dataset.safetensors'), '--backend', 'wasm']), 1, /no-dataset\.safetensors: metadata lacks 'dataset'/);
});
