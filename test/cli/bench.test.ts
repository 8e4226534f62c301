import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from './run.js';
import { FIXTURES, ROOT } from '../helpers.js';

test('bench embed on the tiny preset prints images/s as JSON (full and --per-layer)', async () => {
  for (const extra of [[], ['--per-layer']]) {
    const r = await runCli(['bench', 'embed', '--model', 'tiny', '--batch', '2', '--iters', '1', '--backend', 'wasm', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.equal(j.model, 'tiny');
    assert.equal(j.backend, 'wasm');
    assert.equal(j.batch, 2);
    assert.equal(j.estimated, extra.length > 0);
    assert.ok(j.images_per_s > 0);
  }
  const bad = await runCli(['bench', 'embed', '--model', 'vit-xl', '--batch', '1', '--backend', 'wasm']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /logolab: error: vit-xl: model folder not found/);
});

test('bench embed: the seconds printed agree with the rate printed (a fast batch is not rounded to 0 s)', async () => {
  for (const extra of [[], ['--per-layer']]) {
    // batch 1 of the tiny preset takes milliseconds: the case fixed decimals printed as 0 or 0.01
    const r = await runCli(['bench', 'embed', '--model', 'tiny', '--batch', '1', '--iters', '1', '--backend', 'cpu', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.ok(j.batch_s > 0 && j.load_s > 0, r.stdout);
    if (extra.length) assert.ok(j.layer_s > 0, r.stdout);
    assert.ok(Math.abs(j.batch / j.batch_s / j.images_per_s - 1) < 0.01, `batch_s ${j.batch_s} vs images_per_s ${j.images_per_s}`);
  }
});

test('bench detect / embed --profile: per-kernel table on stderr (native or stock JS), kernel_profile in the JSON', async () => {
  const { nativeKernelsStatus } = await import('../../src/backend/native.js');
  const native = nativeKernelsStatus().available;
  const det = await runCli(['bench', 'detect', '--detector', `detr:${join(FIXTURES, 'detr_tiny', 'model')}`, '--size', '64', '--images', '1', '--warmup', '0', '--profile', '--backend', 'cpu']);
  assert.equal(det.code, 0, det.stderr);
  const j = JSON.parse(det.stdout.trim());
  const rows = j.kernel_profile.kernels as { kernel: string; ms: number; calls: number; impl: string }[];
  const conv = rows.find((r) => r.kernel === 'FusedConv2D');
  assert.ok(conv && conv.calls > 0, JSON.stringify(rows));
  assert.equal(conv.impl, native ? 'native' : 'stock JS');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.ms >= rows[i]!.ms, 'sorted by time');
  assert.match(det.stderr, /\| kernel \| ms \| % \| calls \| ms\/call \| runs as \|/);
  assert.match(det.stderr, /\| FusedConv2D \| [\d.]+ \| [\d.]+ \| \d+ \| [\d.]+ \| (native|stock JS) \|/);
  const emb = await runCli(['bench', 'embed', '--model', 'tiny', '--batch', '2', '--iters', '1', '--warmup', '0', '--profile', '--backend', 'wasm']);
  assert.equal(emb.code, 0, emb.stderr);
  assert.ok(JSON.parse(emb.stdout.trim()).kernel_profile.kernels.every((r: { impl: string }) => r.impl === 'wasm'));
});

test('bench train --profile runs one LoRA step in its own process and prints the kernel table', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'bench', 'train', '--preset', 'tiny', '--profile', '--backend', 'cpu'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.preset, 'tiny');
  // the default batch holds a negative: a real contrastive step, not InfoNCE's 0 of one lone pair
  assert.equal(j.batch, 4);
  assert.ok(j.loss > 0, `loss ${j.loss}`);
  assert.ok(j.step_s > 0 && j.kernels > 0);
  assert.match(r.stderr, /LoRA step tiny batch 4: backend cpu/);
  assert.match(r.stderr, /\| BatchMatMul \|/);
});

test('bench embed / detect / train label cpu with the native kernels apart from stock cpu', async () => {
  const { nativeKernelsStatus } = await import('../../src/backend/native.js');
  // with the addon the label names the native kernels; without it, why they are off: never bare 'cpu'
  const nativeLabel = nativeKernelsStatus().available ? /^cpu \(native kernels: OpenBLAS ×\d+ threads/ : /^cpu \(native kernels off: /;
  const embed = ['bench', 'embed', '--model', 'tiny', '--batch', '1', '--iters', '1', '--warmup', '0', '--backend', 'cpu'];
  const detect = ['bench', 'detect', '--detector', `detr:${join(FIXTURES, 'detr_tiny', 'model')}`, '--size', '32', '--images', '1', '--warmup', '0', '--backend', 'cpu'];
  const train = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'bench', 'train', '--preset', 'tiny', '--batch', '4', '--backend', 'cpu'], { encoding: 'utf8', env });
  const labels = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const args of [embed, detect]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      out.push(JSON.parse(r.stdout.trim()).backend as string);
    }
    const t = train({ ...process.env });
    assert.equal(t.status, 0, t.stderr);
    out.push(JSON.parse(t.stdout.trim().split('\n').pop()!).backend as string);
    return out;
  };
  const prev = process.env.LOGOLAB_NATIVE;
  try {
    delete process.env.LOGOLAB_NATIVE;
    for (const l of await labels()) assert.match(l, nativeLabel);
    process.env.LOGOLAB_NATIVE = '0';
    assert.deepEqual(await labels(), ['cpu', 'cpu', 'cpu']);
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_NATIVE;
    else process.env.LOGOLAB_NATIVE = prev;
  }
});

test('bench train: a batch without a negative (below 3) is refused before any work; --help says why', async () => {
  for (const b of ['1', '2']) {
    const bad = await runCli(['bench', 'train', '--batch', b]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`logolab: usage error: --batch: '${b}' is out of range: InfoNCE needs a positive pair and a negative, a batch of at least 3`));
  }
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'bench', 'train', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout.replace(/\s+/g, ' '), /--batch images per step; images 2k and 2k\+1 share a label \(at 2: one pair, no negative, loss and gradients 0\) \(integer ≥ 3\) \[string\] \[default: 4\]/);
});
