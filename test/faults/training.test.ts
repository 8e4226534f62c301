/**
 * Fault trials: training configs, signals, checkpoints and resume. A damaged checkpoint or a base
 * model that changed since training is refused; history never runs ahead of last.ckpt; resuming
 * a copied checkpoint writes into the copy; base_model does not depend on the working directory.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, openSync, writeSync, closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliProcess, expectFailure, expectOk, expectUnchanged, snapshot, injectFsFault } from './harness.js';
import { BACKEND, ROOT_TMP, backend, baseModel, copyOfRun, dataDir, loraRun, trainLora } from './fixtures.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { readSafetensors, writeSafetensors, SafetensorsFile, type WriteTensor } from '../../src/io/safetensors.js';

/** Flips one bit of a file at `pos` (negative: from the end). */
function flipBit(file: string, pos: number): void {
  const at = pos < 0 ? statSync(file).size + pos : pos;
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0]! ^= 0x10;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

/** Training options for a tiny full-training run on the tiny data dir. */
async function tinyTrainArgs(ck: string, extra: string[] = []): Promise<string[]> {
  return ['train', '--base-model', 'preset:tiny', '--db-path', await dataDir(), '--split-level', 'image', '--lora-r', '0', '--freeze-layers', '0', '--logos-per-batch', '2',
    '--samples-per-logo', '2', '--gradient-accumulation-steps', '1', '--batches-per-epoch', '1', '--val-batches', '1', '--warmup-steps', '0', '--checkpoint-dir', ck,
    '--output-dir', join(ck, '..', 'model'), '--use-augmentation', 'false', ...extra, ...BACKEND];
}

