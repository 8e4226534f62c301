/**
 * What `train --resume` and `train --overwrite` check and leave behind:
 *   - the checkpoint records a digest of the data it trains on (listing and crop file sizes); a resume on other data is one
 *     error line naming the checkpoint and the difference (a moved copy is the same data); an
 *     older checkpoint without the digest resumes with one warning;
 *   - a start-over (--overwrite) moves the earlier run's files aside (previous-run-<time>/), so no
 *     best.ckpt or epoch_N.ckpt of it is left beside the new run's; other files stay;
 *   - resuming an older epoch_N.ckpt in a folder whose last.ckpt is another run's is refused; a
 *     fresh run into a folder holding any file an earlier run wrote there is refused;
 *   - an early-stopped run resumed with its patience stays stopped (no new epoch);
 *   - keys that cannot change the result (num_workers, prefetch_batches, log_every_n_steps,
 *     stop_after_epochs) are not reported as a config difference on resume.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { loadCheckpoint, saveCheckpoint } from '../../training/checkpoint.js';
import { makeDataDir } from './prepared-data.js';

// warnings are asserted on (and their absence): not quiet
process.env.LOGOLAB_QUIET = '0';

let WORK = '';
let DATA = '';

/** A tiny LoRA config on DATA writing to WORK/<name>/{ck,out}. */
function config(name: string): string {
  const p = join(WORK, `${name}.yaml`);
  writeFileSync(
    p,
    [
      'base_model: "preset:tiny"', `db_path: "${DATA}"`, 'split_level: image', 'train_split: 0.5', 'val_split: 0.5', 'test_split: 0', 'logos_per_batch: 2', 'samples_per_logo: 2',
      'gradient_accumulation_steps: 1', 'batches_per_epoch: 2', 'val_batches: 1', 'batch_size: 8', 'lora_r: 4', 'lora_alpha: 8', 'freeze_layers: 2', 'use_gradient_checkpointing: false',
      'learning_rate: 5.0e-3', 'warmup_steps: 0', 'num_workers: 0', 'augmentation_strength: light', 'mixed_precision: false', 'save_every_n_epochs: 1',
      `checkpoint_dir: "${join(WORK, name, 'ck')}"`, `output_dir: "${join(WORK, name, 'out')}"`,
    ].join('\n') + '\n',
  );
  return p;
}

