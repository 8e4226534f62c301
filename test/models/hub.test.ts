/**
 * Model references by Hugging Face repo id through a fake HF cache (refs → snapshots → symlinked
 * blobs, as huggingface_hub lays it out): by id, by branch/tag and by commit, at every entry point
 * (embed --model, convert, eval/compare's encoder loader, detr:…, LogoLab.load, training
 * base_model); a missing model or revision says where it looked and the download command.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, maxAbsDiff, tmpDir } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { hubCacheDir, parseRepoRef, resolveModelPath } from '../../src/models/hub.js';
import { runCli } from '../cli/run.js';
import { LogoLab } from '../../src/api.js';
import { loadEncoder } from '../../cli/commands/_eval-shared.js';
import { loadBaseModel } from '../../training/model.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const MAIN = sha1('main');
const V1 = sha1('v1');
let HUB = '';
let saved: string | undefined;

/** models--<org>--<name> with blobs, snapshots of symlinks into them, and refs. */
function addRepo(hub: string, repoId: string, snapshots: Record<string, Record<string, string>>, refs: Record<string, string>): string {
  const repo = join(hub, `models--${repoId.replace('/', '--')}`);
  for (const [commit, files] of Object.entries(snapshots)) {
    mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
    for (const [name, src] of Object.entries(files)) {
      const blob = createHash('sha256').update(readFileSync(src)).digest('hex');
      mkdirSync(join(repo, 'blobs'), { recursive: true });
      if (!existsSync(join(repo, 'blobs', blob))) copyFileSync(src, join(repo, 'blobs', blob));
      symlinkSync(join('..', '..', 'blobs', blob), join(repo, 'snapshots', commit, name));
    }
  }
  for (const [ref, commit] of Object.entries(refs)) {
    mkdirSync(join(repo, 'refs', ref, '..'), { recursive: true });
    writeFileSync(join(repo, 'refs', ref), commit); // huggingface_hub writes no trailing newline
  }
  return repo;
}

before(() => {
  HUB = join(tmpDir('logolab-hub-'), 'hub');
  const clip = join(FIXTURES, 'clip_tiny/model');
  addRepo(HUB, 'acme/clip-tiny', {
    [MAIN]: { 'config.json': join(clip, 'config.json'), 'model.safetensors': join(clip, 'model.safetensors') },
    // an older revision that only has pytorch_model.bin
    [V1]: { 'config.json': join(clip, 'config.json'), 'pytorch_model.bin': join(FIXTURES, 'generated/bin/clip_tiny/pytorch_model.bin') },
  }, { main: MAIN, v1: V1, 'pr/1': V1 });
  const detr = join(FIXTURES, 'detr_tiny/model');
  addRepo(HUB, 'acme/detr-tiny', { [MAIN]: { 'config.json': join(detr, 'config.json'), 'model.safetensors': join(detr, 'model.safetensors') } }, { main: MAIN });
  saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = HUB;
});

after(() => {
  rmSync(join(HUB, '..'), { recursive: true, force: true });
  if (saved === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = saved;
});

const snap = (repo: string, commit: string) => join(HUB, `models--${repo.replace('/', '--')}`, 'snapshots', commit);

test('repo ids and revisions parse; paths, presets and odd strings are not repo ids', () => {
  assert.deepEqual(parseRepoRef('openai/clip-vit-large-patch14'), { repoId: 'openai/clip-vit-large-patch14', revision: 'main' });
  assert.deepEqual(parseRepoRef('facebook/dinov2-giant@refs/pr/3'), { repoId: 'facebook/dinov2-giant', revision: 'refs/pr/3' });
  assert.deepEqual(parseRepoRef(`a.b/c_d@${MAIN}`), { repoId: 'a.b/c_d', revision: MAIN });
  for (const s of ['./models/x', '/abs/path', 'a/b/c', 'preset:clip:tiny', 'detr-r50', 'a--b/c', '../x', 'a/..', 'a/b@..', 'a/b@x y']) assert.equal(parseRepoRef(s), null, s);
});

test('the cache folder follows huggingface_hub: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME', () => {
  assert.deepEqual(hubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), { dir: '/a', from: '$HF_HUB_CACHE' });
  assert.deepEqual(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), { dir: '/b', from: '$HUGGINGFACE_HUB_CACHE' });
  assert.deepEqual(hubCacheDir({ HF_HOME: '/c', XDG_CACHE_HOME: '/x' }), { dir: '/c/hub', from: '$HF_HOME/hub' });
  assert.deepEqual(hubCacheDir({ XDG_CACHE_HOME: '/x' }), { dir: '/x/huggingface/hub', from: '$XDG_CACHE_HOME/huggingface/hub' });
  assert.match(hubCacheDir({}).dir, /\.cache\/huggingface\/hub$/);
});

