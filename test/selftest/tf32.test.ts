/**
 * TF32: TensorFlow 2.9 runs float32 matmuls and convolutions on TF32 tensor cores on Ampere and
 * newer GPUs, and the selftest's tolerances are fp32's (a reviewer's simulation: 5 of 9 checks
 * fail with TF32). So the selftest puts NVIDIA_TF32_OVERRIDE=0 in the environment before the
 * backend (libtensorflow) loads — unless the user set it, then the output says which precision was
 * checked. The backend loading is mocked: no tfjs-node-gpu or GPU needed.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendReport } from '../../src/backend/index.js';
import { initSelftestBackend, TF32_ENV } from '../../src/selftest/precision.js';
import { runCli } from '../cli/run.js';

const before = process.env[TF32_ENV];
afterEach(() => {
  if (before === undefined) delete process.env[TF32_ENV];
  else process.env[TF32_ENV] = before;
});

/** An initBackend stand-in that records the environment the backend would load under. */
function fakeInit(name: BackendReport['name'], seen: (string | undefined)[]) {
  return async () => {
    seen.push(process.env[TF32_ENV]);
    return { name, tfName: name === 'tensorflow-gpu' ? 'tensorflow' : name, skipped: [], notes: [] } satisfies BackendReport;
  };
}

test('selftest: NVIDIA_TF32_OVERRIDE=0 is in the environment before the tensorflow-gpu backend loads; the output says fp32 was checked', async () => {
  delete process.env[TF32_ENV];
  const seen: (string | undefined)[] = [];
  const r = await initSelftestBackend('tensorflow-gpu', fakeInit('tensorflow-gpu', seen));
  assert.deepEqual(seen, ['0']);
  assert.match(r.precision!, /^precision: fp32 kernels \(NVIDIA_TF32_OVERRIDE=0 set for this selftest: TF32 off\); training runs with TF32/);
  // `auto` may land on tensorflow-gpu as well: set before any backend loads, reported only on tensorflow-gpu
  delete process.env[TF32_ENV];
  const seenAuto: (string | undefined)[] = [];
  const cpu = await initSelftestBackend(undefined, fakeInit('cpu', seenAuto));
  assert.deepEqual(seenAuto, ['0']);
  assert.equal(cpu.precision, null);
});

test('selftest: a NVIDIA_TF32_OVERRIDE the user set is kept, and the output says which precision was checked', async () => {
  process.env[TF32_ENV] = '1';
  const seen: (string | undefined)[] = [];
  const r = await initSelftestBackend('tensorflow-gpu', fakeInit('tensorflow-gpu', seen));
  assert.deepEqual(seen, ['1']);
  assert.match(r.precision!, /^precision: TF32 .*NVIDIA_TF32_OVERRIDE=1 set by you.*unset NVIDIA_TF32_OVERRIDE to check the fp32 kernels/);
  process.env[TF32_ENV] = '0';
  const own = await initSelftestBackend('tensorflow-gpu', fakeInit('tensorflow-gpu', []));
  assert.match(own.precision!, /^precision: fp32 kernels \(NVIDIA_TF32_OVERRIDE=0, set by you\)/);
});

test('doctor --selftest --backend tensorflow-gpu sets NVIDIA_TF32_OVERRIDE=0 before it tries the backend', async () => {
  delete process.env[TF32_ENV];
  // without a GPU the backend is refused after the variable is set; with one the parity checks run under it
  await runCli(['doctor', '--selftest', '--backend', 'tensorflow-gpu', '--checks', 'parity']);
  assert.equal(process.env[TF32_ENV], '0');
});
