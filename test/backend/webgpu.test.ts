/**
 * The webgpu backend itself (Dawn; over Mesa's llvmpipe where there is no GPU): the adapter report,
 * synchronous reads (tfjs-webgpu's own need an OffscreenCanvas), device errors failing every later
 * read instead of leaving stale values, and `auto` never picking a software adapter. The
 * device-error test poisons this process's device: it runs last but one, and the last reads nothing.
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

run('webgpu: a tensor over the binding limit fails the read (LogolabError), and every later read', async () => {
  await useBackend('webgpu');
  const max = webgpuAdapter()!.maxStorageBufferBindingSize;
  if (max > 512 * 2 ** 20) return; // a hardware adapter's limit is too large to allocate here
  const big = tf.ones([max / 4 + 1024]);
  const y = tf.add(big, 1);
  assert.throws(() => y.dataSync(), (e: unknown) => e instanceof LogolabError && /binding size.*use a smaller batch/i.test(e.message));
  // sticky: anything read afterwards may derive from the skipped work
  const later = tf.add(tf.ones([3]), 1);
  await assert.rejects(later.data(), /device rejected work/);
  tf.dispose([big, y, later]);
});

run('auto never picks a software webgpu adapter, and says why', async () => {
  await useBackend('webgpu');
  if (!webgpuAdapter()!.software) return;
  const r = await initBackend('auto', { quiet: true });
  assert.notEqual(r.name, 'webgpu');
  assert.match(r.skipped.find((s) => s.name === 'webgpu')!.why, /software adapter .* auto takes hardware adapters only/);
});
