#!/usr/bin/env node
// `npm test`: type-check and lint the whole project (tsc and ESLint side by side: one core each),
// then run every test/**/*.test.ts with node's test runner.
// Node 20's `--test` does not glob .ts files itself, so the list is built here.
// Usage: node scripts/run-tests.mjs [--no-typecheck] [--no-lint] [filter-substring...]
// (--no-typecheck skips both static checks, for quick targeted runs)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const noTypecheck = args.includes('--no-typecheck');
const noLint = noTypecheck || args.includes('--no-lint');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const exitOf = (child) => new Promise((res) => child.on('close', (code, signal) => res(code ?? (signal ? 1 : 0))));
const checks = [];
if (!noTypecheck) checks.push(['typecheck', exitOf(spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { stdio: 'inherit' }))]);
if (!noLint) checks.push(['lint (eslint .)', exitOf(spawn(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings', '0', '.'], { cwd: root, stdio: 'inherit' }))]);
let failed = 0;
// the exit promises exist from the spawn on, so a check that ends first is not missed
for (const [name, exited] of checks) {
  const code = await exited;
  if (code !== 0) {
    console.error(`${name} failed`);
    failed = failed || code;
  }
}
if (failed) process.exit(failed);
let files = walk(join(root, 'test')).map((f) => relative(root, f));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, LOGOLAB_TEST: '1' },
});
process.exit(r.status ?? 1);
