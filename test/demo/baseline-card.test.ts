/**
 * The shipped baseline's card reproduces: its training command (scripts/train-baseline.sh —
 * synth set A with shape labels, seed 1 → prepare → configs/baseline_tiny.yaml, seed 1234, wasm)
 * re-run from scratch for 3 optimizer steps gives the first losses recorded in
 * models/logolab-tiny-clip/first_losses.json (tolerance 1e-5 absolute). Also checks that the
 * script's synth line is the one the re-run uses, and that the shipped folder is complete and
 * within the size limits.
 * Slow part: synthesizing + preparing the 2,832-scene dataset (~2 min on 2 quiet cores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';
import { BASELINE_SYNTH, SYNTH_FLAGS, baselineFirstLosses } from '../../scripts/baseline-first-losses.js';

const MODEL = join(ROOT, 'models', 'logolab-tiny-clip');

test('shipped baseline folder: config, processor, float16 weights ≤ 20 MB, card with its curve', () => {
  for (const f of ['config.json', 'preprocessor_config.json', 'MODEL_CARD.md', 'first_losses.json', 'training_curve.svg']) assert.ok(existsSync(join(MODEL, f)), `${f} missing`);
  assert.match(readFileSync(join(MODEL, 'MODEL_CARD.md'), 'utf8'), /!\[[^\]]*\]\(training_curve\.svg\)/);
  const weights = ['model.safetensors', 'weights.safetensors'].map((f) => join(MODEL, f)).find((f) => existsSync(f));
  assert.ok(weights, 'no safetensors file');
  assert.ok(statSync(weights).size <= 20 * 1024 * 1024);
  const buf = readFileSync(weights);
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<string, { dtype?: string }>;
  const dtypes = new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype));
  assert.deepEqual([...dtypes], ['F16']);
});

test('baseline card: scripts/train-baseline.sh synthesizes exactly the data the first-losses re-run builds', () => {
  const line = readFileSync(join(ROOT, 'scripts', 'train-baseline.sh'), 'utf8').split('\n').find((l) => l.startsWith('$L synth '));
  assert.ok(line, 'no synth line in scripts/train-baseline.sh');
  const args = line.split(/\s+/);
  const flags = new Set(args.filter((a) => a.startsWith('--') && a !== '--out'));
  for (const [k, flag] of Object.entries(SYNTH_FLAGS)) {
    const i = args.indexOf(flag);
    assert.ok(i > 0, `${flag} missing from the script's synth line`);
    assert.equal(args[i + 1], String(BASELINE_SYNTH[k as keyof typeof BASELINE_SYNTH]), flag);
    flags.delete(flag);
  }
  assert.deepEqual([...flags], [], 'flags of the script that the re-run does not use');
});

test('baseline card: the training command re-run with its seed gives the recorded first losses (≤ 1e-5)', async () => {
  const rec = JSON.parse(readFileSync(join(MODEL, 'first_losses.json'), 'utf8')) as { first_losses: number[]; tolerance: number };
  const work = tmpDir('logolab-baseline-');
  try {
    const losses = await baselineFirstLosses(work, 3);
    assert.equal(losses.length, 3);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(losses[i]! - rec.first_losses[i]!) <= 1e-5, `step ${i + 1}: ${losses[i]} vs recorded ${rec.first_losses[i]}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
