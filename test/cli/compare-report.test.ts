/**
 * compare --report through the CLI on two exchange files of a tiny data dir: which folders it
 * writes into, and what the report and stdout say when pictures or matches are missing.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { exportDataEmbeddings } from '../../src/eval/exchange.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { OUTPUT_MARKER } from '../../src/io/output-dir.js';
import { REFERENCE_DIR } from '../../src/data/db-schema.js';
import { expectFailure, runCli } from './run.js';
import { fakeEncoder, makeTinyDataDir } from '../eval/tinydata.js';

let W = '';
let DATA = '';
let B = '';
let C = '';
let F = '';
const SAMPLE = ['-n', '4', '--refs-per-logo', '2', '--positive-samples', '3', '--negative-samples', '2', '--seed', '1', '--backend', 'wasm'];

before(async () => {
  W = tmpDir('logolab-compare-report-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 4, negatives: 3 });
  B = join(W, 'base.safetensors');
  C = join(W, 'cand.safetensors');
  await exportDataEmbeddings(DATA, fakeEncoder('fake-base', 'fp-base', 0.3), gtBoxes, B, { quiet: true });
  await exportDataEmbeddings(DATA, fakeEncoder('fake-cand', 'fp-cand', 0.05), gtBoxes, C, { quiet: true });
  // a collapsed model: every crop the same embedding, so every similarity is 1 and the margin is
  // never met: nothing is matched at any threshold
  F = join(W, 'flat.safetensors');
  const flat = { name: 'flat', fingerprint: 'fp-flat', preprocess: 'grid3:test', embed: async (images: unknown[]) => images.map(() => Float32Array.from({ length: 27 }, (_, k) => (k === 0 ? 1 : 0))) };
  await exportDataEmbeddings(DATA, flat, gtBoxes, F, { quiet: true });
});

const compare = (rep: string, extra: string[] = []) => runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', C, ...SAMPLE, ...extra, '--report', rep]);

test('--report: a folder holding only the user\'s own report.md or report.json is refused and left as it was', async () => {
  const cases: [string, Record<string, string>][] = [
    ['md', { 'report.md': '# my own hand-written quarterly report\n' }],
    ['json', { 'report.json': '{"quarter": 3}\n' }],
    // all three names, but a report.json that is not compare's
    ['three', { 'report.md': '# notes\n', 'report.html': '<p>mine</p>\n', 'report.json': '{"models": "mine"}\n' }],
  ];
  for (const [name, files] of cases) {
    const rep = join(W, `mine-${name}`);
    mkdirSync(rep);
    for (const [f, text] of Object.entries(files)) writeFileSync(join(rep, f), text);
    expectFailure(await compare(rep), 1, /--report .*mine-\w+: folder is not empty and is not an earlier output of this command.*--overwrite/);
    for (const [f, text] of Object.entries(files)) assert.equal(readFileSync(join(rep, f), 'utf8'), text, `${name}: ${f} untouched`);
  }
});

test('--report: an earlier report written before markers existed (the three files, compare\'s report.json) is replaced', async () => {
  const first = join(W, 'first');
  assert.equal((await compare(first)).code, 0);
  const old = join(W, 'premarker');
  cpSync(first, old, { recursive: true });
  rmSync(join(old, OUTPUT_MARKER));
  writeFileSync(join(old, 'report.md'), '# logolab compare\n(an older run)\n');
  const r = await compare(old);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(readFileSync(join(old, 'report.md'), 'utf8'), /an older run/);
});

test('a reference crop that cannot be read leaves out its own thumbnail only, named in one warning', async () => {
  const dir = join(W, 'gone');
  await makeTinyDataDir(join(dir, 'data'), { perLogo: 4, negatives: 3 });
  const [b, c] = [join(dir, 'b.safetensors'), join(dir, 'c.safetensors')];
  await exportDataEmbeddings(join(dir, 'data'), fakeEncoder('fake-base', 'fp-base', 0.3), gtBoxes, b, { quiet: true });
  await exportDataEmbeddings(join(dir, 'data'), fakeEncoder('fake-cand', 'fp-cand', 0.05), gtBoxes, c, { quiet: true });
  const refs = join(dir, 'data', REFERENCE_DIR, 'Cat', 'alpha');
  for (const f of readdirSync(refs)) rmSync(join(refs, f));
  const rep = join(dir, 'report');
  const r = await runCli(['compare', '--baseline-embeddings', b, '--candidate-embeddings', c, ...SAMPLE, '--report', rep, '--log-level', 'warn']);
  assert.equal(r.code, 0, r.stderr);
  const warns = r.stderr.split('\n').filter((l) => /thumbnail/.test(l));
  assert.equal(warns.length, 1, r.stderr);
  assert.match(warns[0]!, /1 thumbnail left out.*Cat\/alpha\//);
  const d = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8')) as { thumbnails: Record<string, string>; gallery: { falsePositives: { box: unknown; thumb?: string }[]; falseNegatives: { box: unknown; thumb?: string }[] }[] };
  assert.deepEqual(Object.keys(d.thumbnails).sort(), ['beta', 'delta', 'gamma']);
  const items = d.gallery.flatMap((g) => [...g.falsePositives, ...g.falseNegatives]);
  assert.ok(items.length > 0 && items.every((it) => !it.box || it.thumb), 'every gallery item with a region keeps its thumbnail');
});

test('stdout: a model with F1 0 at every threshold has no best-F1 threshold', async () => {
  const r = await runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', F, ...SAMPLE, '--report', join(W, 'flat')]);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('candidate'))!;
  assert.match(line, /\| best F1: none \(F1 is 0 at every threshold\) {2}\(flat\)$/);
  assert.match(r.stdout.split('\n').find((l) => l.startsWith('baseline'))!, /\| best F1 \d+\.\d% @[\d.]+ {2}\(fake-base\)$/);
});

test('stdout says what the report says: n/a for 0/0 precision, and calibration\'s wording for an f1 target nothing reaches', async () => {
  const rep = join(W, 'flat-cal');
  const r = await runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', F, ...SAMPLE, '--calibrate', 'f1', '--report', rep]);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('candidate'))!;
  // nothing matched: precision 0/0
  assert.match(line, /^candidate @0\.7: P n\/a R 0\.0% F1 0\.0% \|/);
  assert.match(readFileSync(join(rep, 'report.md'), 'utf8'), /\| candidate @ given \| 0\.7 \| 0 \| 0 \| \d+ \| \d+ \| n\/a \| 0\.0% \| 0\.0% \|/);
  assert.match(line, /\| calibration: no --sweep-thresholds value gives an F1 above 0 on the calibration half \(no true positive there\) {2}\(flat\)$/);
  assert.doesNotMatch(line, /reaches the target/);
});