const train = async (args: string[]) => {
  const r = await runCli(['train', '--backend', 'cpu', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r;
};

describe('`logolab train`: resume and start-over guards', () => {
  before(async () => {
    WORK = tmpDir();
    DATA = await makeDataDir(4, 4);
  });
  after(() => {
    for (const d of [WORK, DATA]) rmSync(d, { recursive: true, force: true });
  });

  it('a resume on other data is refused naming the checkpoint and the difference; a moved copy resumes; an older checkpoint warns', async () => {
    const ck = join(WORK, 'data', 'ck');
    await train(['--config', config('data'), '--max-epochs', '3', '--stop-after-epochs', '1', '--skip-export']);
    const digest = loadCheckpoint(join(ck, 'last.ckpt')).state.data_digest;
    assert.deepEqual({ logos: digest?.logos, crops: digest?.crops }, { logos: 4, crops: 16 });
    // db_path re-prepared with other data: one brand fewer
    const saved = join(WORK, 'data-saved');
    renameSync(DATA, saved);
    renameSync(await makeDataDir(3, 4), DATA);
    const r = await runCli(['train', '--backend', 'cpu', '--resume', join(ck, 'last.ckpt'), '--skip-export']);
    expectFailure(r, 1, new RegExp(`^logolab: error: ${ck}/last\\.ckpt: was trained on other data than db_path ${DATA} holds now \\(3 logos / 12 crops, trained on 4 logos / 16 crops\\); `));
    assert.equal(loadCheckpoint(join(ck, 'last.ckpt')).state.epoch, 1);
    rmSync(DATA, { recursive: true, force: true });
    renameSync(saved, DATA);
    // the same listing, one crop file re-rendered (other pixels, other size): other data too
    const refs = join(DATA, 'reference_logos');
    const crop = join(refs, (readdirSync(refs, { recursive: true }) as string[]).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()[0]!);
    const bytes = readFileSync(crop);
    writeFileSync(crop, Buffer.concat([bytes, Buffer.alloc(7)]));
    const rc = await runCli(['train', '--backend', 'cpu', '--resume', join(ck, 'last.ckpt'), '--skip-export']);
    expectFailure(rc, 1, /last\.ckpt: was trained on other data than db_path .* holds now \(the same 4 logos \/ 16 crops listed, but crop files of other sizes: re-rendered or replaced images\)/);
    writeFileSync(crop, bytes);
    // the same data elsewhere (a copy: the same listing) resumes; stop_after_epochs is no config difference
    const copy = await makeDataDir(4, 4);
    try {
      const ok = await train(['--resume', join(ck, 'last.ckpt'), '--db-path', copy, '--stop-after-epochs', '2', '--skip-export']);
      assert.doesNotMatch(ok.stderr, /config differs|data digest/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    // a checkpoint of an older logolab (no digest): one warning, then it resumes
    const old = loadCheckpoint(join(ck, 'last.ckpt'));
    delete old.state.data_digest;
    // nor val_subset: it validated on the first crops, and resumes so
    delete (old.state.config as { val_subset?: string }).val_subset;
    saveCheckpoint(join(ck, 'last.ckpt'), old);
    const w = await train(['--resume', join(ck, 'last.ckpt'), '--db-path', DATA, '--skip-export']);
    assert.equal(w.stderr.split('\n').filter((l) => /without a data digest/.test(l)).length, 1, w.stderr);
    assert.match(w.stderr, new RegExp(`${ck}/last\\.ckpt: written by an older logolab without a data digest; cannot verify that db_path ${DATA} holds the data it was trained on`));
    // the resumed run records the digest from now on
    assert.deepEqual(loadCheckpoint(join(ck, 'last.ckpt')).state.data_digest, digest);
    assert.equal(loadCheckpoint(join(ck, 'last.ckpt')).state.config.val_subset, 'first');
    assert.match(w.stderr, /val_subset first\)/);
    assert.doesNotMatch(w.stderr, /config differs[^\n]*val_subset/); // 'first' is what that run did: no difference
    // a preset base model is drawn from the seed: another --seed is another base model, said so
    const rs = await runCli(['train', '--backend', 'cpu', '--resume', join(ck, 'last.ckpt'), '--seed', '99', '--skip-export']);
    expectFailure(rs, 1, /last\.ckpt: its base model preset:tiny is random weights drawn from the config, and the config changed since the checkpoint \(seed \d+ → 99\): they are not the weights it was trained on .*; resume with the checkpoint's seed, vision_config, image_processor, random_init$/);
  });

  it('--overwrite moves the earlier run aside; resuming its epoch_N.ckpt beside the new run\'s last.ckpt is refused', async () => {
    const ck = join(WORK, 'ow', 'ck');
    await train(['--config', config('ow'), '--max-epochs', '3', '--skip-export']);
    writeFileSync(join(ck, 'notes.txt'), 'mine');
    const before = readdirSync(ck).filter((f) => f !== 'notes.txt').sort();
    assert.ok(before.includes('best.ckpt') && before.includes('epoch_3.ckpt'), before.join(' '));
    // start over: no validation in the new run, so it writes no best.ckpt of its own
    await train(['--config', config('ow'), '--max-epochs', '1', '--eval-every-n-epochs', '2', '--seed', '99', '--skip-export', '--overwrite']);
    const aside = readdirSync(ck).filter((f) => f.startsWith('previous-run-'));
    assert.equal(aside.length, 1);
    assert.deepEqual(readdirSync(join(ck, aside[0]!)).sort(), before);
    assert.deepEqual(readdirSync(ck).filter((f) => !f.startsWith('previous-run-') && !f.startsWith('.')).sort(), ['epoch_1.ckpt', 'last.ckpt', 'notes.txt', 'train.log', 'training_history.json']);
    assert.equal(loadCheckpoint(join(ck, 'last.ckpt')).state.config.seed, 99);
    // the old run's epoch_3.ckpt put back beside the new run's last.ckpt: resuming it there would replace that
    copyFileSync(join(ck, aside[0]!, 'epoch_3.ckpt'), join(ck, 'epoch_3.ckpt'));
    const last = readFileSync(join(ck, 'last.ckpt'));
    const r = await runCli(['train', '--backend', 'cpu', '--resume', join(ck, 'epoch_3.ckpt'), '--max-epochs', '4', '--skip-export']);
    expectFailure(r, 1, new RegExp(`^logolab: error: checkpoint_dir ${ck}: holds another run's last\\.ckpt; resuming ${ck}/epoch_3\\.ckpt there would replace it`));
    assert.ok(readFileSync(join(ck, 'last.ckpt')).equals(last));
    // the old run resumes in its own folder
    await train(['--resume', join(ck, aside[0]!, 'epoch_3.ckpt'), '--max-epochs', '4', '--skip-export']);
    assert.equal(loadCheckpoint(join(ck, aside[0]!, 'last.ckpt')).state.epoch, 4);
    // a fresh run into a folder holding only an earlier run's epoch_N.ckpt and history (its last
    // and best moved away) would replace them too: refused, the files untouched
    const lone = join(WORK, 'ow', 'lone');
    mkdirSync(lone);
    for (const f of ['epoch_3.ckpt', 'training_history.json']) copyFileSync(join(ck, aside[0]!, f), join(lone, f));
    const hist = readFileSync(join(lone, 'training_history.json'));
    const r2 = await runCli(['train', '--backend', 'cpu', '--config', config('ow'), '--checkpoint-dir', lone, '--max-epochs', '3', '--skip-export']);
    expectFailure(r2, 1, new RegExp(`^logolab: error: checkpoint_dir ${lone}: holds an earlier run's epoch_3\\.ckpt and training_history\\.json; choose another checkpoint_dir, or add --overwrite to start over in it$`));
    assert.ok(readFileSync(join(lone, 'training_history.json')).equals(hist));
    assert.deepEqual(readdirSync(lone).sort(), ['epoch_3.ckpt', 'training_history.json']);
  });

  it('an early-stopped run resumes as a no-op; no config-difference warning for keys without effect', async () => {
    const ck = join(WORK, 'es', 'ck');
    const first = await train(['--config', config('es'), '--max-epochs', '6', '--patience', '1', '--min-delta', '100', '--skip-export']);
    assert.equal(JSON.parse(first.stdout).status, 'early_stopped');
    assert.equal(JSON.parse(first.stdout).epochs, 2);
    const last = readFileSync(join(ck, 'last.ckpt'));
    const r = await train(['--resume', join(ck, 'last.ckpt'), '--num-workers', '1', '--prefetch-batches', '3', '--log-every-n-steps', '3', '--stop-after-epochs', '5', '--skip-export']);
    const res = JSON.parse(r.stdout);
    assert.deepEqual([res.status, res.epochs, res.best_epoch], ['early_stopped', 2, 1]);
    assert.match(r.stderr, /early stopping at epoch 2: .*\(resumed: nothing to train; raise --patience to go on\)/);
    assert.doesNotMatch(r.stderr, /config differs/);
    assert.ok(readFileSync(join(ck, 'last.ckpt')).equals(last), 'no epoch trained');
    // a key that does change the result is still reported; more patience goes on
    const more = await train(['--resume', join(ck, 'last.ckpt'), '--patience', '3', '--max-epochs', '3', '--skip-export']);
    assert.match(more.stderr, /config differs from the checkpoint's in: max_epochs, patience \(/);
    assert.equal(JSON.parse(more.stdout).epochs, 3);
    assert.ok(existsSync(join(ck, 'epoch_3.ckpt')));
  });
});