describe('fault trials: training, checkpoints, resume, signals', () => {
  before(async () => {
    await backend();
    await loraRun();
    await dataDir();
  });

  it('a bit-flipped checkpoint is refused by resume and by export (checksum)', async () => {
    const run = await copyOfRun('bitflip');
    flipBit(run.last, -3); // inside the tensor data
    assert.throws(() => loadCheckpoint(run.last), /checksum/);
    const before = snapshot(run.dir);
    expectFailure(await cli('export', '--checkpoint', run.last, '--out', join(ROOT_TMP, 'bitflip-export'), ...BACKEND), 1, /last\.ckpt.*checksum/);
    expectFailure(await cli('train', '--resume', run.last, ...BACKEND), 1, /last\.ckpt.*checksum/);
    expectUnchanged(before);
  });

  it('a checkpoint whose base model changed since training is refused by export and resume', async () => {
    const dir = join(ROOT_TMP, 'base-changed');
    const base = join(dir, 'base');
    cpSync(await baseModel(), base, { recursive: true });
    const r = await trainLora(join(dir, 'run'), { base_model: base });
    // someone replaces the base model's weights in place
    const file = join(base, 'model.safetensors');
    const f = SafetensorsFile.open(file);
    const metadata = f.metadata;
    f.close();
    const tensors = new Map<string, WriteTensor>();
    for (const [k, t] of readSafetensors(file)) {
      const data = Float32Array.from(t.data as Float32Array);
      if (k.endsWith('layers.3.mlp.fc2.weight')) for (let i = 0; i < data.length; i++) data[i] = data[i]! * 1.5;
      tensors.set(k, { shape: t.shape, data });
    }
    writeSafetensors(file, tensors, metadata);
    expectFailure(await cli('export', '--checkpoint', r.last, '--out', join(dir, 'export'), ...BACKEND), 1, /base model .*changed since/);
    expectFailure(await cli('train', '--resume', r.last, '--db-path', await dataDir(), ...BACKEND), 1, /base model .*changed since/);
    assert.ok(!existsSync(join(dir, 'export')));
  });

  it('a relative base_model is resolved when training starts: export from another working directory uses the same base', async () => {
    const dir = join(ROOT_TMP, 'relative-base');
    mkdirSync(join(dir, 'a'), { recursive: true });
    cpSync(await baseModel(), join(dir, 'a', 'models', 'base'), { recursive: true });
    const cwd = process.cwd();
    let last: string;
    try {
      process.chdir(join(dir, 'a'));
      last = (await trainLora(join(dir, 'run'), { base_model: 'models/base' })).last;
    } finally {
      process.chdir(cwd);
    }
    // another folder holds a DIFFERENT model at the same relative path
    const otherBase = join(dir, 'b', 'models', 'base');
    cpSync(await baseModel(), otherBase, { recursive: true });
    // edited in both config files: a folder where they disagree is refused on load
    const cfgFile = join(otherBase, 'logolab.json');
    const meta = JSON.parse(readFileSync(cfgFile, 'utf8'));
    meta.vision_config.layer_norm_eps = 1e-3;
    writeFileSync(cfgFile, JSON.stringify(meta));
    const hfFile = join(otherBase, 'config.json');
    writeFileSync(hfFile, JSON.stringify({ ...JSON.parse(readFileSync(hfFile, 'utf8')), layer_norm_eps: 1e-3 }));
    const exp = join(dir, 'export');
    try {
      process.chdir(join(dir, 'b'));
      expectOk(await cli('export', '--checkpoint', last!, '--out', exp, ...BACKEND));
    } finally {
      process.chdir(cwd);
    }
    const exported = JSON.parse(readFileSync(join(exp, 'config.json'), 'utf8'));
    assert.equal(exported.layer_norm_eps, 1e-5, 'exported onto the base it was trained on');
  });

  it('resuming a COPIED checkpoint writes into the copy\'s folder; the original run is untouched', async () => {
    const orig = join(ROOT_TMP, 'copy-orig');
    await trainLora(orig);
    const copy = join(ROOT_TMP, 'copy-of-run');
    cpSync(orig, copy, { recursive: true });
    const before = snapshot(orig);
    const r = await cli('train', '--resume', join(copy, 'checkpoints', 'last.ckpt'), '--db-path', await dataDir(), '--split-level', 'image', '--max-epochs', '2', '--skip-export', ...BACKEND);
    expectOk(r);
    expectUnchanged(before, 'the original run');
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(copy, 'checkpoints', 'training_history.json'), 'utf8'))).length, 2);
    assert.equal(loadCheckpoint(join(copy, 'checkpoints', 'last.ckpt')).state.epoch, 2);
  });

  it('SIGINT mid-epoch: the step finishes, last.ckpt is saved (reason interrupt) and history is not ahead of it', async () => {
    const dir = join(ROOT_TMP, 'sigint');
    const r = await trainLora(dir, { max_epochs: 2 }, { handleSignals: true, onStep: (s) => void (s.step === 3 && process.emit('SIGINT' as never)) });
    assert.equal(r.result.status, 'interrupted');
    const ck = loadCheckpoint(r.last);
    assert.equal(ck.state.reason, 'interrupt');
    assert.equal(ck.state.global_step, 3);
    const hist = JSON.parse(readFileSync(join(dir, 'checkpoints', 'training_history.json'), 'utf8'));
    assert.ok(hist.length <= ck.state.history.length);
  });

  it('SIGTERM before the first step still leaves a resumable last.ckpt', async () => {
    const dir = join(ROOT_TMP, 'sigterm');
    const r = await trainLora(dir, {}, { handleSignals: true, onStep: (s) => void (s.step === 1 && process.emit('SIGTERM' as never)) });
    assert.equal(r.result.status, 'interrupted');
    assert.equal(loadCheckpoint(r.last).state.global_step, 1);
  });

  it('SIGINT twice (a real process): exits 130 at once; whatever checkpoint is on disk loads', async () => {
    const ck = join(ROOT_TMP, 'double-sigint', 'checkpoints');
    const args = await tinyTrainArgs(ck, ['--max-epochs', '50', '--skip-export']);
    args[args.indexOf('--batches-per-epoch') + 1] = '4';
    let sent = 0;
    const r = await cliProcess(args, {
      timeoutMs: 120_000,
      onStderr: (s, kill) => {
        if (sent === 0 && /epoch 1\/50/.test(s)) {
          sent = 1;
          kill('SIGINT');
        } else if (sent === 1 && /SIGINT: finishing the current step/.test(s)) {
          sent = 2;
          kill('SIGINT');
        }
      },
    });
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 130, r.stderr);
    // the second signal stops at once, unless the step and its checkpoint finished first
    assert.match(r.stderr, /SIGINT again: stopping at once|SIGINT: checkpoint saved/);
    for (const f of ['last.ckpt', 'best.ckpt']) if (existsSync(join(ck, f))) loadCheckpoint(join(ck, f));
  });

  it('ENOSPC while writing last.ckpt: one error line naming it, the previous last.ckpt intact, history not ahead', async () => {
    const ck = join(ROOT_TMP, 'enospc-train', 'checkpoints');
    expectOk(await cli(...(await tinyTrainArgs(ck, ['--max-epochs', '1', '--skip-export']))));
    const before = snapshot(join(ck, 'last.ckpt'), join(ck, 'training_history.json'));
    const restore = injectFsFault('ENOSPC', ck, 'write', /^\.?last\.ckpt/);
    let r;
    try {
      r = await cli('train', '--resume', join(ck, 'last.ckpt'), '--max-epochs', '2', '--skip-export', ...BACKEND);
    } finally {
      restore();
    }
    expectFailure(r, 1, /last\.ckpt.*no space left on device/);
    expectUnchanged(before);
    const hist = JSON.parse(readFileSync(join(ck, 'training_history.json'), 'utf8'));
    assert.equal(hist.length, loadCheckpoint(join(ck, 'last.ckpt')).state.history.length);
  });

  it('samples_per_logo above the images available warns, naming the logos', async () => {
    const ck = join(ROOT_TMP, 'spl', 'checkpoints');
    const args = await tinyTrainArgs(ck, ['--max-epochs', '1', '--skip-export']);
    args[args.indexOf('--samples-per-logo') + 1] = '9';
    const r = await cli(...args);
    expectOk(r);
    assert.match(r.stderr, /warn.*samples_per_logo 9.*(alpha|beta|gamma|delta)/);
  });

  it('a second training run into a checkpoint_dir in use is refused; a stale lock (dead process) is taken over', async () => {
    const ck = join(ROOT_TMP, 'locked-run', 'checkpoints');
    mkdirSync(ck, { recursive: true });
    writeFileSync(join(ck, '.lock'), `${process.ppid}\n`); // a live process: another run
    expectFailure(await cli(...(await tinyTrainArgs(ck, ['--max-epochs', '1', '--skip-export']))), 1, /locked-run\/checkpoints: in use by another training run \(process \d+; .*locked-run\/checkpoints\/\.lock\); wait for it, or use another checkpoint_dir \(if no training run uses .*, remove .*\.lock\)/);
    assert.ok(!existsSync(join(ck, 'last.ckpt')));
    writeFileSync(join(ck, '.lock'), '999999999\n'); // a killed run
    const r = await cli(...(await tinyTrainArgs(ck, ['--max-epochs', '1', '--skip-export'])));
    expectOk(r);
    assert.match(r.stderr, /removing the lock of a run that is no longer running/);
    assert.ok(existsSync(join(ck, 'last.ckpt')) && !existsSync(join(ck, '.lock')));
  });

  it('a config value out of range in YAML is an error naming the key and value', async () => {
    const f = join(ROOT_TMP, 'bad-lr.yaml');
    writeFileSync(f, 'learning_rate: -1\n');
    expectFailure(await cli('train', '--config', f), 1, /bad-lr\.yaml.*learning_rate.*-1/);
  });

  it('a config override that is not a number is an error quoting it', async () => {
    expectFailure(await cli('train', '--learning-rate', 'abc', '--base-model', 'preset:tiny'), 2, /--learning-rate.*"abc"/);
  });

  it('--resume of a file that is not a checkpoint says so', async () => {
    expectFailure(await cli('train', '--resume', join(await baseModel(), 'model.safetensors')), 1, /not a logolab training checkpoint/);
  });

  it('export of a checkpoint whose base model folder is gone names the missing folder', async () => {
    const dir = join(ROOT_TMP, 'base-gone');
    const base = join(dir, 'base');
    cpSync(await baseModel(), base, { recursive: true });
    const r = await trainLora(join(dir, 'run'), { base_model: base });
    const { rmSync } = await import('node:fs');
    rmSync(base, { recursive: true });
    expectFailure(await cli('export', '--checkpoint', r.last, '--out', join(dir, 'export'), ...BACKEND), 1, /base-gone\/base.*not found/);
  });
});
