/**
 * `logolab doctor --selftest`: a pass/fail table and exit 0 only when every check passes; a
 * perturbed reference fails its row (and only it); the fixtures ship with the package; the memory
 * estimate's verdict against device and WebGPU binding limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES, ROOT, tmpDir } from '../helpers.js';
import { runCli } from '../cli/run.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { SELFTEST_FILES } from '../../src/selftest/fixtures.js';
import { judgeEstimate, type LoraMemoryEstimate } from '../../training/memory_estimate.js';

const rowsOf = (out: string) => out.split('\n').filter((l) => /^\| .* \| (pass|FAIL) /.test(l));

test('selftest on cpu (parity, losses, LoRA, 3 training steps): all pass, exit 0', async () => {
  const r = await runCli(['doctor', '--selftest', '--backend', 'cpu', '--checks', 'parity,losses,lora,train']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rows = rowsOf(r.stdout);
  assert.equal(rows.length, 8, r.stdout);
  assert.ok(rows.every((l) => l.includes('| pass ')), r.stdout);
  assert.match(r.stdout, /^logolab selftest on cpu; fixtures .*test\/fixtures/m);
  assert.match(r.stdout, /3 training steps \(recompute on\).*loss ([\d.]+) → ([\d.]+) → ([\d.]+)/);
  assert.match(r.stdout, /selftest: all 8 checks passed/);
});

test('selftest: a perturbed reference (held-out style --fixtures) fails its row and the exit code', async () => {
  const dir = tmpDir();
  try {
    cpSync(FIXTURES, dir, { recursive: true });
    const file = join(dir, 'clip_tiny/io.safetensors');
    const io = readSafetensors(file);
    const t = io.get('last_hidden_state')!;
    const moved = Float32Array.from(t.data as Float32Array);
    moved[7] = moved[7]! + 1e-3;
    writeSafetensors(file, new Map([...io].map(([k, v]) => [k, { shape: v.shape, data: k === 'last_hidden_state' ? moved : v.data }])));
    const r = await runCli(['doctor', '--selftest', '--backend', 'cpu', '--checks', 'parity', '--fixtures', dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const rows = rowsOf(r.stdout);
    assert.equal(rows.length, 4);
    assert.match(rows[0]!, /CLIP .*\| FAIL .*max abs err 1\.00e-3 > 1e-4/);
    assert.ok(rows.slice(1).every((l) => l.includes('| pass ')));
    assert.match(r.stdout, /selftest: 1 of 4 checks FAILED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('selftest: a fixtures folder without the references is one error line; --checks is validated', async () => {
  const empty = tmpDir();
  const r = await runCli(['doctor', '--selftest', '--backend', 'cpu', '--fixtures', empty]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^logolab: error: --fixtures: .*clip_tiny\/model\/config\.json not found \(and \d+ more\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const bad = await runCli(['doctor', '--selftest', '--backend', 'cpu', '--checks', 'parity,speed']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--checks: 'speed' is not one of parity, losses, lora, train, memory/);
  // checked before the backend starts: an unavailable one is not what the line reports
  const prev = process.env.CUDA_VISIBLE_DEVICES;
  process.env.CUDA_VISIBLE_DEVICES = '-1';
  try {
    const first = await runCli(['doctor', '--selftest', '--backend', 'tensorflow-gpu', '--checks', 'speed']);
    assert.equal(first.code, 1);
    assert.equal(first.stderr.trim(), "logolab: error: --checks: 'speed' is not one of parity, losses, lora, train, memory");
  } finally {
    if (prev === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = prev;
  }
});

test('the package ships every fixture the selftest reads (npm pack)', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  for (const f of SELFTEST_FILES) assert.ok(files.has(`test/fixtures/${f}`), `npm pack leaves out test/fixtures/${f}`);
  for (const f of ['src/selftest/fixtures.ts', 'training/selftest.ts', 'scripts/bench-gpu.ts']) assert.ok(files.has(f), f);
});

test('memory estimate verdict: device memory and (hardware) WebGPU binding limits', () => {
  const GiB = 2 ** 30;
  const e: LoraMemoryEstimate = { layers: 24, batch: 128, recompute: true, weightsBytes: 1.13 * GiB, perImageBytes: 160 * 2 ** 20, totalBytes: 21.2 * GiB, largestTensorBytes: 516 * 2 ** 20 };
  const none = { maxBindingBytes: null, softwareAdapter: false, deviceBytes: null };
  assert.equal(judgeEstimate(e, none).ok, true);
  assert.match(judgeEstimate(e, none).detail, /160 MiB\/image \(recompute on\); batch 128: 21\.20 GiB incl\. weights 1\.13 GiB; largest tensor 516 MiB/);
  assert.equal(judgeEstimate(e, { ...none, deviceBytes: 141 * GiB }).ok, true);
  const small = judgeEstimate(e, { ...none, deviceBytes: 16 * GiB });
  assert.equal(small.ok, false);
  assert.match(small.detail, /does NOT fit 90 % of the GPU's 16\.00 GiB.*lower logos_per_batch/);
  assert.equal(judgeEstimate(e, { ...none, maxBindingBytes: 2 * GiB }).ok, true);
  const hw = judgeEstimate(e, { ...none, maxBindingBytes: 128 * 2 ** 20 });
  assert.equal(hw.ok, false);
  assert.match(hw.detail, /binding limit 128 MiB: batch > 31 does NOT fit/);
  assert.equal(judgeEstimate(e, { ...none, maxBindingBytes: 128 * 2 ** 20, softwareAdapter: true }).ok, true);
});
