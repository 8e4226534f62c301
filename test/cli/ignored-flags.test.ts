/**
 * Settings that were accepted and then silently ignored (or silently replaced) are refused, naming
 * the flag or variable: --backend on commands that do no tensor work, doctor's selftest options
 * without --selftest, synth's options of the other layout, prepare --concurrency on the folder
 * layout, a bad $LOGOLAB_BACKEND / $LOGOLAB_DB_BUSY_TIMEOUT_MS, an empty $LOGOLAB_CACHE. convert
 * of a logolab export (whose LoRA adapter it merges on tfjs) uses the backend asked for.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, tmpDir } from '../helpers.js';
import { UsageError } from '../../src/errors.js';
import { defaultCachePath } from '../../src/eval/run.js';
import { busyTimeoutMs } from '../../src/io/sqlite.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { makeTinyDataDir, makeTinyFolders } from '../eval/tinydata.js';
import { expectFailure, runCli } from './run.js';

delete process.env.LOGOLAB_QUIET; // the backend line of convert is asserted

/** Runs with an environment variable set (or deleted: undefined) for the call only. */
async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T> | T): Promise<T> {
  const prev = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (prev === undefined) delete process.env[name];
    else process.env[name] = prev;
  }
}

let d = '';
before(() => {
  d = tmpDir();
});
after(() => rmSync(d, { recursive: true, force: true }));

