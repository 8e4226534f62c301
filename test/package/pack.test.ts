/**
 * logolab as a package: `npm pack` (which runs `prepare`, i.e. the dist/ build) makes a tarball
 * with what runtime needs and nothing of the workspace; installed into a scratch project it is
 * imported from plain JavaScript (no tsx: Node does not strip types under node_modules) and
 * embeds an image with the shipped tiny CLIP exactly as the sources do; its `logolab` command runs
 * from dist/ even with tsx removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, FIXTURES, tmpDir, maxAbsDiff } from '../helpers.js';
import { LogoLab } from '../../src/api.js';
import { SELFTEST_FILES } from '../../src/selftest/fixtures.js';

const IMAGE = join(FIXTURES, 'images', 'square_224.png');

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LOGOLAB_SKIP_NATIVE: '1', npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test('npm pack → install into a scratch project → import from plain JS, embed, run the CLI', async () => {
  const scratch = tmpDir('logolab-pack-');
  try {
    // npm pack runs `prepare` (scripts/build.mjs → dist/)
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], ROOT)) as { filename: string; files: { path: string }[] }[];
    const files = new Set(packed[0]!.files.map((f) => f.path));
    for (const f of ['package.json', 'bin/logolab.mjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'dist/cli/main.js',
      'dist/cli/commands/embed.js', 'dist/training/data/loader-worker.mjs', 'dist/training/data/loader-worker-impl.js',
      'native/binding.gyp', 'native/src/binding.cc', 'native/src/op_codes.h', 'scripts/build-native.mjs', ...SELFTEST_FILES.map((s) => `test/fixtures/${s}`)])
      assert.ok(files.has(f), `the tarball lacks ${f}`);
    const foreign = [...files].filter((f) => /^(runs|checkpoints|models|configs|node_modules|native\/build|\.dist-)\/?|\.test\.ts$|^test\/(?!fixtures\/)|^tsconfig/.test(f));
    assert.deepEqual(foreign, [], 'workspace files in the tarball');

    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }));
    // dependencies from npm's cache where it has them; no install scripts (no native build, no
    // libtensorflow download): the pure-JS cpu backend is enough here
    run('npm', ['install', join(scratch, packed[0]!.filename), '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], scratch);
    const pkg = join(scratch, 'node_modules', 'logolab');
    assert.ok(!existsSync(join(pkg, 'tsconfig.json')), 'an installed package runs dist/, not the sources');
    rmSync(join(scratch, 'node_modules', 'tsx'), { recursive: true, force: true });

    writeFileSync(join(scratch, 'embed.mjs'), `
import { LogoLab, LogolabError } from 'logolab';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
const pkg = dirname(fileURLToPath(import.meta.resolve('logolab/package.json')));
const ll = await LogoLab.load({ encoder: join(pkg, 'test/fixtures/clip_tiny/model'), backend: 'cpu' });
const e = await ll.embed(process.argv[2]);
ll.dispose();
console.log(JSON.stringify({ entry: fileURLToPath(import.meta.resolve('logolab')), error: typeof LogolabError, embedding: Array.from(e) }));
`);
    const out = JSON.parse(run(process.execPath, ['embed.mjs', IMAGE], scratch).trim().split('\n').pop()!) as { entry: string; error: string; embedding: number[] };
    assert.ok(out.entry.endsWith(join('node_modules', 'logolab', 'dist', 'src', 'index.js')), out.entry);
    assert.equal(out.error, 'function');

    // the same image through the sources, in this process: the built package computes the same
    const ll = await LogoLab.load({ encoder: join(FIXTURES, 'clip_tiny', 'model'), backend: 'cpu' });
    try {
      const want = await ll.embed(IMAGE);
      assert.equal(out.embedding.length, want.length);
      assert.ok(maxAbsDiff(out.embedding, want) <= 1e-6, `max |Δ| ${maxAbsDiff(out.embedding, want)}`);
    } finally {
      ll.dispose();
    }

    // the installed command runs the built CLI with plain node (tsx is gone)
    const help = run(process.execPath, [join(scratch, 'node_modules', '.bin', 'logolab'), '--help'], scratch);
    assert.match(help, /logolab embed/);
    assert.match(help, /logolab train/);
    assert.ok(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).bin.logolab);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