test('resolve by id (refs/main), by tag or branch, by commit; HF_HOME works the same; a local folder wins', () => {
  const q = { quiet: true };
  assert.equal(resolveModelPath('acme/clip-tiny', q), snap('acme/clip-tiny', MAIN));
  assert.equal(resolveModelPath('acme/clip-tiny@v1', q), snap('acme/clip-tiny', V1));
  assert.equal(resolveModelPath('acme/clip-tiny@pr/1', q), snap('acme/clip-tiny', V1));
  assert.equal(resolveModelPath(`acme/clip-tiny@${V1}`, q), snap('acme/clip-tiny', V1));
  assert.equal(resolveModelPath('acme/clip-tiny', { quiet: true, env: { HF_HOME: join(HUB, '..') } }), snap('acme/clip-tiny', MAIN));
  const local = join(FIXTURES, 'clip_tiny/model');
  assert.equal(resolveModelPath(local, q), local);
  assert.equal(resolveModelPath('preset:clip:tiny', q), 'preset:clip:tiny');
});

test('missing model, revision or blob: one line saying where it looked and the download command', () => {
  const q = { quiet: true };
  assert.throws(() => resolveModelPath('acme/nothing', q), (e: Error) => {
    assert.ok(e.message.includes(join(HUB, 'models--acme--nothing')), e.message);
    assert.match(e.message, /^acme\/nothing: no such folder, and not in the Hugging Face cache .*cache from \$HF_HUB_CACHE\); logolab never downloads; fetch it with: huggingface-cli download acme\/nothing$/);
    return true;
  });
  assert.throws(() => resolveModelPath('acme/clip-tiny@v9', q), /revision 'v9' is not in the Hugging Face cache \(.* has refs: main, pr\/1, v1, snapshot [0-9a-f]{12}, snapshot [0-9a-f]{12}\); logolab never downloads; fetch it with: huggingface-cli download acme\/clip-tiny --revision v9$/);
  const hub2 = join(tmpDir('logolab-hub2-'), 'hub');
  const repo = addRepo(hub2, 'acme/broken', { [MAIN]: { 'config.json': join(FIXTURES, 'clip_tiny/model/config.json'), 'model.safetensors': join(FIXTURES, 'clip_tiny/model/model.safetensors') } }, { main: MAIN });
  rmSync(join(repo, 'blobs', createHash('sha256').update(readFileSync(join(FIXTURES, 'clip_tiny/model/model.safetensors'))).digest('hex')));
  assert.throws(() => resolveModelPath('acme/broken', { quiet: true, env: { HF_HUB_CACHE: hub2 } }), /model\.safetensors links to a missing blob \(interrupted download\?\); .*huggingface-cli download acme\/broken$/);
});

test('every entry point takes a repo id: embed --model (safetensors and .bin revisions), convert, eval/compare encoders, detr:, LogoLab.load, base_model', async () => {
  const d = tmpDir();
  const io = readSafetensors(join(FIXTURES, 'clip_tiny/io.safetensors'));
  const px = join(FIXTURES, 'clip_tiny/io.safetensors');
  const outs: Float32Array[] = [];
  for (const ref of ['acme/clip-tiny', 'acme/clip-tiny@v1']) {
    const out = join(d, `${ref.replace(/\W/g, '_')}.safetensors`);
    const r = await runCli(['embed', '--model', ref, '--pixels', px, '--out', out, '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Hugging Face cache snapshot/);
    const e = readSafetensors(out).get('image_embeds')!;
    assert.ok(maxAbsDiff(e.data, io.get('image_embeds')!.data) <= 1e-4, ref);
    outs.push(e.data as Float32Array);
  }
  assert.equal(maxAbsDiff(outs[0]!, outs[1]!), 0, 'the .bin revision gives the same embeddings');
  const conv = await runCli(['convert', 'acme/clip-tiny@v1', '--out', join(d, 'conv')]);
  assert.equal(conv.code, 0, conv.stderr);
  assert.ok(existsSync(join(d, 'conv/model.safetensors')));
  const missing = await runCli(['embed', '--model', 'acme/nothing', '--pixels', px, '--out', join(d, 'x.safetensors'), '--backend', 'wasm']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^logolab: error: acme\/nothing: no such folder, .*huggingface-cli download acme\/nothing\n$/m);

  // eval --model / compare --baseline --candidate load through loadEncoder
  const enc = await loadEncoder('acme/clip-tiny', undefined, 'default', 4);
  assert.equal(enc.encoder.name, 'acme/clip-tiny');
  assert.equal(enc.model.dir, snap('acme/clip-tiny', MAIN));
  enc.model.dispose();
  // LogoLab.load with an encoder and a detr: detector by id
  const ll = await LogoLab.load({ encoder: 'acme/clip-tiny', detector: 'detr:acme/detr-tiny', backend: 'wasm' });
  assert.equal(ll.model.dir, snap('acme/clip-tiny', MAIN));
  ll.dispose();
  // training's base_model
  const base = await loadBaseModel({ base_model: 'acme/clip-tiny@v1', seed: 0, preprocess_mode: 'default', vision_config: {} });
  assert.equal(base.dir, snap('acme/clip-tiny', V1));
  base.dispose();
});
