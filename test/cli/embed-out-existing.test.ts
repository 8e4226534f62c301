/**
 * `embed --out` and `merge-embeddings --out` replace an existing file only when logolab wrote it as
 * embeddings (an earlier embed .jsonl/.safetensors, a --pixels output, an exchange or merged file)
 * or with --overwrite: they replaced any file, so `--out <other model>/model.safetensors` destroyed
 * another model's weights and `--out notes.jsonl` a user's notes, exit 0. One error line naming the
 * path, the file intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { notEmbeddingsOutput } from '../../src/embed/output.js';
import { makeTinyDataDir } from '../eval/tinydata.js';
import { expectFailure, runCli } from './run.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const PIXELS = join(FIXTURES, 'clip_tiny/io.safetensors');
const IMAGE = join(FIXTURES, 'images/square_224.png');
const BACKEND = ['--backend', 'wasm'];
const refused = (path: string) => new RegExp(`^logolab: error: --out ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: exists and is not a logolab embeddings file \\(.*\\); refusing to replace it \\(choose another path, remove it, or add --overwrite`);

test('notEmbeddingsOutput: logolab embeddings files (any of the writers, older jsonl records, empty) are ours; anything else names why not', () => {
  const d = tmpDir();
  const f = (name: string, content: string | Buffer) => {
    writeFileSync(join(d, name), content);
    return join(d, name);
  };
  const emb = { embeddings: { shape: [1, 2], data: new Float32Array([1, 0]) } };
  const st = (name: string, metadata?: Record<string, string>) => {
    writeSafetensors(join(d, name), emb, metadata);
    return join(d, name);
  };
  for (const ours of [
    st('images.safetensors', { paths: '["a.png"]', normalized: 'false', model_fingerprint: 'fp' }),
    st('pixels.safetensors', { format: 'pt', model_fingerprint: 'fp' }),
    st('exchange.safetensors', { logolab_embeddings: '{}' }),
    f('new.jsonl', '{"path":"a.png","model_fingerprint":"fp","normalized":true,"embedding":[0.6,0.8]}\n{"path":"b.png","model_fingerprint":"fp","normalized":true,"embedding":[1,0]}\n'),
    f('old.jsonl', '{"path":"a.png","embedding":[1,2]}\n'),
    f('empty.jsonl', ''),
  ]) assert.equal(notEmbeddingsOutput(ours), null, ours);
  const theirs: [string, RegExp][] = [
    [st('model.safetensors', { format: 'pt' }), /without logolab embeddings metadata/],
    [st('checkpoint.safetensors', { logolab_checkpoint: '{}' }), /without logolab embeddings metadata/],
    [st('plain.safetensors'), /without logolab embeddings metadata/],
    [f('text.safetensors', 'hello, not a tensor file'), /not a readable safetensors file/],
    [f('notes.jsonl', '{"x":1}\n'), /first line is not an embed record/],
    [f('mixed.jsonl', '{"path":"a.png","embedding":[1,2],"note":"mine"}\n'), /first line is not an embed record/],
    [f('words.jsonl', 'dear diary\n'), /first line is not JSON/],
    [f('notes.txt', 'x'), /not a \.jsonl or \.safetensors file/],
  ];
  for (const [p, why] of theirs) assert.match(notEmbeddingsOutput(p) ?? 'null', why, p);
});

test('embed: --out replaces an earlier embeddings output, refuses another model\'s weights and a user\'s jsonl unless --overwrite', async () => {
  const d = tmpDir();
  // another model's folder, not an input of this run
  const other = join(d, 'other');
  cpSync(CLIP, other, { recursive: true });
  const weights = join(other, 'model.safetensors');
  const before = readFileSync(weights);
  for (const mode of [[IMAGE], ['--pixels', PIXELS]]) {
    expectFailure(await runCli(['embed', '--model', CLIP, ...mode, '--out', weights, ...BACKEND]), 1, refused(weights));
    assert.ok(readFileSync(weights).equals(before), `${mode[0]}: the other model's weights were replaced`);
  }
  const notes = join(d, 'notes.jsonl');
  writeFileSync(notes, '{"x":1}\n');
  expectFailure(await runCli(['embed', '--model', CLIP, IMAGE, '--out', notes, ...BACKEND]), 1, refused(notes));
  assert.equal(readFileSync(notes, 'utf8'), '{"x":1}\n');
  // with --overwrite the user's file is replaced
  const r = await runCli(['embed', '--model', CLIP, IMAGE, '--out', notes, '--overwrite', ...BACKEND]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(readFileSync(notes, 'utf8').trim()) as { path: string }).path, IMAGE);
  // a rerun replaces its own earlier output, jsonl and safetensors, images and --pixels
  assert.equal((await runCli(['embed', '--model', CLIP, IMAGE, IMAGE, '--out', notes, ...BACKEND])).code, 0);
  assert.equal(readFileSync(notes, 'utf8').trim().split('\n').length, 2);
  const st = join(d, 'e.safetensors');
  for (const mode of [[IMAGE], [IMAGE], ['--pixels', PIXELS], [IMAGE]]) {
    const again = await runCli(['embed', '--model', CLIP, ...mode, '--out', st, ...BACKEND]);
    assert.equal(again.code, 0, `${mode.join(' ')}: ${again.stderr}`);
  }
  assert.deepEqual(readSafetensors(st).get('embeddings')!.shape, [1, 24]);
  // --overwrite never replaces an input: the model's own weights
  const model = join(d, 'model');
  cpSync(CLIP, model, { recursive: true });
  expectFailure(await runCli(['embed', '--model', model, IMAGE, '--out', join(model, 'model.safetensors'), '--overwrite', ...BACKEND]), 1, /would replace a file of the --model folder/);
});

test('merge-embeddings: --out replaces an earlier exchange file, not another model\'s weights (unless --overwrite)', async () => {
  const d = tmpDir();
  const data = join(d, 'data');
  await makeTinyDataDir(data, { perLogo: 2, negatives: 1 });
  const shards = [0, 1].map((i) => join(d, `s${i}.safetensors`));
  for (const [i, s] of shards.entries()) {
    const r = await runCli(['embed', '--data', data, '--model', CLIP, '--shard', `${i}/2`, '--out', s, ...BACKEND]);
    assert.equal(r.code, 0, r.stderr);
  }
  const other = join(d, 'other');
  cpSync(CLIP, other, { recursive: true });
  const weights = join(other, 'model.safetensors');
  const before = readFileSync(weights);
  expectFailure(await runCli(['merge-embeddings', ...shards, '--out', weights]), 1, refused(weights));
  assert.ok(readFileSync(weights).equals(before));
  // an exchange file (here the unsharded export) is replaced by the merge, twice
  const merged = join(d, 'merged.safetensors');
  const ex = await runCli(['embed', '--data', data, '--model', CLIP, '--no-cache', '--out', merged, ...BACKEND]);
  assert.equal(ex.code, 0, ex.stderr);
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['merge-embeddings', ...shards, '--out', merged]);
    assert.equal(r.code, 0, r.stderr);
  }
  // and --overwrite replaces a foreign file
  const ok = await runCli(['merge-embeddings', ...shards, '--out', weights, '--overwrite']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(readFileSync(weights).equals(readFileSync(merged)));
});
