/**
 * The hardware WebGPU adapter on a machine with a GPU device node:
 *   - a container given GPU N has only /dev/nvidiaN: any /dev/nvidia<digits> is a GPU node
 *     (nvidiactl, nvidia-uvm are not);
 *   - there, an explicit `--backend webgpu` whose hardware adapter fails is an error naming why and
 *     the fix, not a quiet run on the software rasteriser — unless LOGOLAB_WEBGPU_ADAPTER=software,
 *     and then the backend line keeps the hardware reason; `auto` says it too.
 * The device folder is a fake one; on this machine (no GPU) Dawn's hardware adapter fails for real.
 * The webgpu tests share this process's one device, so they run in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { gpuDeviceNode, nvidiaGpuNode } from '../../src/backend/devices.js';
import { hardwareGpuHint, prepareWebGPU, webgpuHardwareStatus } from '../../src/backend/webgpu.js';
import { PARITY_BACKENDS, tmpDir } from '../helpers.js';

function fakeDev(nodes: string[]): string {
  const dev = tmpDir('logolab-dev-');
  for (const n of nodes) {
    mkdirSync(join(dev, n, '..'), { recursive: true });
    writeFileSync(join(dev, n), '');
  }
  return dev;
}

const linux = process.platform === 'linux' ? test : test.skip;

linux('GPU device nodes: /dev/nvidia<N> for any N (a container given GPU 3), DRM render nodes; nvidiactl/nvidia-uvm are no GPU', () => {
  const gpu3 = fakeDev(['nvidia3', 'nvidiactl', 'nvidia-uvm', 'nvidia-modeset']);
  assert.deepEqual(hardwareGpuHint(gpu3), { ok: true, why: join(gpu3, 'nvidia3') });
  assert.equal(nvidiaGpuNode(gpu3), join(gpu3, 'nvidia3'));
  const two = fakeDev(['nvidia10', 'nvidia2']);
  assert.equal(gpuDeviceNode(two), join(two, 'nvidia2')); // the lowest N, by number
  const ctlOnly = fakeDev(['nvidiactl', 'nvidia-uvm']);
  const no = hardwareGpuHint(ctlOnly);
  assert.equal(no.ok, false);
  assert.match(no.why, /^no GPU device node \(.*nvidia<N>, .*dri\/renderD\*\)$/);
  const dri = fakeDev(['dri/renderD128', 'dri/card0']);
  assert.deepEqual(hardwareGpuHint(dri), { ok: true, why: join(dri, 'dri/renderD128') });
});

const webgpu = PARITY_BACKENDS.includes('webgpu') && process.platform === 'linux' ? test : test.skip;
const gpuDev = fakeDev(['nvidia3', 'nvidiactl']);
let hardwareWorks = false;

webgpu('--backend webgpu with a GPU node whose hardware adapter fails: an error naming the reason and the fix, not the software rasteriser', async (t) => {
  const prev = process.env.LOGOLAB_WEBGPU_ADAPTER;
  delete process.env.LOGOLAB_WEBGPU_ADAPTER;
  try {
    const r = await prepareWebGPU(true, { dev: gpuDev });
    if (r.ok && !r.report.software) {
      hardwareWorks = true;
      t.skip('a hardware WebGPU adapter works here');
      return;
    }
    assert.equal(r.ok, false, 'landed on a software adapter');
    if (r.ok) return;
    assert.match(r.why, /^a GPU device node is present \(.*nvidia3\) but the hardware adapter failed: .*libvulkan1.*NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics.*; or set LOGOLAB_WEBGPU_ADAPTER=software/);
    assert.ok(!r.why.includes('\n'));
    // doctor's own line on the hardware attempt
    assert.match(webgpuHardwareStatus(gpuDev), /^FAILED — /);
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_WEBGPU_ADAPTER;
    else process.env.LOGOLAB_WEBGPU_ADAPTER = prev;
  }
});

webgpu('LOGOLAB_WEBGPU_ADAPTER=software allows the software adapter; the backend line and auto keep the hardware reason', async (t) => {
  if (hardwareWorks) return t.skip('a hardware WebGPU adapter works here');
  const prev = process.env.LOGOLAB_WEBGPU_ADAPTER;
  process.env.LOGOLAB_WEBGPU_ADAPTER = 'software';
  try {
    const r = await prepareWebGPU(true, { dev: gpuDev });
    assert.ok(r.ok, r.ok ? '' : r.why);
    if (!r.ok) return;
    assert.equal(r.report.software, true);
    const hwFailure = webgpuHardwareStatus(gpuDev).replace(/^FAILED — /, '');
    assert.equal(r.hardwareWhy, hwFailure);
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_WEBGPU_ADAPTER;
    else process.env.LOGOLAB_WEBGPU_ADAPTER = prev;
  }
  // the backend line (this machine's real /dev) names why the hardware adapter is not used
  const b = await initBackend('webgpu', { quiet: true });
  assert.match(b.notes[0]!, /^adapter .*software/);
  assert.match(b.notes.join('; '), /hardware adapter not used: \S/);
  // auto after an explicit software device: the hardware reason, not only "a software adapter"
  const auto = await initBackend('auto', { quiet: true });
  assert.match(auto.skipped.find((s) => s.name === 'webgpu')!.why, /only a software adapter .* — hardware adapter: .+; auto takes hardware adapters only/);
});
