/**
 * An exchange file whose metadata disagrees with its rows (dim edited, rows dropped, an index out of
 * range, a required key missing, a region without its box or score) is one error naming the file —
 * never silently wrong metrics, nor a TypeError later.
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
function tampered(name: string, meta: (m: Record<string, unknown>) => void, rows?: (data: Float32Array, dim: number) => { data: Float32Array; shape: number[] }, json: (text: string) => string = (x) => x): string {
  const { meta: m, data } = readExchangeFile(FILE);
  const dim = m.dim;
  const t = rows ? rows(data, dim) : { data, shape: [data.length / dim, dim] };
  meta(m as unknown as Record<string, unknown>);
  const f = join(W, `${name}.safetensors`);
  writeSafetensors(f, { embeddings: t }, { logolab_embeddings: json(JSON.stringify(m)) });
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

test('a dataset entry of the wrong shape (a hand-edited file): one error naming the file and the entry, not a TypeError', async () => {
  type DS = { logos: unknown[]; refs: unknown[]; images: Record<string, unknown>[] };
  const cases: [string, (ds: DS) => void, RegExp][] = [
    ['gt-null', (ds) => (ds.images[0]!.gt = null), /metadata dataset\.images\[0\] is .*, not an image \{ id, name, gt: \[\.\.\.\] \}/],
    ['image-number', (ds) => ((ds.images as unknown[])[0] = 5), /metadata dataset\.images\[0\] is 5, not an image/],
    ['ref-null', (ds) => (ds.refs[0] = null), /metadata dataset\.refs\[0\] is null, not a reference \{ id, logo, path \}/],
    ['logo-number', (ds) => (ds.logos[0] = 5), /metadata dataset\.logos\[0\] is 5, not a logo name/],
    ['gt-box', (ds) => ((ds.images.find((im) => (im.gt as unknown[]).length)!.gt as Record<string, unknown>[])[0]!.box = [1, 2]), /metadata dataset\.images\[\d+\]\.gt\[0\]\.box is \[1,2\], not a box of 4 numbers/],
  ];
  for (const [name, edit, re] of cases) {
    const f = tampered(name, (m) => edit(m.dataset as DS));
    assert.throws(() => readExchange(f), new RegExp(`${name}\\.safetensors: ${re.source}`));
  }
  const r = await runCli(['eval', '--embeddings', join(W, 'gt-null.safetensors'), '--backend', 'wasm']);
  expectFailure(r, 1, /gt-null\.safetensors: metadata dataset\.images\[0\]/);
  assert.doesNotMatch(r.stderr, /TypeError|internal error|\n\s+at /);
});

test('a region entry without a usable box or score (hand-edited, another tool): one error naming the file, the region and the key', async () => {
  type Regions = Record<string, Record<string, unknown>[]>;
  const first = (m: Record<string, unknown>) => Object.entries(m.regions as Regions).find(([, rs]) => rs.length)!;
  const each = (m: Record<string, unknown>, f: (g: Record<string, unknown>) => void) => Object.values(m.regions as Regions).forEach((rs) => rs.forEach(f));
  const cases: [string, (m: Record<string, unknown>) => void, RegExp, ((t: string) => string)?][] = [
    ['no-score', (m) => each(m, (g) => delete g.score), /regions\["img:\d+"\]\[0\]\.score is undefined, not a finite number/],
    ['no-box', (m) => each(m, (g) => delete g.box), /regions\["img:\d+"\]\[0\]\.box is undefined, not a box \[x0, y0, x1, y1\] of 4 finite numbers/],
    ['score-text', (m) => (first(m)[1][0]!.score = '0.9'), /regions\["img:\d+"\]\[0\]\.score is "0\.9", not a finite number/],
    // 1e999 is valid JSON and parses to Infinity
    ['score-inf', (m) => (first(m)[1][0]!.score = 'BIG'), /regions\["img:\d+"\]\[0\]\.score is Infinity, not a finite number/, (t) => t.replace('"BIG"', '1e999')],
    ['box-short', (m) => (first(m)[1][0]!.box = [1, 2]), /regions\["img:\d+"\]\[0\]\.box is \[1,2\], not a box .*4 finite numbers/],
    ['box-text', (m) => (first(m)[1][0]!.box = ['0', 0, 1, 1]), /regions\["img:\d+"\]\[0\]\.box is \["0",0,1,1\], not a box/],
    ['box-flipped', (m) => (first(m)[1][0]!.box = [10, 0, 5, 5]), /regions\["img:\d+"\]\[0\]\.box is \[10,0,5,5\], not a box \[x0, y0, x1, y1\] with x0 ≤ x1 and y0 ≤ y1/],
    ['region-null', (m) => (first(m)[1][0] = null as never), /regions\["img:\d+"\]\[0\] is null, not a region \{ box, score, row \}/],
  ];
  for (const [name, edit, re, json] of cases) {
    const f = tampered(name, edit, undefined, json);
    assert.throws(() => readExchange(f), new RegExp(`${name}\\.safetensors: metadata ${re.source}`));
  }
  // the crashes this prevents: --similarity-details printed the score, compare's gallery matched boxes
  const r = await runCli(['eval', '--embeddings', join(W, 'no-score.safetensors'), '--similarity-details', '--backend', 'wasm']);
  expectFailure(r, 1, /no-score\.safetensors: metadata regions\["img:\d+"\]\[0\]\.score is undefined/);
  const rep = join(W, 'rep-no-box');
  const c = await runCli(['compare', '--baseline-embeddings', FILE, '--candidate-embeddings', join(W, 'no-box.safetensors'), '--report', rep, '--backend', 'wasm']);
  expectFailure(c, 1, /no-box\.safetensors: metadata regions\["img:\d+"\]\[0\]\.box is undefined/);
  for (const out of [r, c]) {
    assert.doesNotMatch(out.stderr, /TypeError|internal error|\n\s+at /);
    assert.equal(out.stderr.split('\n').filter((l) => l.startsWith('logolab:')).length, 1, out.stderr);
  }
});
