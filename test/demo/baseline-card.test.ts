/**
 * The shipped baseline's card reproduces: its training command (scripts/train-baseline.sh —
 * synth set A seed 1 → prepare → configs/baseline_tiny.yaml, seed 1234, wasm) re-run from scratch
 * for 3 optimizer steps gives the first losses recorded in models/logolab-tiny-clip/first_losses.json
 * (tolerance 1e-5 absolute). Also checks the shipped folder is complete and within the size limits.
 * Slow part: synthesizing + preparing the 256-brand dataset (~75 s on 2 quiet cores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';
import { baselineFirstLosses } from '../../scripts/baseline-first-losses.js';

const MODEL = join(ROOT, 'models', 'logolab-tiny-clip');

test('shipped baseline folder: config, processor, float16 weights ≤ 20 MB, card', () => {
  for (const f of ['config.json', 'preprocessor_config.json', 'MODEL_CARD.md', 'first_losses.json']) assert.ok(existsSync(join(MODEL, f)), `${f} missing`);
  const weights = ['model.safetensors', 'weights.safetensors'].map((f) => join(MODEL, f)).find((f) => existsSync(f));
  assert.ok(weights, 'no safetensors file');
  assert.ok(statSync(weights).size <= 20 * 1024 * 1024);
  const buf = readFileSync(weights);
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<string, { dtype?: string }>;
  const dtypes = new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype));
  assert.deepEqual([...dtypes], ['F16']);
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
