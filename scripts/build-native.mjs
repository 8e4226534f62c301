#!/usr/bin/env node
// `npm install` hook: builds the optional native kernels (native/ → native/build/Release/logolab_native.node)
// with node-gyp when a C++ compiler and OpenBLAS (Debian: libopenblas-dev) are present. Anything
// missing → one line on stderr and exit 0: the pure-JS backends work without it, and `npm ci` must
// never fail because of it. LOGOLAB_SKIP_NATIVE=1 skips the build.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const nativeDir = join(root, 'native');

// Where cblas.h may be: the compiler's own search path (Debian/Ubuntu, /usr/local), or
// /usr/include/openblas (Fedora/RHEL), which the compiler does not search and binding.gyp gets
// as its openblas_include variable. (-I on a default directory would reorder the system headers.)
const SYSTEM_INCLUDE_DIRS = ['/usr/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/local/include'];
const EXTRA_INCLUDE_DIRS = ['/usr/include/openblas'];

/** The directory holding cblas.h: null when there is none, extra: true when the compiler must be told it. */
export function findCblas(exists = existsSync) {
  for (const dir of SYSTEM_INCLUDE_DIRS) if (exists(join(dir, 'cblas.h'))) return { dir, extra: false };
  for (const dir of EXTRA_INCLUDE_DIRS) if (exists(join(dir, 'cblas.h'))) return { dir, extra: true };
  return null;
}

/** node-gyp's arguments (after the node-gyp script itself): `rebuild` of native/ unless told otherwise. */
export function nodeGypArgs(cblas, nodedir, { command = 'rebuild', directory = nativeDir } = {}) {
  const args = [command, '--directory', directory];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if (cblas?.extra) args.push(`--openblas_include=${cblas.dir}`);
  return args;
}

/** node-gyp: a local install, else the copy npm ships with; undefined when there is none. */
export function findNodeGyp() {
  return [
    join(root, 'node_modules/node-gyp/bin/node-gyp.js'),
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ].filter(Boolean).find((p) => existsSync(p));
}

/** Node's own headers, so node-gyp does not try to download them (no network in CI); null when absent. */
export function nodeHeadersDir() {
  const nodedir = resolve(dirname(process.execPath), '..');
  return existsSync(join(nodedir, 'include/node/node_api.h')) ? nodedir : null;
}

const skip = (why) => {
  process.stderr.write(`logolab: native kernels not built (${why}); the wasm/cpu backends still work\n`);
  process.exit(0);
};

function main() {
  try {
    if (process.env.LOGOLAB_SKIP_NATIVE === '1') skip('LOGOLAB_SKIP_NATIVE=1');
    if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported by the build script`);
    if (!existsSync(join(nativeDir, 'binding.gyp'))) skip('native/binding.gyp missing');
    const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
    if (!has(process.env.CXX ?? 'g++') && !has('c++')) skip('no C++ compiler (g++)');
    if (!has('make')) skip('no make');
    const cblas = findCblas();
    if (!cblas) skip('no cblas.h (apt-get install libopenblas-dev)');
    const libDirs = ['/usr/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/local/lib', '/usr/lib64'];
    if (!libDirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.startsWith('libopenblas.so')))) skip('no libopenblas.so (apt-get install libopenblas-dev)');

    const npmGyp = findNodeGyp();
    if (!npmGyp) skip('node-gyp not found');
    const args = [npmGyp, ...nodeGypArgs(cblas, nodeHeadersDir())];
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      const lines = (r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l));
      skip(`node-gyp failed: ${(lines[0] ?? `exit ${r.status}`).slice(0, 200)}`);
    }
    const out = join(nativeDir, 'build/Release/logolab_native.node');
    if (!existsSync(out)) skip('node-gyp produced no logolab_native.node');
    process.stderr.write(`logolab: native kernels built (${out.slice(root.length + 1)})\n`);
  } catch (e) {
    skip(`unexpected: ${e?.message ?? e}`);
  }
}

// run as a script (npm's install hook); imported (tests), only the functions above
if (process.argv[1] && existsSync(process.argv[1]) && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) main();
