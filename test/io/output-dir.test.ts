/**
 * What an output folder's guard counts as the command's own (src/io/output-dir.ts): the exact
 * files the command writes, file by file through the whole tree. A user's file anywhere in an
 * earlier output (beside the weights, inside an export's adapter/) makes the folder refused, the
 * file kept; a folder holding only the command's files is replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { checkOutputDir, replaceOutputDir } from '../../src/io/output-dir.js';
import { convertGuard } from '../../src/models/format.js';
import { exportGuard } from '../../training/export.js';

/** Makes `files` (relative paths) under `dir`, each holding its own name. */
function tree(dir: string, files: string[]): string {
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), f);
  }
  return dir;
}

const refusedFor = (what: string) => (e: unknown) =>
  e instanceof LogolabError && !e.message.includes('\n') && e.message.includes(`also holds files it did not write (${what}); refusing to replace it`);

const HF_EXPORT = ['model.safetensors', 'config.json', 'preprocessor_config.json', 'export_metadata.json'];
const LOGOLAB_EXPORT = [...HF_EXPORT, 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors'];
const PEFT_EXPORT = ['adapter_config.json', 'adapter_model.safetensors', 'export_metadata.json'];
const CONVERTED = ['model.safetensors', 'logolab.json', 'config.json', 'preprocessor_config.json'];

test('an export from before the marker: a user\'s weights, checkpoints or embeddings there are not the export\'s', () => {
  const d = tmpDir('logolab-outdir-');
  const guard = exportGuard('/nowhere/last.ckpt');
  const out = tree(join(d, 'legacy'), [...HF_EXPORT, 'other-run.ckpt', 'my-embeddings.safetensors']);
  assert.throws(() => checkOutputDir(out, guard), refusedFor('my-embeddings.safetensors, other-run.ckpt'));
  for (const extra of ['weights.bin', 'model.pt', 'old.pth', 'model.safetensors.index.json', 'logolab.json']) {
    const o = tree(join(d, `legacy-${extra}`), [...HF_EXPORT, extra]);
    assert.throws(() => checkOutputDir(o, guard), refusedFor(extra), extra);
  }
  // inside adapter/: only the adapter's two files are the export's
  const nested = tree(join(d, 'legacy-nested'), [...LOGOLAB_EXPORT, 'adapter/README.md', 'adapter/old/adapter_model.safetensors']);
  assert.throws(() => checkOutputDir(nested, guard), refusedFor('adapter/README.md, adapter/old'));
  // a folder the export never writes is named once
  const results = tree(join(d, 'legacy-results'), [...PEFT_EXPORT, 'results/run1.json']);
  assert.throws(() => checkOutputDir(results, guard), refusedFor('results'));
  // each format's own files alone: replaced
  for (const [name, files] of [['hf', HF_EXPORT], ['logolab', LOGOLAB_EXPORT], ['peft', PEFT_EXPORT]] as const) checkOutputDir(tree(join(d, `ok-${name}`), [...files]), guard);
});

test('a conversion from before the marker: only its four files are its own', async () => {
  const d = tmpDir('logolab-outdir-');
  const guard = convertGuard('/nowhere/src');
  const out = tree(join(d, 'legacy'), [...CONVERTED, 'embeddings.safetensors', 'pytorch_model.bin']);
  await assert.rejects(() => replaceOutputDir(out, guard, (tmp) => void tree(tmp, CONVERTED)), refusedFor('embeddings.safetensors, pytorch_model.bin'));
  assert.equal(readFileSync(join(out, 'embeddings.safetensors'), 'utf8'), 'embeddings.safetensors');
  assert.equal(readFileSync(join(out, 'pytorch_model.bin'), 'utf8'), 'pytorch_model.bin');
  // a conversion never writes adapter/: not its own, even with an adapter's file names inside
  const adapter = tree(join(d, 'legacy-adapter'), [...CONVERTED, 'adapter/adapter_config.json']);
  assert.throws(() => checkOutputDir(adapter, guard), refusedFor('adapter'));
  const own = tree(join(d, 'own'), CONVERTED);
  await replaceOutputDir(own, guard, (tmp) => void tree(tmp, CONVERTED));
  assert.ok(existsSync(join(own, '.logolab-output.json')));
  assert.deepEqual(readdirSync(own).sort(), ['.logolab-output.json', ...CONVERTED].sort());
});

test('a marked export: the marker lists every file, nested ones included, and a user\'s file inside adapter/ is refused', async () => {
  const d = tmpDir('logolab-outdir-');
  const guard = exportGuard('/nowhere/last.ckpt');
  const out = join(d, 'export');
  await replaceOutputDir(out, guard, (tmp) => void tree(tmp, LOGOLAB_EXPORT));
  const marker = JSON.parse(readFileSync(join(out, '.logolab-output.json'), 'utf8')) as { command: string; files: string[] };
  assert.equal(marker.command, 'export');
  assert.deepEqual(marker.files, [...LOGOLAB_EXPORT].sort());
  writeFileSync(join(out, 'adapter', 'README.md'), 'mine');
  await assert.rejects(() => replaceOutputDir(out, guard, (tmp) => void tree(tmp, LOGOLAB_EXPORT)), refusedFor('adapter/README.md'));
  assert.equal(readFileSync(join(out, 'adapter', 'README.md'), 'utf8'), 'mine');
  // an empty folder of the user's inside adapter/ is not the export's either
  rmSync(join(out, 'adapter', 'README.md'));
  mkdirSync(join(out, 'adapter', 'notes'));
  assert.throws(() => checkOutputDir(out, guard), refusedFor('adapter/notes'));
  rmSync(join(out, 'adapter', 'notes'), { recursive: true });
  // only its own files again: replaced (here by a peft export, which has no adapter/)
  await replaceOutputDir(out, guard, (tmp) => void tree(tmp, PEFT_EXPORT));
  assert.deepEqual(readdirSync(out).sort(), ['.logolab-output.json', ...PEFT_EXPORT].sort());
});

test('a marker from before nested lists (top-level names only): inside a folder it lists, only the command\'s exact files are its own', () => {
  const d = tmpDir('logolab-outdir-');
  const guard = exportGuard('/nowhere/last.ckpt');
  const oldMarker = (dir: string) => writeFileSync(join(dir, '.logolab-output.json'), JSON.stringify({ command: 'export', files: ['adapter', 'config.json', 'export_metadata.json', 'model.safetensors', 'preprocessor_config.json'] }));
  const mine = tree(join(d, 'mine'), [...LOGOLAB_EXPORT, 'adapter/README.md']);
  oldMarker(mine);
  assert.throws(() => checkOutputDir(mine, guard), refusedFor('adapter/README.md'));
  const own = tree(join(d, 'own'), LOGOLAB_EXPORT);
  oldMarker(own);
  checkOutputDir(own, guard);
  // a command that names no exact files (synth: its names depend on the brands) keeps a listed folder whole, as before
  const other = tree(join(d, 'other'), ['Food/brand/1.jpg', 'synth.json']);
  writeFileSync(join(other, '.logolab-output.json'), JSON.stringify({ command: 'other', files: ['Food', 'synth.json'] }));
  checkOutputDir(other, { command: 'other', flag: '--out' });
  writeFileSync(join(other, 'NOTES.md'), 'mine');
  assert.throws(() => checkOutputDir(other, { command: 'other', flag: '--out' }), refusedFor('NOTES.md'));
});
