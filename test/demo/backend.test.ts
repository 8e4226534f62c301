/** `logolab demo --backend`: checked before any stage runs; part of the run a re-run resumes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

test('demo: an unavailable backend is one error line before any stage, from --backend or LOGOLAB_BACKEND', () => {
  const root = tmpDir('logolab-demo-backend-');
  // no GPU visible, whatever the machine has: tensorflow-gpu is unavailable
  const env: NodeJS.ProcessEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '-1' };
  delete env.LOGOLAB_BACKEND;
  try {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--backend', 'tensorflow-gpu'], env, /^logolab: error: --backend tensorflow-gpu: not available: CUDA_VISIBLE_DEVICES hides all GPUs$/],
      [[], { ...env, LOGOLAB_BACKEND: 'tensorflow-gpu' }, /^logolab: error: LOGOLAB_BACKEND=tensorflow-gpu: not available: CUDA_VISIBLE_DEVICES hides all GPUs$/],
    ];
    for (const [i, [args, e, want]] of cases.entries()) {
      const out = join(root, `run${i}`);
      const r = spawnSync(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', out, ...args], { cwd: ROOT, encoding: 'utf8', env: e });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), want);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(out), 'no work folder, no stage');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** Runs the tiny demo; `stopAt` on stderr sends it SIGTERM (a running stage is stopped, the demo exits 143). */
function demo(out: string, backend: string, stopAt: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; signal: string | null; stderr: string; stopped: boolean }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', out, '--backend', backend], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    let stopped = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      if (!stopped && stopAt.test(stderr)) {
        stopped = true;
        p.kill('SIGTERM');
      }
    });
    p.on('exit', (code, signal) => res({ code, signal, stderr, stopped }));
  });
}

