import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, FIXTURES, tmpDir, maxAbsDiff } from '../helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { ioTensor } from './fixture.js';

const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });

test('cli: `logolab embed --adapter` applies the peft adapter; a bad adapter folder is a one-line error', () => {
  const out = join(tmpDir(), 'emb.safetensors');
  const base = ['embed', '--backend', 'cpu', '--model', join(FIXTURES, 'clip_tiny/model'), '--pixels', join(FIXTURES, 'lora/io.safetensors'), '--out', out];
  const ok = cli([...base, '--adapter', join(FIXTURES, 'lora/adapter')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /LoRA on 4 modules \(2,048 parameters\)/);
  const got = readSafetensors(out).get('image_embeds')!;
  assert.ok(maxAbsDiff(got.data, ioTensor('image_embeds').data) <= 1e-4);
  const bad = cli([...base, '--adapter', join(FIXTURES, 'clip_tiny')]);
  assert.equal(bad.status, 1);
  const errLines = bad.stderr.split('\n').filter((l) => l.startsWith('logolab: error:'));
  assert.equal(errLines.length, 1);
  assert.match(errLines[0]!, /clip_tiny: no adapter_config\.json/);
});
