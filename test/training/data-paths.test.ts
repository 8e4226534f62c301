/**
 * dataset_dir and reference_dir were accepted, logged as overrides and never read: a wrong one
 * went unnoticed. They are now checked against the data in db_path (checkDataPaths, run by
 * dbDataSource before any batch); at their defaults they mean "not given". And lora_alpha /
 * lora_dropout / lora_target_modules set while lora_r is 0 (no LoRA) are warned about as ignored.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpDir } from '../helpers.js';
import { DataDbWriter } from '../../src/data/db-writer.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig } from '../../src/preprocess/processors.js';
import { checkDataPaths, dbDataSource } from '../../training/data_source.js';
import { absolutePaths } from '../../training/run-paths.js';
import { defaultConfig, parseConfig } from '../../training/config.js';
import { validateConfig } from '../../training/config-checks.js';
import { prepareAny } from '../../src/data/prepare.js';
import { synthesize } from '../../src/data/synth/writer.js';
import { makeDataDir } from './prepared-data.js';
import { cfg } from './tiny-config.js';

process.env.LOGOLAB_QUIET = '1';

describe('dataset_dir and reference_dir are checked against db_path', () => {
  let root = '';
  let data = ''; // records the dataset it was prepared from
  let bare = ''; // records none (written without `prepare`)
  const source = () => join(root, 'synth'); // the recorded dataset (deleted since: need not exist)
  before(async () => {
    root = tmpDir();
    data = await makeDataDir(2, 2);
    const w = DataDbWriter.open(data);
    w.setMeta('dataset', source());
    w.close();
    bare = await makeDataDir(2, 2);
  });
  after(() => {
    for (const d of [root, data, bare]) rmSync(d, { recursive: true, force: true });
  });
  const paths = (over: Record<string, string>) => ({ ...defaultConfig(), db_path: data, ...over });

  it('the defaults mean not given; the right folders pass (through a symlink too)', () => {
    checkDataPaths(paths({}), data);
    checkDataPaths(paths({ dataset_dir: source(), reference_dir: join(data, 'reference_logos') }), data);
    const link = join(root, 'link');
    symlinkSync(data, link);
    checkDataPaths(paths({ reference_dir: join(link, 'reference_logos') }), data);
  });

  it('a reference_dir that is not db_path\'s crop folder is an error naming both', () => {
    const other = join(root, 'elsewhere', 'reference_logos');
    mkdirSync(other, { recursive: true });
    assert.throws(
      () => checkDataPaths(paths({ reference_dir: other }), data),
      (e: Error) => e.message.includes(`reference_dir ${other}`) && e.message.includes(join(data, 'reference_logos')),
    );
  });

  it('a dataset_dir other than the recorded source is an error naming both', () => {
    const other = join(root, 'LogoDet-3K-full');
    mkdirSync(other);
    assert.throws(() => checkDataPaths(paths({ dataset_dir: other }), data), (e: Error) => e.message.includes(`dataset_dir ${other}`) && e.message.includes(source()));
  });

  it('without a recorded source, dataset_dir must at least exist', () => {
    const missing = join(root, 'no-such-dataset');
    assert.throws(() => checkDataPaths({ ...paths({ dataset_dir: missing }), db_path: bare }, bare), /dataset_dir .*no-such-dataset: no such folder/);
    checkDataPaths({ ...paths({ dataset_dir: root }), db_path: bare }, bare);
  });

  it('dbDataSource refuses a wrong reference_dir before loading anything', () => {
    const processor = imageProcessorFromConfig(defaultPreprocessorConfig('clip', 32));
    const c = cfg({ db_path: data, reference_dir: join(root, 'crops'), num_workers: 0, split_level: 'image', train_split: 0.5, val_split: 0.5, test_split: 0, logos_per_batch: 2, samples_per_logo: 2, gradient_accumulation_steps: 1 });
    assert.throws(() => dbDataSource(c, processor), /reference_dir .*crops is not the folder training reads the crops from/);
  });

  it("the demo's values pass: dataset_dir = the synth folder prepare read, reference_dir = the data dir's crops", async () => {
    const ds = join(root, 'synthB_train');
    await synthesize({ brands: 2, seed: 5, imagesPerBrand: 2, negatives: 0, minSide: 64, maxSide: 64, quiet: true, out: ds });
    const prepared = join(root, 'data_train');
    await prepareAny({ dataset: ds, out: prepared, quiet: true });
    // as `demo` passes them (cli/commands/demo.ts), made absolute as `train` does
    const c = absolutePaths({ ...defaultConfig(), dataset_dir: ds, reference_dir: join(prepared, 'reference_logos'), db_path: prepared });
    checkDataPaths(c, prepared);
    assert.throws(() => checkDataPaths({ ...c, dataset_dir: join(root, 'synthB_test') }, prepared), /synthB_test is not the dataset db_path .*data_train was prepared from \(.*synthB_train, as its database records\)/);
  });

  it('absolutePaths leaves the defaults as typed (not given), resolves given values', () => {
    const d = defaultConfig();
    const a = absolutePaths(d);
    assert.equal(a.dataset_dir, d.dataset_dir);
    assert.equal(a.reference_dir, d.reference_dir);
    const b = absolutePaths({ ...d, dataset_dir: 'some/data', reference_dir: 'x/reference_logos' });
    assert.equal(b.dataset_dir, resolve('some/data'));
    assert.equal(b.reference_dir, resolve('x/reference_logos'));
  });
});

describe('LoRA settings with lora_r 0', () => {
  it('a non-default lora_alpha / lora_dropout / lora_target_modules is warned about as ignored', () => {
    const w = validateConfig(parseConfig({ lora_r: 0, lora_alpha: 16, lora_dropout: 0.2, lora_target_modules: ['q_proj'] }, 't')).join('\n');
    assert.match(w, /lora_r is 0 .*lora_alpha \(16\), lora_dropout \(0\.2\), lora_target_modules \(\["q_proj"\]\) are ignored/);
    assert.match(validateConfig(parseConfig({ lora_r: 0, lora_dropout: 0 }, 't')).join('\n'), /lora_dropout \(0\) is ignored/);
  });
  it('no warning at their defaults, nor with LoRA on', () => {
    assert.doesNotMatch(validateConfig(parseConfig({ lora_r: 0 }, 't')).join('\n'), /ignored/);
    assert.doesNotMatch(validateConfig(parseConfig({ lora_r: 8, lora_alpha: 16, lora_dropout: 0.2 }, 't')).join('\n'), /ignored/);
  });
});