test('demo: a re-run with another backend is refused with one line naming both, no stage run', async () => {
  const out = tmpDir('logolab-demo-rebackend-');
  try {
    // the plan is recorded before the demo's header line: stop the first run there (143 when its
    // synth stage had started, else ended by the signal itself)
    const first = await demo(out, 'wasm', /\[demo\] mode tiny/);
    assert.ok(first.stopped && (first.code === 143 || first.signal === 'SIGTERM'), `first run: exit ${first.code ?? first.signal}; stderr:\n${first.stderr}`);
    const plan = JSON.parse(readFileSync(join(out, 'demo_plan.json'), 'utf8')) as { backend: string };
    assert.equal(plan.backend, 'wasm');
    // stopped too if it resumes, so a wrong resume fails here instead of running the whole demo
    const again = await demo(out, 'cpu', /stage 1\/8 synth/);
    assert.ok(!again.stopped, `resumed on another backend; stderr:\n${again.stderr}`);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stderr.trim(), `logolab: error: --backend cpu: ${out} holds a demo run on backend wasm; resuming would mix the two backends' stages: give --backend wasm to resume it, or use another --out`);
    assert.equal(JSON.parse(readFileSync(join(out, 'demo_plan.json'), 'utf8')).backend, 'wasm', 'plan left as it was');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('demo: a plan written before the backend was recorded resumes, with a warning saying so', async () => {
  const out = tmpDir('logolab-demo-oldplan-');
  try {
    const first = await demo(out, 'wasm', /\[demo\] mode tiny/);
    assert.ok(first.stopped, first.stderr);
    // the plan as an earlier logolab wrote it: the same keys in the same order, no backend
    const plan = JSON.parse(readFileSync(join(out, 'demo_plan.json'), 'utf8')) as Record<string, unknown>;
    delete plan.backend;
    delete plan.backend_requested;
    writeFileSync(join(out, 'demo_plan.json'), JSON.stringify(plan, null, 2) + '\n');
    const again = await demo(out, 'wasm', /stage 1\/8 synth/);
    assert.ok(again.stopped, `not resumed; stderr:\n${again.stderr}`);
    assert.match(again.stderr, /warn: .*demo_plan\.json was written by an earlier logolab that did not record the backend; resuming on wasm/);
    assert.equal(JSON.parse(readFileSync(join(out, 'demo_plan.json'), 'utf8')).backend, 'wasm', 'the plan now records it');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("demo --backend auto: the plan records auto's pick; a resume where auto picks another backend is refused", async () => {
  const out = tmpDir('logolab-demo-autopick-');
  // no GPU backend can be auto's pick: only the native addon decides between cpu and wasm
  const env: NodeJS.ProcessEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '-1' };
  delete env.LOGOLAB_NATIVE;
  delete env.LOGOLAB_BACKEND;
  const planFile = join(out, 'demo_plan.json');
  const readPlan = () => JSON.parse(readFileSync(planFile, 'utf8')) as { backend: string; backend_requested: string };
  try {
    // LOGOLAB_NATIVE=0: auto picks wasm whether or not the addon is built
    const first = await demo(out, 'auto', /\[demo\] mode tiny/, { ...env, LOGOLAB_NATIVE: '0' });
    assert.ok(first.stopped, first.stderr);
    assert.deepEqual([readPlan().backend_requested, readPlan().backend], ['auto', 'wasm']);
    assert.match(first.stderr, /\[demo\] mode tiny, .*, backend auto \(wasm\)/);
    // the same pick resumes
    const same = await demo(out, 'auto', /stage 1\/8 synth/, { ...env, LOGOLAB_NATIVE: '0' });
    assert.ok(same.stopped && !/warn|error/.test(same.stderr), `not resumed; stderr:\n${same.stderr}`);
    // with the native kernels on, auto picks cpu where the addon is built; where it is not (auto
    // picks wasm again), a recorded pick of cpu stands in for the change
    const built = existsSync(join(ROOT, 'native/build/Release/logolab_native.node'));
    if (!built) writeFileSync(planFile, JSON.stringify({ ...readPlan(), backend: 'cpu' }, null, 2) + '\n');
    const [was, now] = built ? ['wasm', 'cpu'] : ['cpu', 'wasm'];
    const again = await demo(out, 'auto', /stage 1\/8 synth/, env);
    assert.ok(!again.stopped, `resumed on another backend; stderr:\n${again.stderr}`);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stderr.trim(), `logolab: error: --backend auto picks ${now}: ${out} holds a demo run on backend ${was} (auto's pick then); resuming would mix the two backends' stages: give --backend ${was} to resume it, or use another --out`);
    assert.equal(readPlan().backend, was, 'plan left as it was');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('demo --backend cpu: the plan records whether the native kernels ran; a resume with them switched is refused', async () => {
  const out = tmpDir('logolab-demo-native-');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LOGOLAB_NATIVE;
  delete env.LOGOLAB_BACKEND;
  const planFile = join(out, 'demo_plan.json');
  const readPlan = () => JSON.parse(readFileSync(planFile, 'utf8')) as { backend: string; native_kernels: boolean };
  try {
    const off = { ...env, LOGOLAB_NATIVE: '0' };
    const first = await demo(out, 'cpu', /\[demo\] mode tiny/, off);
    assert.ok(first.stopped, first.stderr);
    assert.deepEqual([readPlan().backend, readPlan().native_kernels], ['cpu', false]);
    assert.match(first.stderr, /\[demo\] mode tiny, .*, backend cpu, native kernels off/);
    // with the kernels on where the addon is built; where it is not, a recorded run with them stands in
    const built = existsSync(join(ROOT, 'native/build/Release/logolab_native.node'));
    if (!built) writeFileSync(planFile, JSON.stringify({ ...readPlan(), native_kernels: true }, null, 2) + '\n');
    const again = await demo(out, 'cpu', /stage 1\/8 synth/, built ? env : off);
    assert.ok(!again.stopped, `resumed with the other kernels; stderr:\n${again.stderr}`);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr.trim(), new RegExp(`^logolab: error: --backend cpu: .* holds a demo run on backend cpu ${built ? 'without' : 'with'} the native kernels, and they are ${built ? 'on' : 'off'} now; resuming would mix`));
    assert.equal(readPlan().native_kernels, !built, 'plan left as it was');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
