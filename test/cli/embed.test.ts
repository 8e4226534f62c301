// `logolab convert` and `logolab embed` end to end (in-process), and their bad-input behaviour:
// one-line error naming the file/key, exit code 1, no (partial) output file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, maxAbsDiff, tmpDir } from '../helpers.js';
import { readSafetensors, SafetensorsFile, writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';
import { LogoLab } from '../../src/api.js';
import { expectFailure, runCli } from './run.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const io = readSafetensors(join(FIXTURES, 'clip_tiny/io.safetensors'));


/** a copy of clip_tiny whose model.safetensors is rewritten by `edit` */
function editedModel(dir: string, edit: (t: Map<string, WriteTensor>) => void): string {
  const m = join(dir, 'model');
  mkdirSync(m, { recursive: true });
  cpSync(join(CLIP, 'config.json'), join(m, 'config.json'));
  const t = new Map<string, WriteTensor>();
  for (const [k, v] of readSafetensors(join(CLIP, 'model.safetensors'))) t.set(k, { shape: v.shape, data: v.data });
  edit(t);
  writeSafetensors(join(m, 'model.safetensors'), t);
  return m;
}

test('convert (float32 and float16) + embed --pixels: HF outputs from converted folders', async () => {
  const d = tmpDir();
  for (const dtype of ['float32', 'float16']) {
    const out = join(d, `clip-${dtype}`);
    const r = await runCli(['convert', CLIP, '--out', out, '--dtype', dtype]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).parameters, 149_120);
    for (const f of ['logolab.json', 'config.json', 'preprocessor_config.json', 'model.safetensors']) assert.ok(existsSync(join(out, f)), f);
    const e = join(d, `emb-${dtype}.safetensors`);
    const r2 = await runCli(['embed', '--model', out, '--pixels', join(FIXTURES, 'clip_tiny/io.safetensors'), '--out', e, '--backend', 'wasm']);
    assert.equal(r2.code, 0, r2.stderr);
    const got = readSafetensors(e);
    const tol = dtype === 'float32' ? 1e-4 : 5e-3;
    for (const k of ['image_embeds', 'pooler_output', 'last_hidden_state']) {
      assert.deepEqual(got.get(k)!.shape, io.get(k)!.shape);
      const err = maxAbsDiff(got.get(k)!.data, io.get(k)!.data);
      console.log(`convert ${dtype} → embed --pixels: ${k} max abs err ${err.toExponential(2)}`);
      assert.ok(err <= tol, `${dtype} ${k}: ${err}`);
    }
  }
  // float16 halves the weights file
  const s32 = statSync(join(d, 'clip-float32/model.safetensors')).size;
  const s16 = statSync(join(d, 'clip-float16/model.safetensors')).size;
  assert.ok(s16 < 0.52 * s32 && s16 > 0.48 * s32, `${s16} vs ${s32}`);
  // the converted config.json is an HF CLIPVisionModelWithProjection config
  const cfg = JSON.parse(readFileSync(join(d, 'clip-float32/config.json'), 'utf8'));
  assert.equal(cfg.architectures[0], 'CLIPVisionModelWithProjection');
  assert.equal(cfg.projection_dim, 24);
});

test('embed images and folders → jsonl and safetensors, --normalize', async () => {
  const d = tmpDir();
  const jl = join(d, 'e.jsonl');
  const r = await runCli(['embed', '--model', CLIP, join(FIXTURES, 'images'), '--out', jl, '--normalize', '--batch-size', '3', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no preprocessor_config\.json; using the clip default CLIPImageProcessor/);
  const recs = readFileSync(jl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; model_fingerprint: string; normalized: boolean; embedding: number[] });
  assert.equal(recs.length, 4);
  // each record names its model and whether it is normalised, as the safetensors metadata does
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'wasm' });
  const fingerprint = ll.fingerprint();
  ll.dispose();
  for (const x of recs) assert.deepEqual(Object.keys(x), ['path', 'model_fingerprint', 'normalized', 'embedding']);
  assert.deepEqual(new Set(recs.map((x) => [x.model_fingerprint, x.normalized].join())), new Set([`${fingerprint},true`]));
  assert.deepEqual(recs.map((x) => x.path.split('/').pop()), ['small_40x23.png', 'square_224.png', 'tall_97x151.png', 'wide_300x200.png']);
  for (const x of recs) {
    assert.equal(x.embedding.length, 24);
    assert.ok(Math.abs(Math.hypot(...x.embedding) - 1) < 1e-5);
  }
  const st = join(d, 'e.safetensors');
  const r2 = await runCli(['embed', '--model', CLIP, join(FIXTURES, 'images/square_224.png'), join(FIXTURES, 'images/wide_300x200.png'), '--out', st, '--backend', 'wasm']);
  assert.equal(r2.code, 0, r2.stderr);
  const t = readSafetensors(st).get('embeddings')!;
  assert.deepEqual(t.shape, [2, 24]);
  const meta = SafetensorsFile.open(st);
  assert.equal(meta.metadata.model_fingerprint, fingerprint);
  meta.close();
  // without --normalize a jsonl record says so
  const raw = join(d, 'raw.jsonl');
  assert.equal((await runCli(['embed', '--model', CLIP, join(FIXTURES, 'images/square_224.png'), '--out', raw, '--backend', 'wasm'])).code, 0);
  const rawRec = JSON.parse(readFileSync(raw, 'utf8').trim()) as { model_fingerprint: string; normalized: boolean; embedding: number[] };
  assert.deepEqual([rawRec.model_fingerprint, rawRec.normalized], [fingerprint, false]);
  assert.ok(Math.abs(Math.hypot(...rawRec.embedding) - 1) > 1e-3, 'raw image_embeds');
  // unnormalised here; same direction as the jsonl record of the same image
  const v = Array.from(t.data.subarray(0, 24));
  const n = Math.hypot(...v);
  assert.ok(maxAbsDiff(v.map((x) => x / n), recs[1]!.embedding) < 1e-5);
});