describe('--backend on a command that does no tensor work is a usage error naming it', () => {
  it('synth, prepare, merge-embeddings, doctor without --selftest', async () => {
    expectFailure(await runCli(['synth', '--list-brands', '--backend', 'cpu']), 2, /--backend: `logolab synth` renders scenes with sharp/);
    expectFailure(await runCli(['prepare', '--dataset', join(d, 'none'), '--out', join(d, 'p'), '--backend', 'cpu']), 2, /--backend: `logolab prepare`/);
    expectFailure(await runCli(['merge-embeddings', join(d, 'a.safetensors'), '--out', join(d, 'm.safetensors'), '--backend', 'wasm']), 2, /--backend: `logolab merge-embeddings`/);
    expectFailure(await runCli(['doctor', '--backend', 'cpu']), 2, /--backend: `logolab doctor` without --selftest tries every backend/);
    expectFailure(await runCli(['bench', 'backends', '--backend', 'cpu']), 2, /--backend: `logolab bench backends` runs every backend --backends lists/);
    expectFailure(await runCli(['bench', 'loader', '--data', join(d, 'none'), '--backend', 'cpu']), 2, /--backend: `logolab bench loader` measures the data loader/);
  });

  it('convert of a folder without a LoRA adapter (HF or DETR) copies tensors: --backend is refused', async () => {
    expectFailure(await runCli(['convert', join(FIXTURES, 'clip_tiny/model'), '--out', join(d, 'c1'), '--backend', 'cpu']), 2, /--backend: `logolab convert` of .*clip_tiny\/model copies tensors \(it has no LoRA adapter to merge\)/);
    expectFailure(await runCli(['convert', join(FIXTURES, 'detr_tiny/model'), '--out', join(d, 'c2'), '--backend', 'cpu']), 2, /--backend: `logolab convert` of a DETR checkpoint/);
    assert.ok(!existsSync(join(d, 'c1')) && !existsSync(join(d, 'c2')));
    // without the flag it converts as before
    const ok = await runCli(['convert', join(FIXTURES, 'clip_tiny/model'), '--out', join(d, 'c3')]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('convert of a logolab export merges its adapter on the backend asked for', async () => {
    const exp = join(d, 'export');
    cpSync(join(FIXTURES, 'clip_tiny/model'), exp, { recursive: true });
    cpSync(join(FIXTURES, 'lora/adapter'), join(exp, 'adapter'), { recursive: true });
    const r = await runCli(['convert', exp, '--out', join(d, 'merged'), '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[logolab\] backend: wasm/);
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(r.stdout, /"merged_adapter"/);
  });

  it('$LOGOLAB_BACKEND stays allowed for those commands; a bad value is refused by every command', async () => {
    await withEnv('LOGOLAB_BACKEND', 'wasm', async () => assert.equal((await runCli(['synth', '--list-brands'])).code, 0));
    await withEnv('LOGOLAB_BACKEND', 'gpu', async () => {
      expectFailure(await runCli(['synth', '--list-brands']), 2, /LOGOLAB_BACKEND: expected one of auto, .*got 'gpu'/);
      expectFailure(await runCli(['merge-embeddings', join(d, 'a.safetensors'), '--out', join(d, 'm.safetensors')]), 2, /LOGOLAB_BACKEND: .*got 'gpu'/);
    });
    await withEnv('LOGOLAB_BACKEND', '', async () => expectFailure(await runCli(['synth', '--list-brands']), 2, /LOGOLAB_BACKEND: .*got ''/));
  });
});

describe('doctor: the selftest options without --selftest are usage errors', () => {
  it('--json, --checks, --config, --fixtures', async () => {
    for (const [flag, value] of [['--json', join(d, 'doctor.json')], ['--checks', 'parity'], ['--config', 'configs/tiny_cpu.yaml'], ['--fixtures', join(d, 'fx')]] as const) {
      expectFailure(await runCli(['doctor', flag, value]), 2, new RegExp(`${flag}: applies to \`logolab doctor --selftest\` only`));
    }
    assert.ok(!existsSync(join(d, 'doctor.json')));
  });
});

describe('synth: options of the other layout are refused', () => {
  const small = { brands: 1, seed: 3, imagesPerBrand: 1, negatives: 0, minSide: 64, maxSide: 64, quiet: true };
  it('--record-renditions with --layout folders (renditions.json is keyed by logodet3k scenes)', async () => {
    await assert.rejects(synthesize({ ...small, out: join(d, 's1'), layout: 'folders', recordRenditions: true }), (e: Error) => e instanceof UsageError && /--record-renditions: applies to --layout logodet3k only/.test(e.message));
    expectFailure(await runCli(['synth', '--out', join(d, 's1'), '--layout', 'folders', '--record-renditions', '--brands', '1']), 2, /--record-renditions: applies to --layout logodet3k only/);
    assert.ok(!existsSync(join(d, 's1')));
  });
  it('--references-per-brand without --layout folders (the logodet3k layout writes no reference images)', async () => {
    await assert.rejects(synthesize({ ...small, out: join(d, 's2'), referencesPerBrand: 2 }), (e: Error) => e instanceof UsageError && /--references-per-brand: applies to --layout folders only/.test(e.message));
    expectFailure(await runCli(['synth', '--out', join(d, 's2'), '--references-per-brand', '2', '--brands', '1']), 2, /--references-per-brand: applies to --layout folders only/);
    assert.ok(!existsSync(join(d, 's2')));
  });
});

describe('prepare --concurrency', () => {
  it('is refused for the Burnley folder layout (prepared one file at a time); the layout prepares without it', async () => {
    const root = join(d, 'burnley');
    await makeTinyFolders(root);
    expectFailure(await runCli(['prepare', '--dataset', root, '--out', join(d, 'b1'), '--concurrency', '4']), 2, /--concurrency: applies to the LogoDet-3K layout .*burnley is the Burnley folder layout/);
    assert.ok(!existsSync(join(d, 'b1')));
    const ok = await runCli(['prepare', '--dataset', root, '--out', join(d, 'b2')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).layout, 'folders');
  });
  it('still applies to the LogoDet-3K layout', async () => {
    const ds = join(d, 'ld3k');
    await synthesize({ brands: 1, seed: 3, imagesPerBrand: 2, negatives: 0, minSide: 64, maxSide: 64, quiet: true, out: ds });
    const r = await runCli(['prepare', '--dataset', ds, '--out', join(d, 'ld3k-data'), '--concurrency', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).layout, 'logodet3k');
  });
});

describe('environment variables that used to be replaced silently', () => {
  it('an empty $LOGOLAB_CACHE is an error naming it (it turned the cache off)', async () => {
    // paths under this test's temp folder (nothing is created: defaultCachePath only names the file)
    const dir = join(d, 'data');
    const named = join(d, 'c.sqlite');
    await withEnv('LOGOLAB_CACHE', '', () => assert.throws(() => defaultCachePath(dir), (e: Error) => e instanceof UsageError && /LOGOLAB_CACHE: set but empty/.test(e.message) && e.message.includes(join(dir, 'embedding_cache.sqlite'))));
    await withEnv('LOGOLAB_CACHE', undefined, () => assert.equal(defaultCachePath(dir), join(dir, 'embedding_cache.sqlite')));
    await withEnv('LOGOLAB_CACHE', named, () => assert.equal(defaultCachePath(dir), named));
    const data = join(d, 'tiny');
    await makeTinyDataDir(data, { perLogo: 2, negatives: 1 });
    await withEnv('LOGOLAB_CACHE', '', async () => {
      expectFailure(await runCli(['eval', '--data', data, '--model', join(d, 'no-model'), '--backend', 'wasm']), 2, /LOGOLAB_CACHE: set but empty/);
      // refused before the model loads (the model folder does not exist)
      expectFailure(await runCli(['embed', '--data', data, '--model', join(d, 'no-model'), '--out', join(d, 'e.safetensors'), '--backend', 'wasm']), 2, /LOGOLAB_CACHE: set but empty/);
      // with --no-cache the variable is not read, in eval and embed alike
      const ev = await runCli(['eval', '--data', data, '--model', join(FIXTURES, 'clip_tiny/model'), '--no-cache', '-n', '2', '--refs-per-logo', '1', '--positive-samples', '1', '--negative-samples', '1', '--backend', 'wasm']);
      assert.equal(ev.code, 0, ev.stderr);
      const em = await runCli(['embed', '--data', data, '--model', join(FIXTURES, 'clip_tiny/model'), '--no-cache', '--out', join(d, 'e.safetensors'), '--backend', 'wasm']);
      assert.equal(em.code, 0, em.stderr);
    });
  });

  it('$LOGOLAB_DB_BUSY_TIMEOUT_MS must be whole milliseconds: a bad value is an error naming it and the value', async () => {
    for (const bad of ['abc', '1e3', '-5', '0x10', '2.5', '99999999999']) {
      await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', bad, () => assert.throws(() => busyTimeoutMs(), new RegExp(`LOGOLAB_DB_BUSY_TIMEOUT_MS: expected a whole number of milliseconds .*got '${bad.replace('.', '\\.')}'`)));
    }
    await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', '250', () => assert.equal(busyTimeoutMs(), 250));
    await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', '0', () => assert.equal(busyTimeoutMs(), 0));
    await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', '', () => assert.equal(busyTimeoutMs(), 30000));
    await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', undefined, () => assert.equal(busyTimeoutMs(), 30000));
    // refused when the command starts, by every command (like $LOGOLAB_LOG_LEVEL)
    await withEnv('LOGOLAB_DB_BUSY_TIMEOUT_MS', 'abc', async () => expectFailure(await runCli(['synth', '--list-brands']), 2, /LOGOLAB_DB_BUSY_TIMEOUT_MS: .*got 'abc'/));
  });
});
