/**
 * `train` with base_model given as an HF repo id (as `--help` documents): resolved through the
 * local HF cache (a local path that exists still wins), trained, exported, and the id and commit
 * recorded in the checkpoint and export_metadata.json.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { runCli } from '../cli/run.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { absoluteBaseModel, resolveBaseModel } from '../../training/provenance.js';
import { adapterBase } from '../../training/export.js';
import { makeDataDir } from './prepared-data.js';

process.env.LOGOLAB_QUIET = '1';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
let WORK = '';
let SNAP = '';
let saved: string | undefined;

before(() => {
  WORK = tmpDir('logolab-hub-train-');
  SNAP = join(WORK, 'hub', 'models--acme--clip-tiny', 'snapshots', COMMIT);
  mkdirSync(SNAP, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(FIXTURES, 'clip_tiny/model', f), join(SNAP, f));
  mkdirSync(join(WORK, 'hub', 'models--acme--clip-tiny', 'refs'));
  writeFileSync(join(WORK, 'hub', 'models--acme--clip-tiny', 'refs', 'main'), COMMIT);
  saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = join(WORK, 'hub');
});

after(() => {
  rmSync(WORK, { recursive: true, force: true });
  if (saved === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = saved;
});

test('a repo id stays one in the config (not <cwd>/org/name) and resolves to its cached snapshot; a local folder of that name wins', () => {
  assert.equal(absoluteBaseModel('acme/clip-tiny'), 'acme/clip-tiny');
  assert.equal(resolveBaseModel('acme/clip-tiny'), SNAP);
  assert.equal(resolveBaseModel('preset:tiny'), 'preset:tiny');
  const cwd = process.cwd();
  try {
    mkdirSync(join(WORK, 'cwd', 'acme', 'clip-tiny'), { recursive: true });
    process.chdir(join(WORK, 'cwd'));
    assert.equal(absoluteBaseModel('acme/clip-tiny'), join(WORK, 'cwd', 'acme', 'clip-tiny'));
    assert.equal(resolveBaseModel('acme/clip-tiny'), join(WORK, 'cwd', 'acme', 'clip-tiny'));
  } finally {
    process.chdir(cwd);
  }
  assert.throws(() => resolveBaseModel('acme/nothing'), /^LogolabError: acme\/nothing: no such folder, and not in the Hugging Face cache/);
});

test('`train --base-model org/name` trains from the cache snapshot and records the id and commit (checkpoint, export)', async () => {
  const data = await makeDataDir(4, 4);
  const cfgPath = join(WORK, 'tiny.yaml');
  writeFileSync(
    cfgPath,
    [
      'base_model: "preset:tiny"', `db_path: "${data}"`, 'split_level: image', 'train_split: 0.5', 'val_split: 0.5', 'test_split: 0', 'logos_per_batch: 2', 'samples_per_logo: 2',
      'gradient_accumulation_steps: 1', 'batches_per_epoch: 2', 'val_batches: 1', 'batch_size: 8', 'lora_r: 4', 'lora_alpha: 8', 'freeze_layers: 2', 'use_gradient_checkpointing: false',
      'max_epochs: 1', 'num_workers: 0', 'augmentation_strength: light', `checkpoint_dir: "${join(WORK, 'ck')}"`, `output_dir: "${join(WORK, 'out')}"`, 'mixed_precision: false',
    ].join('\n') + '\n',
  );
  const r = await runCli(['train', '--backend', 'cpu', '--config', cfgPath, '--base-model', 'acme/clip-tiny']);
  assert.equal(r.code, 0, r.stderr);
  const ck = loadCheckpoint(join(WORK, 'ck', 'last.ckpt'));
  assert.equal(ck.state.model.base_model, SNAP);
  assert.deepEqual(ck.state.model.base_model_hub, { ref: 'acme/clip-tiny', commit: COMMIT });
  assert.equal(ck.state.config.base_model, 'acme/clip-tiny');
  const meta = JSON.parse(readFileSync(join(WORK, 'out', 'export_metadata.json'), 'utf8'));
  assert.equal(meta.base_model, SNAP);
  assert.deepEqual(meta.base_model_hub, { ref: 'acme/clip-tiny', commit: COMMIT });
  // the adapter names its base as peft fetches it (the repo id at the commit trained on), not as
  // this machine's cache path: in the trainer's export (adapter/) and in a peft export
  const base = (f: string) => {
    const c = JSON.parse(readFileSync(f, 'utf8')) as { base_model_name_or_path: unknown; revision: unknown };
    return [c.base_model_name_or_path, c.revision];
  };
  assert.deepEqual(base(join(WORK, 'out', 'adapter', 'adapter_config.json')), ['acme/clip-tiny', COMMIT]);
  const peft = join(WORK, 'peft');
  const e = await runCli(['export', '--backend', 'cpu', '--checkpoint', join(WORK, 'ck', 'last.ckpt'), '--out', peft, '--format', 'peft']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(base(join(peft, 'adapter_config.json')), ['acme/clip-tiny', COMMIT]);
  rmSync(data, { recursive: true, force: true });
});

test("an adapter's base as peft fetches it: a hub id at its snapshot commit, a folder's path, nothing for a preset", () => {
  assert.deepEqual(adapterBase({ base_model: SNAP, base_model_hub: { ref: 'acme/clip-tiny@v1', commit: COMMIT } }), { baseModel: 'acme/clip-tiny', revision: COMMIT });
  assert.deepEqual(adapterBase({ base_model: '/models/clip-tiny' }), { baseModel: '/models/clip-tiny', revision: null });
  assert.deepEqual(adapterBase({ base_model: 'preset:dinov2/tiny' }), { baseModel: null, revision: null });
});
