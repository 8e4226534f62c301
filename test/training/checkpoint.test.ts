import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT, tmpDir } from '../helpers.js';
import { defaultConfig } from '../../training/config.js';
import { cleanStaleTemps, dataDigest, dataDigestDifference, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../training/checkpoint.js';

function fakeCheckpoint(n: number, step: number): Checkpoint {
  const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 + step);
  return {
    state: {
      format: 'logolab-train-checkpoint', version: 1, epoch: step, batch_in_epoch: 0, global_step: step,
      scheduler: { kind: 'cosine_with_warmup', base_lr: 1e-3, warmup_steps: 0, total_steps: 10, min_lr_ratio: 0 },
      rng: { c: 1, s0: 0.1, s1: 0.2, s2: 0.3 }, adam_t: step, best_separation: 0.25, best_epoch: 1, patience_counter: 0, nonfinite_steps: 0,
      epoch_loss_sum: 0, epoch_loss_count: 0, history: [], config: defaultConfig(),
      model: { base_model: 'preset:tiny', family: 'clip', vision_config: {}, lora: null, trainable: ['w'], head: 'none' }, reason: 'epoch', saved_at: '',
    },
    params: new Map([['w', { shape: [n], data }]]),
    optimizer: { t: step, m: { w: data }, v: { w: data } },
  };
}

describe('checkpoints', () => {
  it('round trip of every field', () => {
    const p = join(tmpDir(), 'a.ckpt');
    const ck = fakeCheckpoint(10, 3);
    saveCheckpoint(p, ck);
    const back = loadCheckpoint(p);
    assert.deepEqual(back.state.rng, ck.state.rng);
    assert.equal(back.state.global_step, 3);
    assert.deepEqual(Array.from(back.params.get('w')!.data), Array.from(ck.params.get('w')!.data));
    assert.equal(back.optimizer.t, 3);
    assert.throws(() => loadCheckpoint(join(tmpDir(), 'none.ckpt')), /checkpoint not found/);
    const notCk = join(tmpDir(), 'x.ckpt');
    writeFileSync(notCk, 'garbage');
    assert.throws(() => loadCheckpoint(notCk));
  });

  it('a process SIGKILLed while writing leaves the previous checkpoint loadable', async () => {
    const dir = tmpDir();
    const p = join(dir, 'last.ckpt');
    saveCheckpoint(p, fakeCheckpoint(10, 1));
    // child: overwrite the same checkpoint with a big one (~400 MB of tensors), killed mid-write
    const script = `
      import { saveCheckpoint } from ${JSON.stringify(join(ROOT, 'training/checkpoint.ts'))};
      import { defaultConfig } from ${JSON.stringify(join(ROOT, 'training/config.ts'))};
      const n = 33_000_000;
      const data = new Float32Array(n);
      const st = { format: 'logolab-train-checkpoint', version: 1, epoch: 9, batch_in_epoch: 0, global_step: 9, scheduler: {}, rng: {}, adam_t: 9, best_separation: null, best_epoch: null, patience_counter: 0, nonfinite_steps: 0, epoch_loss_sum: 0, epoch_loss_count: 0, history: [], config: defaultConfig(), model: { trainable: ['w'] }, reason: 'epoch', saved_at: '' };
      process.stdout.write('writing\\n');
      for (;;) saveCheckpoint(${JSON.stringify(p)}, { state: st, params: new Map([['w', { shape: [n], data }]]), optimizer: { t: 9, m: { w: data }, v: { w: data } } });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout!.once('data', () => res()));
    // wait until its temp file exists and is growing, then kill it hard
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && !readdirSync(dir).some((f) => f.endsWith('.tmp'))) await new Promise((r) => setTimeout(r, 5));
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.tmp')), 'child started writing');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const back = loadCheckpoint(p); // either the old one or a complete new one; never torn
    assert.ok(back.state.global_step === 1 || back.state.global_step === 9);
    console.log(`# after SIGKILL: last.ckpt is step ${back.state.global_step}; stale temp files: ${readdirSync(dir).filter((f) => f.endsWith('.tmp')).length}`);
    const removed = cleanStaleTemps(dir);
    assert.ok(removed.length >= 1);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
    assert.ok(existsSync(p));
  });
});

describe('stale temp files', () => {
  it('a killed run\'s temps of checkpoints and of training_history.json go; a live writer\'s and other files stay', () => {
    const dir = tmpDir();
    const dead = ['.last.ckpt.999999999.3.tmp', '.epoch_2.ckpt.999999999.1.tmp', '.training_history.json.999999999.4.tmp'];
    const kept = [`.last.ckpt.${process.pid}.1.tmp`, `.training_history.json.${process.pid}.2.tmp`, '.notes.json.999999999.1.tmp', 'training_history.json'];
    for (const f of [...dead, ...kept]) writeFileSync(join(dir, f), 'x');
    assert.deepEqual(cleanStaleTemps(dir).sort(), dead.slice().sort());
    assert.deepEqual(readdirSync(dir).sort(), kept.slice().sort());
  });
});

describe('data digest', () => {
  it('covers the listing and, where recorded, the crop files\' sizes; an older digest is checked by its listing only', () => {
    const dir = tmpDir();
    const a = join(dir, 'a.png');
    writeFileSync(a, 'abc');
    const crop = { id: 1, file: 'a.png', path: a, sourceImageId: null, box: [0, 0, 3, 3], width: 3, height: 3 };
    const byLogo = new Map([['acme', [crop]]]);
    const before = dataDigest(byLogo, { files: true });
    assert.equal(dataDigestDifference(before, dataDigest(byLogo, { files: true })), null);
    // the same file elsewhere (a moved copy): the same digest
    const b = join(tmpDir(), 'a.png');
    writeFileSync(b, 'abc');
    assert.equal(dataDigestDifference(before, dataDigest(new Map([['acme', [{ ...crop, path: b }]]]), { files: true })), null);
    writeFileSync(a, 'abcd');
    assert.match(dataDigestDifference(before, dataDigest(byLogo, { files: true })) ?? '', /^the same 1 logos \/ 1 crops listed, but crop files of other sizes/);
    const { files: _files, ...older } = before;
    assert.equal(dataDigestDifference(older, dataDigest(byLogo, { files: true })), null);
    assert.match(dataDigestDifference(before, dataDigest(new Map([['acme', [{ ...crop, id: 2 }]]]), { files: true })) ?? '', /other crops \(ids, files or boxes\)/);
  });
});
