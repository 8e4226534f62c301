#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` / `npm ci` in a checkout and installs from git
// build too): compiles src/, training/ and cli/ to dist/ (JS, .d.ts, source maps) with
// tsconfig.build.json. The compiler writes to a fresh folder that replaces dist/ only when it
// succeeded, so a failed build never leaves half a dist/. Without the sources (a Docker layer that
// installs dependencies before copying the code) there is nothing to build: one line, exit 0.
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dist = join(root, 'dist');
const MARK = '.logolab-build';

if (!existsSync(join(root, 'tsconfig.build.json')) || !existsSync(join(root, 'src'))) {
  process.stderr.write('logolab: build skipped (no sources here: tsconfig.build.json or src/ missing)\n');
  process.exit(0);
}
if (existsSync(dist) && !existsSync(join(dist, MARK))) {
  process.stderr.write(`logolab: build: ${dist} exists and was not written by this build; move it away first\n`);
  process.exit(1);
}
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  process.stderr.write('logolab: build: typescript is not installed (npm install)\n');
  process.exit(1);
}
const tmp = mkdtempSync(join(root, '.dist-'));
try {
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('logolab: build failed (dist/ left as it was)\n');
    process.exitCode = r.status ?? 1;
  } else {
    writeFileSync(join(tmp, MARK), 'compiled by scripts/build.mjs; replaced as a whole on the next build\n');
    const old = existsSync(dist) ? `${tmp}-old` : null;
    if (old) renameSync(dist, old);
    renameSync(tmp, dist);
    if (old) rmSync(old, { recursive: true, force: true });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
