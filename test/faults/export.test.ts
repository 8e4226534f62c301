/**
 * Fault trials: export, convert and the trainer's own export never delete what logolab did not
 * write; compare/embed use the model that was named (a logolab export's adapter included).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { cli, expectFailure, expectOk, expectUnchanged, snapshot } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel, copyOfRun, dataDir, foreignFolder, loraExport, loraRun } from './fixtures.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { trainLora } from './fixtures.js';

describe('fault trials: export / convert / compare', () => {
  before(async () => {
    await loraExport();
    await dataDir();
  });

  for (const format of ['logolab', 'hf', 'peft']) {
    it(`export --format ${format} into a non-empty foreign --out is refused; the folder is untouched`, async () => {
      const run = await loraRun();
      const out = foreignFolder(`foreign-${format}`);
      const before = snapshot(out, run.checkpoints);
      const r = await cli('export', '--checkpoint', run.last, '--out', out, '--format', format, ...BACKEND);
      expectFailure(r, 1, /--out .*foreign-.*not empty.*--overwrite/);
      expectUnchanged(before);
    });
  }

  it('export --overwrite replaces a foreign folder when asked to', async () => {
    const run = await loraRun();
    const out = foreignFolder('foreign-overwrite');
    expectOk(await cli('export', '--checkpoint', run.last, '--out', out, '--overwrite', ...BACKEND));
    assert.ok(existsSync(join(out, 'adapter/adapter_model.safetensors')));
    assert.ok(!existsSync(join(out, 'thesis.tex')));
  });

  it('export into its own earlier export replaces it without --overwrite (marker file)', async () => {
    const run = await loraRun();
    const out = join(ROOT_TMP, 'reexport');
    expectOk(await cli('export', '--checkpoint', run.last, '--out', out, ...BACKEND));
    expectOk(await cli('export', '--checkpoint', run.last, '--out', out, '--format', 'hf', ...BACKEND));
    assert.ok(!existsSync(join(out, 'adapter')), 'the hf export replaced the logolab one');
  });

  it('export --out <the checkpoint folder> is refused even with --overwrite; no checkpoint is lost', async () => {
    const run = await copyOfRun('out-is-ckpt-dir');
    const before = snapshot(run.checkpoints);
    for (const extra of [[], ['--overwrite']]) {
      const r = await cli('export', '--checkpoint', run.last, '--out', run.checkpoints, ...extra, ...BACKEND);
      expectFailure(r, 1, /contains the (source )?checkpoint/);
    }
    const r2 = await cli('export', '--checkpoint', run.last, '--out', run.dir, '--overwrite', ...BACKEND);
    expectFailure(r2, 1, /contains the (source )?checkpoint/);
    expectUnchanged(before);
  });

  it('export --out <an existing file> is refused', async () => {
    const run = await loraRun();
    const file = join(ROOT_TMP, 'a-file.txt');
    writeFileSync(file, 'keep me\n');
    const before = snapshot(file);
    expectFailure(await cli('export', '--checkpoint', run.last, '--out', file, ...BACKEND), 1, /a-file\.txt.*not a folder/);
    expectUnchanged(before);
  });

  it('convert into a non-empty foreign --out is refused; --overwrite replaces it', async () => {
    const out = foreignFolder('foreign-convert');
    const before = snapshot(out);
    expectFailure(await cli('convert', join(FIXTURES, 'clip_tiny/model'), '--out', out), 1, /--out .*foreign-convert.*--overwrite/);
    expectUnchanged(before);
    expectOk(await cli('convert', join(FIXTURES, 'clip_tiny/model'), '--out', out, '--overwrite'));
    assert.ok(existsSync(join(out, 'logolab.json')));
  });

  it('convert of a DETR checkpoint into a non-empty foreign --out is refused', async () => {
    const out = foreignFolder('foreign-detr');
    const before = snapshot(out);
    expectFailure(await cli('convert', join(FIXTURES, 'detr_tiny/model'), '--out', out), 1, /--out .*foreign-detr.*--overwrite/);
    expectUnchanged(before);
  });

  it("the trainer's end-of-training export refuses a foreign output_dir BEFORE training", async () => {
    const data = await dataDir();
    const out = foreignFolder('foreign-train-out');
    const ck = join(ROOT_TMP, 'train-foreign', 'checkpoints');
    const before = snapshot(out);
    const r = await cli('train', '--base-model', 'preset:tiny', '--db-path', data, '--lora-r', '0', '--freeze-layers', '0', '--logos-per-batch', '2', '--samples-per-logo', '2',
      '--gradient-accumulation-steps', '1', '--batches-per-epoch', '1', '--max-epochs', '1', '--checkpoint-dir', ck, '--output-dir', out, '--split-level', 'image', ...BACKEND);
    expectFailure(r, 1, /output_dir .*foreign-train-out.*not empty/);
    assert.ok(!existsSync(join(ck, 'last.ckpt')), 'refused before any training');
    expectUnchanged(before);
  });

  it('config: output_dir equal to or a parent of checkpoint_dir is rejected (the export would delete the checkpoints)', async () => {
    const data = await dataDir();
    for (const [name, ckSub] of [['equal', ''], ['parent', 'checkpoints']] as const) {
      const dir = join(ROOT_TMP, `outdir-${name}`);
      const r = await cli('train', '--base-model', 'preset:tiny', '--db-path', data, '--checkpoint-dir', join(dir, ckSub), '--output-dir', dir, '--max-epochs', '1', ...BACKEND);
      expectFailure(r, 1, /output_dir .* (equals|contains) checkpoint_dir/);
      assert.ok(!existsSync(join(dir, ckSub, 'last.ckpt')));
    }
  });

  it('a logolab export (base + adapter/) given as --model applies its adapter: embeddings = base + --adapter, ≠ base', async () => {
    const exp = await loraExport();
    const base = await baseModel();
    const img = join(FIXTURES, 'images/square_224.png');
    const outs: Record<string, Float32Array> = {};
    for (const [name, args] of [['base', ['--model', base]], ['export', ['--model', exp]], ['explicit', ['--model', base, '--adapter', join(exp, 'adapter')]]] as const) {
      const out = join(ROOT_TMP, `emb-${name}.safetensors`);
      expectOk(await cli('embed', img, ...args, '--out', out, ...BACKEND));
      outs[name] = readSafetensors(out).get('embeddings')!.data as Float32Array;
    }
    assert.deepEqual([...outs.export!], [...outs.explicit!], 'export = base + its adapter');
    assert.notDeepEqual([...outs.export!], [...outs.base!], 'the adapter changes the embedding');
  });

  it('a logolab export whose adapter/ was removed is refused (it would silently be the base model)', async () => {
    const exp = await loraExport();
    const { cpSync, rmSync } = await import('node:fs');
    const broken = join(ROOT_TMP, 'export-no-adapter');
    cpSync(exp, broken, { recursive: true });
    rmSync(join(broken, 'adapter'), { recursive: true });
    expectFailure(await cli('embed', join(FIXTURES, 'images/square_224.png'), '--model', broken, '--out', join(ROOT_TMP, 'x.jsonl'), ...BACKEND), 1, /adapter.*(missing|removed)/);
  });

  it('a peft adapter folder given as --model says how to use it', async () => {
    const run = await loraRun();
    const peft = join(ROOT_TMP, 'peft-export');
    expectOk(await cli('export', '--checkpoint', run.last, '--out', peft, '--format', 'peft', ...BACKEND));
    expectFailure(await cli('embed', join(FIXTURES, 'images/square_224.png'), '--model', peft, '--out', join(ROOT_TMP, 'y.jsonl'), ...BACKEND), 1, /LoRA adapter.*--adapter/);
  });

  it('compare --baseline base --candidate <logolab export>: the candidate is the fine-tuned model (fingerprints differ)', async () => {
    const data = await dataDir();
    const rep = join(ROOT_TMP, 'report-export');
    const r = await cli('compare', '--data', data, '--baseline', await baseModel(), '--candidate', await loraExport(), '--report', rep, '-n', '2', '--no-cache', ...BACKEND);
    expectOk(r);
    const j = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8'));
    const [b, c] = j.models as { fingerprint?: string }[];
    assert.match(b!.fingerprint ?? '', /^[0-9a-f]{64}$/, 'report.json records which model was compared');
    assert.notEqual(b!.fingerprint, c!.fingerprint);
    assert.doesNotMatch(r.stderr, /same model/);
  });

  it('compare of a model with itself warns that both sides are the same model', async () => {
    const data = await dataDir();
    const base = await baseModel();
    const r = await cli('compare', '--data', data, '--baseline', base, '--candidate', base, '--report', join(ROOT_TMP, 'report-same'), '-n', '2', '--no-cache', ...BACKEND);
    expectOk(r);
    assert.match(r.stderr, /warn.*same model/);
  });

  it('compare --candidate <checkpoint.ckpt> leaves no temporary export behind', async () => {
    const data = await dataDir();
    const run = await loraRun();
    const tmps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('logolab-compare-')).sort();
    const before = tmps();
    expectOk(await cli('compare', '--data', data, '--baseline', await baseModel(), '--candidate', run.last, '--report', join(ROOT_TMP, 'report-ckpt'), '-n', '2', '--no-cache', ...BACKEND));
    assert.deepEqual(tmps(), before);
  });

  it('a temp folder left by a killed export is removed by the next export (only ours, only of dead processes)', async () => {
    const run = await loraRun();
    const out = join(ROOT_TMP, 'after-kill');
    const stale = join(ROOT_TMP, '.after-kill.999999999.1.tmp');
    const foreignDot = join(ROOT_TMP, '.after-kill.notes');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'model.safetensors'), 'half-written');
    writeFileSync(foreignDot, 'keep');
    expectOk(await cli('export', '--checkpoint', run.last, '--out', out, ...BACKEND));
    assert.ok(!existsSync(stale), 'stale temp folder removed');
    assert.ok(existsSync(foreignDot), 'a file that is not our temp name is kept');
  });

  it('demo --out <a non-empty folder that holds no demo run> is refused before anything is written', async () => {
    const out = foreignFolder('foreign-demo');
    const before = snapshot(out);
    expectFailure(await cli('demo', '--out', out, '--mode', 'tiny', ...BACKEND), 1, /foreign-demo.*not empty.*no demo run/);
    expectUnchanged(before);
    assert.deepEqual(readdirSync(out).sort(), ['sub', 'thesis.tex']);
  });

  it("a training run's final export into its own earlier export (marker) succeeds", async () => {
    const dir = join(ROOT_TMP, 'retrain');
    mkdirSync(dir, { recursive: true });
    const first = await trainLora(dir);
    const out = join(dir, 'model');
    expectOk(await cli('export', '--checkpoint', first.last, '--out', out, ...BACKEND));
    expectOk(await cli('export', '--checkpoint', first.last, '--out', out, ...BACKEND));
  });
});
