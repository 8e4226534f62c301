/**
 * The webgpu backend itself (Dawn; over Mesa's llvmpipe where there is no GPU): the adapter report,
 * synchronous reads (tfjs-webgpu's own need an OffscreenCanvas), device errors failing every later
 * kernel and read instead of leaving stale values, a lost device named on one line, and `auto` never
 * picking a software adapter. The device-error test poisons this process's device: it runs last but
 * one, and the last reads nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index.js';
import { webgpuAdapter } from '../../src/backend/webgpu.js';
import { LogolabError } from '../../src/errors.js';
import { PARITY_BACKENDS, useBackend } from '../helpers.js';

const run = PARITY_BACKENDS.includes('webgpu') ? test : test.skip;

run('webgpu: adapter reported (backend type, software/hardware, binding limit); dataSync works after GPU work', async () => {
  await useBackend('webgpu');
  const r = await initBackend('webgpu', { quiet: true });
  assert.equal(tf.getBackend(), 'webgpu');
  assert.match(r.notes[0]!, /^adapter .+ \((\S+, )?(vulkan|metal|d3d12|opengles), (software|hardware), max binding [\d.]+ GiB\)$/);
  // a software adapter's line also says why the hardware one is not used (e.g. no GPU device node)
  if (webgpuAdapter()!.software) assert.match(r.notes[1] ?? '', /^hardware adapter not used: \S/);
  const a = webgpuAdapter()!;
  assert.ok(a.maxStorageBufferBindingSize >= 128 * 2 ** 20);
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const y = tf.matMul(x, x, false, true); // computed on the device: values not cached on the CPU
  assert.deepEqual(Array.from(y.dataSync()), [5, 11, 11, 25]);
  assert.deepEqual(await tf.add(y, 1).array(), [[6, 12], [12, 26]]);
  tf.dispose([x, y]);
});

run('webgpu: a software adapter that fails under a user-set EGL_PLATFORM names the variable, not missing packages', () => {
  // a fresh process: Dawn's instance and EGL_PLATFORM are per process
  const index = fileURLToPath(new URL('../../src/backend/index.ts', import.meta.url));
  const script = `const { initBackend } = await import(${JSON.stringify(index)});
    try { await initBackend('webgpu', { quiet: true }); console.log('OK'); } catch (e) { console.log('ERR ' + e.message); }
    process.exit(0);`;
  for (const egl of ['bogus', 'x11']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, EGL_PLATFORM: egl, DISPLAY: '', WAYLAND_DISPLAY: '', LOGOLAB_WEBGPU_ADAPTER: 'software' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ERR .*no Mesa OpenGL ES adapter with EGL_PLATFORM=${egl} \\(.*EGL_PLATFORM=surfaceless or unset`, 'm'), r.stdout);
  }
});

run('webgpu: a device that is lost is one error line naming the backend, on the next read and then at the next kernel', () => {
  // a fresh process: destroying the device poisons that process's backend
  const index = fileURLToPath(new URL('../../src/backend/index.ts', import.meta.url));
  const script = `const tf = await import('@tensorflow/tfjs');
    const { initBackend } = await import(${JSON.stringify(index)});
    await initBackend('webgpu', { quiet: true });
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.matMul(x, x);
    tf.backend().device.destroy();
    const show = (e) => console.log((e.constructor.name === 'LogolabError' ? 'LogolabError ' : 'OTHER ') + JSON.stringify(e.message));
    try { y.dataSync(); console.log('read OK'); } catch (e) { show(e); }
    await new Promise((r) => setTimeout(r, 20));
    try { tf.add(x, 1); console.log('kernel OK'); } catch (e) { show(e); }
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LOGOLAB_WEBGPU_ADAPTER: process.env.LOGOLAB_WEBGPU_ADAPTER ?? 'software' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  // the synchronous read sees the map cancelled (the lost promise cannot settle inside it) …
  assert.equal(lines[0], 'LogolabError "webgpu: mapping a read buffer was cancelled (the device was lost?), results are invalid"');
  // … and once it has settled, every kernel names the reason
  assert.equal(lines[1], 'LogolabError "webgpu: the device was lost (destroyed: device was destroyed), results are invalid"');
});

run('webgpu: a dispatch the device rejects (a tensor over the binding limit) throws at that kernel (LogolabError), and so does every later kernel and read', async () => {
  await useBackend('webgpu');
  const max = webgpuAdapter()!.maxStorageBufferBindingSize;
  if (max > 512 * 2 ** 20) return; // a hardware adapter's limit is too large to allocate here
  const big = tf.ones([max / 4 + 1024]);
  // at once, not after the rest of a training step has run on the skipped dispatch's stale values
  assert.throws(() => tf.add(big, 1), (e: unknown) => e instanceof LogolabError && /^webgpu: the device rejected work, results are invalid: .*binding size.*use a smaller batch$/i.test(e.message));
  // sticky: anything computed or read afterwards may derive from the skipped work
  // (a matmul: small elementwise ops on CPU-held values run on the CPU, not on the device)
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  assert.throws(() => tf.matMul(x, x), (e: unknown) => e instanceof LogolabError && /device rejected work/.test(e.message));
  await assert.rejects(big.data(), /device rejected work/);
  tf.dispose([big, x]);
});

run('auto never picks a software webgpu adapter, and says why', async () => {
  await useBackend('webgpu');
  if (!webgpuAdapter()!.software) return;
  const r = await initBackend('auto', { quiet: true });
  assert.notEqual(r.name, 'webgpu');
  assert.match(r.skipped.find((s) => s.name === 'webgpu')!.why, /software adapter .* auto takes hardware adapters only/);
});
