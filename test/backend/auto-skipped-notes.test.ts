/**
 * A backend that `auto` skips leaves nothing on the backend line of the one it uses: a hardware
 * WebGPU adapter whose tfjs backend then fails to start used to leave its "adapter …" note on
 * e.g. the cpu line, so the results named a GPU that did no work. No test machine has such an
 * adapter: initBackend's steps stage it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendSteps } from '../../src/backend/index.js';
import { backendLabel } from '../../src/backend/label.js';
import type { WebGPUAdapterReport } from '../../src/backend/webgpu.js';

const H200: WebGPUAdapterReport = {
  vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'staged', backendType: 'vulkan', software: false,
  featureLevel: 'core', maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31,
};

test('auto: a hardware adapter whose backend fails to start is skipped with its notes', async () => {
  const tried: string[] = [];
  const steps: BackendSteps = {
    prepareWebGPU: async () => ({ ok: true, report: H200 }),
    activate: async (name) => {
      tried.push(name);
      if (name === 'webgpu') return false;
      await tf.setBackend(name);
      await tf.ready();
      return tf.getBackend() === name;
    },
  };
  const r = await initBackend('auto', { quiet: true, workload: 'encoder', steps });
  assert.ok(tried.includes('webgpu'), `webgpu was not tried: ${tried.join(', ')}`);
  assert.notEqual(r.name, 'webgpu');
  assert.deepEqual(r.skipped.find((s) => s.name === 'webgpu'), { name: 'webgpu', why: "tf.setBackend('webgpu') failed" });
  assert.deepEqual(r.notes.filter((n) => /adapter/.test(n)), [], `notes of ${r.name}: ${JSON.stringify(r.notes)}`);
  assert.doesNotMatch(backendLabel(r) ?? '', /H200|adapter/);
});

test('auto: the same adapter whose backend starts is used, with its note', async () => {
  // only webgpu starts (tfjs is not really switched: this is the last test of the file)
  const steps: BackendSteps = { prepareWebGPU: async () => ({ ok: true, report: H200 }), activate: async (name) => name === 'webgpu' };
  const r = await initBackend('auto', { quiet: true, steps });
  assert.equal(r.name, 'webgpu');
  assert.deepEqual(r.notes, ['adapter NVIDIA H200 (nvidia/hopper, vulkan, hardware, max binding 2.0 GiB)']);
  assert.equal(backendLabel(r), 'webgpu (adapter NVIDIA H200 (nvidia/hopper, vulkan, hardware, max binding 2.0 GiB))');
});
