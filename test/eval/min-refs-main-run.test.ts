/**
 * multi-ref with --min-matching-refs above every sampled logo's reference count can never match:
 * refused for the main run even when --sweep lists other values (--sweep-min-refs,
 * --sweep-methods) or --calibrate reads the main run's settings. The guard checked only the sweep's
 * lists, and `--min-matching-refs 5 --sweep --sweep-min-refs 1,2` reported TP 0 / FP 0, exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { makeTinyDataDir } from './tinydata.js';

test('eval: an unreachable --min-matching-refs is refused whatever the sweep lists; the sweep when none of its values can match', async () => {
  const d = tmpDir();
  const data = join(d, 'data');
  await makeTinyDataDir(data);
  const exchange = join(d, 'e.safetensors');
  const ex = await runCli(['embed', '--data', data, '--model', join(FIXTURES, 'clip_tiny/model'), '--out', exchange, '--no-cache', '--backend', 'wasm']);
  assert.equal(ex.code, 0, ex.stderr);
  // -n 2 --refs-per-logo 2: every sampled logo has 2 reference crops
  const common = ['eval', '--embeddings', exchange, '-n', '2', '--refs-per-logo', '2', '--sweep-thresholds', '0.5'];
  const base = [...common, '--matching-method', 'multi-ref'];
  const main = /^logolab: error: --min-matching-refs 5: the sampled logos have at most 2 reference crops each, so multi-ref can never match/;
  for (const extra of [
    ['--sweep', '--sweep-min-refs', '1,2'],
    ['--sweep', '--sweep-methods', 'simple,margin'],
    ['--calibrate', 'f1'],
    ['--sweep', '--sweep-min-refs', '1', '--calibrate', 'f1'],
  ]) expectFailure(await runCli([...base, '--min-matching-refs', '5', ...extra]), 1, main);
  // the sweep's own list: refused when none of its values can match, named as the flag given
  expectFailure(await runCli([...base, '--min-matching-refs', '1', '--sweep', '--sweep-min-refs', '5']), 1, /--sweep-min-refs 5: the sampled logos have at most 2 reference crops each/);
  expectFailure(await runCli([...base, '--min-matching-refs', '1', '--sweep', '--sweep-min-refs', '3,4']), 1, /--sweep-min-refs 3: /);
  // reachable: the run goes on (one unreachable sweep value shows as its own row)
  const ok = await runCli([...base, '--min-matching-refs', '2', '--sweep', '--sweep-min-refs', '1,5']);
  assert.equal(ok.code, 0, ok.stderr);
  const alsoOk = await runCli([...common, '--matching-method', 'simple', '--sweep', '--sweep-methods', 'multi-ref', '--sweep-min-refs', '1,2']);
  assert.equal(alsoOk.code, 0, alsoOk.stderr);
});
