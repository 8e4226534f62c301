import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, FIXTURES, tmpDir, maxAbsDiff } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { ioTensor } from './fixture.js';

const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });

// (bad adapter folders: one-line LogolabErrors, tested at library level in apply.test.ts; one CLI spawn here keeps this file fast)
test('cli: `logolab embed --adapter` applies the peft adapter', () => {
  const out = join(tmpDir(), 'emb.safetensors');
  const base = ['embed', '--backend', 'cpu', '--model', join(FIXTURES, 'clip_tiny/model'), '--pixels', join(FIXTURES, 'lora/io.safetensors'), '--out', out];
  const ok = cli([...base, '--adapter', join(FIXTURES, 'lora/adapter')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /LoRA on 4 modules \(2,048 parameters\)/);
  const got = readSafetensors(out).get('image_embeds')!;
  assert.ok(maxAbsDiff(got.data, ioTensor('image_embeds').data) <= 1e-4);
});
