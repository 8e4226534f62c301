/**
 * End to end through the CLI on a tiny data dir with the clip_tiny / siglip_tiny fixture models:
 * eval prints the reference's block and appends it with --output-file; a second eval is served by the
 * cache; `embed --data` + `eval --embeddings` gives the same results; compare writes the report.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT, tmpDir } from '../helpers.js';
import { makeTinyDataDir } from './tinydata.js';

let W = '';
let DATA = '';
const CLIP = join(FIXTURES, 'clip_tiny/model');
const SIGLIP = join(FIXTURES, 'siglip_tiny/model');
const COMMON = ['-n', '3', '--refs-per-logo', '2', '--positive-samples', '3', '--negative-samples', '3', '--seed', '3', '--matching-method', 'multi-ref', '--aggregation', 'max', '--backend', 'wasm'];

/** Runs CLI invocations in one child process (cli-runner.ts); returns each one's stdout/stderr. */
function cliBatch(jobs: [string, string[]][]): Record<string, { out: string; err: string }> {
  const spec = jobs.map(([name, args]) => [join(W, `run-${name}`), args]);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/eval/cli-runner.ts'), JSON.stringify(spec)], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res: Record<string, { out: string; err: string }> = {};
  for (const [name, args] of jobs) {
    const p = join(W, `run-${name}`);
    assert.ok(existsSync(`${p}.code`), `logolab ${args.join(' ')} did not run (an earlier job failed)`);
    const err = readFileSync(`${p}.err`, 'utf8');
    assert.equal(readFileSync(`${p}.code`, 'utf8'), '0', `logolab ${args.join(' ')}\n${err}`);
    res[name] = { out: readFileSync(`${p}.out`, 'utf8'), err };
  }
  return res;
}

before(async () => {
  W = tmpDir('logolab-cli-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 5, negatives: 3 });
});

test('eval → summary + appended block; warm cache; embed --data + eval --embeddings = in place; compare → report', () => {
  const cache = join(W, 'cache.sqlite');
  const outFile = join(W, 'results.txt');
  const [j1, j2, j3] = [join(W, 'r1.json'), join(W, 'r2.json'), join(W, 'r3.json')];
  const emb = join(W, 'emb.safetensors');
  const rep = join(W, 'report');
  const R = cliBatch([
    ['eval1', ['eval', '--data', DATA, '--model', CLIP, ...COMMON, '--cache', cache, '--output-file', outFile, '--json', j1, '--similarity-details']],
    ['eval2', ['eval', '--data', DATA, '--model', CLIP, ...COMMON, '--cache', cache, '--json', j2]],
    ['embed', ['embed', '--data', DATA, '--model', CLIP, '--out', emb, '--no-cache', '--backend', 'wasm']],
    ['eval3', ['eval', '--embeddings', emb, ...COMMON, '--json', j3]],
    ['compare', ['compare', '--data', DATA, '--baseline', CLIP, '--candidate', SIGLIP, ...COMMON, '--no-cache', '--report', rep]],
  ]);
  const r1 = R.eval1!;
  assert.match(r1.out, /LOGO DETECTION TEST RESULTS/);
  assert.match(r1.out, /Total reference embeddings: 6\n/);
  assert.match(r1.out, /SIMILARITY DISTRIBUTION ANALYSIS/);
  const block = readFileSync(outFile, 'utf8');
  assert.match(block, /^={70}\nTEST: MULTI-REF MATCHING\nModel: .*clip_tiny\/model\nMethod: Multi-ref \(max, min_refs=1, margin=0.05\)\n={70}\n/);
  const a = JSON.parse(readFileSync(j1, 'utf8'));
  assert.equal(a.cache.hits, 0);
  assert.ok(a.cache.misses > 0);
  const b = JSON.parse(readFileSync(j2, 'utf8'));
  assert.equal(b.cache.misses, 0, 'second run fully cached');
  assert.deepEqual(b.result, a.result);
  const c = JSON.parse(readFileSync(j3, 'utf8'));
  assert.deepEqual(c.result, a.result);
  assert.deepEqual(c.outcomes.map((o: { image: string }) => o.image), a.outcomes.map((o: { image: string }) => o.image));
  const sims = (x: { outcomes: { matches: { similarity: number }[] }[] }) => x.outcomes.flatMap((o) => o.matches.map((m) => m.similarity));
  const [s1, s3] = [sims(a), sims(c)];
  assert.equal(s1.length, s3.length);
  s1.forEach((v, i) => assert.ok(Math.abs(v - s3[i]!) < 1e-6));
  // compare
  assert.match(R.compare!.out, /per logo: \d+ wins, \d+ losses, \d+ ties/);
  for (const f of ['report.html', 'report.md', 'report.json']) assert.ok(existsSync(join(rep, f)), f);
  const html = readFileSync(join(rep, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg /g) ?? []).length, 5);
  const j = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8'));
  assert.deepEqual(j.models.map((m: { label: string }) => m.label), ['baseline', 'candidate']);
});
