import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run.js';

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
