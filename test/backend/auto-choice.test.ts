/** `auto`'s per-workload choice between cpu (+ native kernels) and wasm (src/backend/auto-choice.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseCpuBackend, orderCpuBackends, X64_2CORES, type MachineFacts } from '../../src/backend/auto-choice.js';
import { initBackend } from '../../src/backend/index.js';
import { nativeKernelsStatus } from '../../src/backend/native.js';

const X64: MachineFacts = { arch: 'x64', cores: 2, simd: 'avx2' };

test('each workload follows its measurement; the reason names the figures', () => {
  for (const w of ['encoder', 'detector', 'train'] as const) {
    const c = chooseCpuBackend(w, true, X64);
    const f = X64_2CORES[w];
    assert.equal(c.first, f.native <= f.wasm ? 'cpu' : 'wasm', w);
    assert.match(c.why, new RegExp(`auto for ${w}: .*${f.what.replace(/[()×/]/g, '.')}.*${f.native}.*${f.wasm}`));
  }
  // a workload measured faster on wasm goes to wasm
  const table = { ...X64_2CORES, detector: { what: 'slow conv', native: 158, wasm: 27, unit: 's/image' } };
  assert.equal(chooseCpuBackend('detector', true, X64, table).first, 'wasm');
  assert.equal(chooseCpuBackend('encoder', true, X64, table).first, X64_2CORES.encoder.native <= X64_2CORES.encoder.wasm ? 'cpu' : 'wasm');
});

test('without native kernels wasm goes first; unmeasured machine kinds and workloads keep cpu+native first, saying so', () => {
  assert.equal(chooseCpuBackend('detector', false, X64).first, 'wasm');
  const arm = chooseCpuBackend('detector', true, { arch: 'arm64', cores: 8, simd: 'baseline' });
  assert.equal(arm.first, 'cpu');
  assert.match(arm.why, /no measurement for arm64 baseline ×8/);
  assert.equal(chooseCpuBackend(undefined, true, X64).first, 'cpu');
});

test('orderCpuBackends swaps only cpu and wasm, leaving GPU backends in front', () => {
  const order = ['tensorflow-gpu', 'tensorflow', 'cpu', 'wasm'];
  assert.deepEqual(orderCpuBackends(order, 'wasm'), ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  assert.deepEqual(orderCpuBackends(order, 'cpu'), order);
  assert.deepEqual(orderCpuBackends(['webgpu', 'wasm', 'x', 'cpu'], 'cpu'), ['webgpu', 'cpu', 'x', 'wasm']);
  assert.deepEqual(orderCpuBackends(['cpu'], 'wasm'), ['cpu']);
});

test('initBackend(auto, workload) reports the choice and its reason on the backend line', { skip: nativeKernelsStatus().available ? false : 'native kernels unavailable' }, async () => {
  const r = await initBackend('auto', { quiet: true, workload: 'detector' });
  const want = chooseCpuBackend('detector', true);
  if (r.name === 'cpu' || r.name === 'wasm') {
    assert.equal(r.name, want.first);
    assert.ok(r.notes.includes(want.why), JSON.stringify(r.notes));
  }
  const explicit = await initBackend('wasm', { quiet: true, workload: 'detector' });
  assert.ok(!explicit.notes.some((n) => n.startsWith('auto')), 'an explicit backend has no auto reason');
});