test('embed --pixels: a pixel_values of the wrong shape is one error naming the file, with no image-size warning first', async () => {
  const d = tmpDir();
  const out = join(d, 'out.safetensors');
  for (const shape of [[1, 3, 64], [1, 4, 64, 64], [0, 3, 64, 64]]) {
    const px = join(d, `px-${shape.join('x')}.safetensors`);
    writeSafetensors(px, { pixel_values: { shape, data: new Float32Array(shape.reduce((x, y) => x * y, 1)) } });
    const r = await runCli(['embed', '--model', CLIP, '--pixels', px, '--out', out, '--backend', 'wasm']);
    const shown = JSON.stringify(shape).replace(/[[\]]/g, '\\$&');
    expectFailure(r, 1, new RegExp(`px-${shape.join('x')}\\.safetensors: tensor 'pixel_values' has shape ${shown}, expected \\[N, 3, H, W\\]`));
    assert.doesNotMatch(r.stderr, /pixel_values are|interpolated/, r.stderr);
  }
  assert.ok(!existsSync(out));
});

test('bad input: one-line error naming the file/key, exit 1, no output file', async () => {
  const d = tmpDir();
  const out = join(d, 'out.safetensors');
  const px = join(FIXTURES, 'clip_tiny/io.safetensors');
  const embedPx = (model: string) => runCli(['embed', '--model', model, '--pixels', px, '--out', out, '--backend', 'wasm']);

  // truncated weights file
  const trunc = editedModel(join(d, 'trunc'), () => {});
  truncateSync(join(trunc, 'model.safetensors'), statSync(join(trunc, 'model.safetensors')).size - 100);
  expectFailure(await embedPx(trunc), 1, /trunc\/model\/model\.safetensors: .*(outside|truncated)/);
  // corrupt header
  const corrupt = editedModel(join(d, 'corrupt'), () => {});
  const fd = openSync(join(corrupt, 'model.safetensors'), 'r+');
  writeSync(fd, Buffer.from('#garbage#'), 0, 9, 8); // over the header's opening '{'
  closeSync(fd);
  expectFailure(await embedPx(corrupt), 1, /corrupt\/model\/model\.safetensors: corrupt safetensors header/);
  // missing key
  const missing = editedModel(join(d, 'missing'), (t) => t.delete('vision_model.encoder.layers.2.self_attn.v_proj.weight'));
  expectFailure(await embedPx(missing), 1, /missing\/model\/model\.safetensors: missing tensor 'vision_model\.encoder\.layers\.2\.self_attn\.v_proj\.weight'/);
  // wrong shape
  const wrong = editedModel(join(d, 'wrong'), (t) => {
    const w = t.get('vision_model.post_layernorm.weight')!;
    t.set('vision_model.post_layernorm.weight', { shape: [8, 8], data: w.data });
  });
  expectFailure(await embedPx(wrong), 1, /wrong\/model\/model\.safetensors: tensor 'vision_model\.post_layernorm\.weight' has shape \[8,8\], expected \[64\]/);
  // unsupported model_type
  const vit = editedModel(join(d, 'vit'), () => {});
  writeFileSync(join(vit, 'config.json'), JSON.stringify({ model_type: 'vit', architectures: ['ViTModel'] }));
  expectFailure(await embedPx(vit), 1, /vit\/model\/config\.json: field 'model_type': unsupported model_type 'vit'/);
  expectFailure(await runCli(['convert', vit, '--out', join(d, 'conv')]), 1, /unsupported model_type 'vit'/);
  assert.ok(!existsSync(join(d, 'conv')));
  // pixels file without pixel_values
  const nopx = join(d, 'nopx.safetensors');
  writeSafetensors(nopx, { x: { shape: [1], data: new Float32Array(1) } });
  expectFailure(await runCli(['embed', '--model', CLIP, '--pixels', nopx, '--out', out, '--backend', 'wasm']), 1, /nopx\.safetensors: missing tensor 'pixel_values'/);
  // corrupt image
  const imgs = join(d, 'imgs');
  mkdirSync(imgs);
  cpSync(join(FIXTURES, 'images/square_224.png'), join(imgs, 'a.png'));
  writeFileSync(join(imgs, 'b.png'), Buffer.from('not a png at all'));
  const jl = join(d, 'out.jsonl');
  expectFailure(await runCli(['embed', '--model', CLIP, imgs, '--out', jl, '--backend', 'wasm']), 1, /imgs\/b\.png/);
  assert.ok(!existsSync(jl));
  // empty folder
  const empty = join(d, 'empty');
  mkdirSync(empty);
  expectFailure(await runCli(['embed', '--model', CLIP, empty, '--out', jl, '--backend', 'wasm']), 1, /empty: folder holds no images/);
  // nothing written, no temp files left beside the outputs
  assert.ok(!existsSync(out));
  assert.ok(!existsSync(jl));
  assert.deepEqual(readdirSync(d).filter((f) => f.includes('.tmp')), []);
});
