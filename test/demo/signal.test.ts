/**
 * `demo` passes a signal to the stage process it runs (review runtime, finding 3): a SIGTERM sent
 * to the demo alone (`kill <pid>`, a scheduler, `timeout`) reaches the training child, which saves
 * a checkpoint; the demo waits for it, exits 143, leaves no orphan and no empty train_result.json
 * under its final name, and a re-run resumes training from that checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';

/** Pids of live processes whose command line mentions `needle` (the demo's stage children do). */
function processesWith(needle: string): number[] {
  // /proc, not ps: a minimal image has no procps
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(join('/proc', d, 'cmdline'), 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmd.includes(needle)) pids.push(Number(d));
  }
  return pids;
}

function runDemo(out: string, onStderr?: (s: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['bin/logolab.mjs', 'demo', '--mode', 'tiny', '--out', out, '--backend', 'wasm'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOGOLAB_QUIET: '0' } });
    let stderr = '';
    const t = setTimeout(() => p.kill('SIGKILL'), 240_000);
    p.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, (sig) => p.kill(sig));
    });
    p.on('exit', (code, signal) => {
      clearTimeout(t);
      res({ code, signal, stderr });
    });
  });
}

test('demo: SIGTERM during training is passed to the train stage; the demo waits, exits 143, and a re-run resumes', async () => {
  const out = tmpDir('logolab-demo-sig-');
  const ckDir = join(out, 'checkpoints');
  try {
    let sent = false;
    const r = await runDemo(out, (s, kill) => {
      // the train child has started its loop (it prints this before its first step)
      if (!sent && /stage 5\/8 train[\s\S]*first batch after/.test(s)) {
        sent = true;
        kill('SIGTERM'); // to the demo only, as `kill <pid>` does
      }
    });
    assert.ok(sent, `training never started; stderr:\n${r.stderr.slice(-3000)}`);
    // checked at once: the demo must not return while its child still runs
    assert.deepEqual(processesWith(ckDir), [], 'a stage process outlived the demo');
    assert.equal(r.code, 143, `demo ended by ${r.signal ?? `exit ${r.code}`}; stderr:\n${r.stderr.slice(-3000)}`);
    assert.doesNotMatch(r.stderr, /logolab: (internal )?error/);
    // the child saved its checkpoint before the demo returned
    assert.ok(existsSync(join(ckDir, 'last.ckpt')), `no last.ckpt; stderr:\n${r.stderr.slice(-3000)}`);
    // the captured stdout is never left (empty) under its final name, nor as a temp
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('train_result')), []);
    assert.ok(!existsSync(join(out, 'stages', '05-train.json')));
    const again = await runDemo(out);
    assert.equal(again.code, 0, again.stderr.slice(-3000));
    assert.match(again.stderr, /resuming training from .*last\.ckpt/);
    assert.ok(existsSync(join(out, 'train_result.json')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
