/**
 * npm (11.x) runs a dependency's install scripts only with a notice unless package.json's
 * `allowScripts` reviews it, and `--strict-allow-scripts` (as .ci/run installs) refuses the install.
 * So every installed package with an install-time script must have an entry: true where its script
 * is needed (native builds, tfjs-node's libtensorflow download), false where it is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Names of the packages under a node_modules folder (scoped and nested included) that run a script at install. */
function withInstallScripts(dir: string, out = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    if (e.name.startsWith('@')) {
      withInstallScripts(join(dir, e.name), out);
      continue;
    }
    const pkgDir = join(dir, e.name);
    const pj = join(pkgDir, 'package.json');
    if (existsSync(pj)) {
      const p = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; scripts?: Record<string, string> };
      // a binding.gyp without an install script means an implicit `node-gyp rebuild`
      if (p.name && (INSTALL_SCRIPTS.some((s) => p.scripts?.[s]) || existsSync(join(pkgDir, 'binding.gyp')))) out.add(p.name);
    }
    withInstallScripts(join(pkgDir, 'node_modules'), out);
  }
  return out;
}

test('every installed package with an install script is reviewed in package.json allowScripts', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  const reviewed = pkg.allowScripts ?? {};
  const found = withInstallScripts(join(ROOT, 'node_modules'));
  assert.ok(found.has('better-sqlite3'), 'the scan finds better-sqlite3 (a native build)');
  const missing = [...found].filter((n) => !(n in reviewed)).sort();
  assert.deepEqual(missing, [], `add these to package.json allowScripts (true to run the script, false to skip it): ${missing.join(', ')}`);
  // the scripts the project needs stay allowed
  for (const n of ['better-sqlite3', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) assert.equal(reviewed[n], true, n);
});
