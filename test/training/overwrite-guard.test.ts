/**
 * The export at the end of `train` (and `logolab export`) replaces its output folder as a whole:
 * an output_dir that equals or contains the training data (db_path, its crops, dataset_dir,
 * reference_dir) or the base model, or lies inside one of them, is refused before training, even
 * with --overwrite, as one error line naming both keys and paths. Also: settings the run never
 * reads are warned about (validateConfig), and a peft export of a model trained on a logolab export
 * (whose adapter/ the trainer merged into its base) is refused, naming the formats to use.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, useBackend } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { LogolabError } from '../../src/errors.js';
import { checkOutputDir } from '../../src/io/output-dir.js';
import { defaultConfig, parseConfig, type TrainingConfig } from '../../training/config.js';
import { validateConfig } from '../../training/config-checks.js';
import { exportCheckpoint, exportGuard } from '../../training/export.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { makeDataDir } from './prepared-data.js';
import { synthSource } from './synth-source.js';

process.env.LOGOLAB_QUIET = '1';

const oneLine = (re: RegExp) => (e: unknown) => e instanceof LogolabError && !e.message.includes('\n') && re.test(e.message);

describe('output_dir never holds (or lies inside) the training data or the base model', () => {
  let root = '';
  let data = '';
  let ck = ''; // checkpoint_dir, outside root (an output_dir holding it has its own error)
  before(async () => {
    root = tmpDir();
    ck = tmpDir();
    data = await makeDataDir(4, 4);
  });
  after(() => {
    for (const d of [root, ck, data]) rmSync(d, { recursive: true, force: true });
  });
  const c = (over: Partial<TrainingConfig>): TrainingConfig => ({ ...defaultConfig(), db_path: data, checkpoint_dir: ck, output_dir: join(root, 'model'), ...over });

  it('validateConfig: equal, containing or inside db_path / its crops / dataset_dir / reference_dir / base_model: one line naming both', () => {
    const ds = join(root, 'LogoDet-3K');
    const base = join(root, 'base');
    mkdirSync(join(base, 'adapter'), { recursive: true });
    const cases: [Partial<TrainingConfig>, RegExp][] = [
      [{ output_dir: data }, new RegExp(`^config: output_dir ${data} equals db_path ${data}; `)],
      [{ output_dir: root, db_path: join(root, 'big', 'data') }, new RegExp(`^config: output_dir ${root} contains db_path ${root}/big/data; .*would delete`)],
      [{ output_dir: join(data, 'reference_logos') }, new RegExp(`output_dir ${data}/reference_logos equals db_path's reference_logos ${data}/reference_logos`)],
      [{ output_dir: join(data, 'reference_logos', 'brand0') }, new RegExp(`output_dir \\S+/brand0 is inside db_path's reference_logos ${data}/reference_logos`)],
      [{ output_dir: root, dataset_dir: ds }, new RegExp(`output_dir ${root} contains dataset_dir ${ds}`)],
      [{ output_dir: join(ds, 'Food'), dataset_dir: ds }, new RegExp(`output_dir ${ds}/Food is inside dataset_dir ${ds}`)],
      [{ output_dir: root, reference_dir: join(root, 'refs') }, new RegExp(`output_dir ${root} contains reference_dir ${root}/refs`)],
      [{ output_dir: base, base_model: base }, new RegExp(`output_dir ${base} equals base_model ${base}`)],
      [{ output_dir: join(base, 'adapter'), base_model: base }, new RegExp(`output_dir ${base}/adapter is inside base_model ${base}`)],
    ];
    for (const [over, re] of cases) assert.throws(() => validateConfig(c(over)), oneLine(re), JSON.stringify(over));
    // a run without the export (train --skip-export) writes nothing to output_dir: no clash
    for (const [over] of cases) assert.deepEqual(validateConfig(c(over), { export: false }).filter((w) => /output_dir/.test(w)), [], JSON.stringify(over));
    // the db file named instead of its folder: the crops beside it are still protected
    assert.throws(() => validateConfig(c({ db_path: join(data, 'test_data_mapping.db'), output_dir: join(data, 'reference_logos') })), oneLine(/equals db_path's reference_logos/));
    // separate folders pass; defaults of dataset_dir / reference_dir mean "not given"
    assert.deepEqual(validateConfig(c({})), []);
    assert.deepEqual(validateConfig(c({ output_dir: join(root, 'reference_logos') })), []);
  });

  it('exportGuard protects the training data from a replace, even with --overwrite', () => {
    const guard = exportGuard('/nowhere/best.ckpt', { overwrite: true, flag: 'output_dir' }, undefined, c({}));
    assert.throws(() => checkOutputDir(data, guard), oneLine(new RegExp(`^output_dir ${data}: contains the training data \\(db_path\\) \\(${data}\\)`)));
    const big = join(root, 'big2');
    assert.throws(() => checkOutputDir(big, exportGuard('/nowhere/best.ckpt', { overwrite: true }, undefined, c({ db_path: join(big, 'data') }))), oneLine(/^--out \S+big2: contains the training data \(db_path\)/));
  });

  it('`train --overwrite` with output_dir holding db_path: refused before training, the data kept', async () => {
    await useBackend('cpu');
    const big = join(root, 'big');
    const inner = await makeDataDir(2, 4);
    mkdirSync(big, { recursive: true });
    rmSync(join(big, 'data'), { recursive: true, force: true });
    // the data inside the would-be export folder (a run that trains: the old code deleted it at the export)
    renameSync(inner, join(big, 'data'));
    const r = await runCli(['train', '--backend', 'cpu', '--base-model', 'preset:tiny', '--lora-r', '0', '--freeze-layers', '0', '--split-level', 'image', '--train-split', '0.5', '--val-split', '0.5', '--test-split', '0',
      '--logos-per-batch', '2', '--samples-per-logo', '2', '--gradient-accumulation-steps', '1', '--batches-per-epoch', '1', '--val-batches', '1', '--num-workers', '0', '--db-path', join(big, 'data'), '--checkpoint-dir', join(root, 'bigck'), '--output-dir', big, '--max-epochs', '1', '--overwrite']);
    expectFailure(r, 1, new RegExp(`^logolab: error: config: output_dir ${big} contains db_path ${big}/data; `));
    assert.ok(existsSync(join(big, 'data', 'test_data_mapping.db')) && readdirSync(join(big, 'data', 'reference_logos')).length === 8);
    assert.ok(!existsSync(join(root, 'bigck')), 'nothing trained');
  });
});

describe('settings the run never reads are warned about', () => {
  const w = (over: Record<string, unknown>) => validateConfig(parseConfig(over, 't')).join('\n');
  it('eval_every_n_epochs past the last epoch, stop_after_epochs ≥ max_epochs, hard negatives, loss and augmentation settings', () => {
    assert.match(w({ eval_every_n_epochs: 5, max_epochs: 2 }), /eval_every_n_epochs \(5\) > max_epochs \(2\): the run ends before its first validation, so no best checkpoint and no early stopping/);
    assert.match(w({ eval_every_n_epochs: 4, max_epochs: 10, stop_after_epochs: 3 }), /eval_every_n_epochs \(4\) > stop_after_epochs \(3\): the run ends before its first validation/);
    assert.doesNotMatch(w({ eval_every_n_epochs: 5, max_epochs: 2, val_split: 0, train_split: 0.85 }), /eval_every_n_epochs/); // val_split 0 has its own warning
    assert.match(w({ stop_after_epochs: 5, max_epochs: 1 }), /stop_after_epochs \(5\) ≥ max_epochs \(1\) is ignored/);
    assert.match(w({ hard_negative_start_epoch: 3, hard_negatives_per_logo: 4 }), /hard_negative_start_epoch \(3\), hard_negatives_per_logo \(4\) are ignored: use_hard_negatives is false/);
    assert.match(w({ triplet_margin: 0.2 }), /triplet_margin \(0.2\) is ignored: loss_type infonce has no margin/);
    assert.match(w({ triplet_margin: 0.2, loss_type: 'supcon' }), /triplet_margin \(0.2\) is ignored: loss_type supcon/);
    assert.doesNotMatch(w({ triplet_margin: 0.2, loss_type: 'combined' }), /ignored/);
    assert.match(w({ temperature: 0.1, loss_type: 'triplet' }), /temperature \(0.1\) is ignored: the triplet loss has no temperature/);
    assert.doesNotMatch(w({ temperature: 0.1, loss_type: 'combined' }), /ignored/);
    assert.match(w({ use_augmentation: false, augmentation_strength: 'strong' }), /augmentation_strength \("strong"\) is ignored: use_augmentation is false/);
    // at their defaults (not set, as far as the config can tell): nothing
    assert.doesNotMatch(w({ use_augmentation: false, loss_type: 'triplet' }), /ignored/);
    assert.doesNotMatch(w({ eval_every_n_epochs: 2, max_epochs: 40, stop_after_epochs: 30 }), /eval_every|stop_after/);
  });
});

describe('--format peft of a model trained on a logolab export', () => {
  it('is refused naming the formats to use; hf still exports', async () => {
    await useBackend('cpu');
    const dir = tmpDir();
    try {
      const train = async (base: string, ck: string) => {
        const c = parseConfig({ base_model: base, lora_r: 2, lora_alpha: 4, freeze_layers: 2, logos_per_batch: 2, samples_per_logo: 2, gradient_accumulation_steps: 1, batches_per_epoch: 1, max_epochs: 1, learning_rate: 5e-3, warmup_steps: 0, checkpoint_dir: ck, seed: 3 }, 'test');
        const tm = await buildTrainableModel(c);
        const tr = new Trainer(c, tm, synthSource({ classes: 3, itemsPerClass: 4, size: 32, P: 2, K: 2, seed: 2, valBatches: 1 }), { quiet: true });
        try {
          return (await tr.train()).last_checkpoint;
        } finally {
          tr.dispose();
          tm.dispose();
        }
      };
      const first = await train('preset:tiny', join(dir, 'ck1'));
      // a logolab export: base weights + adapter/ (unmerged)
      await exportCheckpoint(first, join(dir, 'ex'), { format: 'logolab' });
      assert.ok(existsSync(join(dir, 'ex', 'adapter', 'adapter_config.json')));
      const second = await train(join(dir, 'ex'), join(dir, 'ck2'));
      await assert.rejects(exportCheckpoint(second, join(dir, 'peft'), { format: 'peft' }), oneLine(/--format peft cannot be used: it was trained on .*\/ex, a logolab export whose adapter\/ was merged .*use --format hf \(merged\) or --format logolab/));
      assert.ok(!existsSync(join(dir, 'peft')));
      // a peft export of a model trained on a plain base is still fine
      await exportCheckpoint(first, join(dir, 'peft1'), { format: 'peft' });
      // `logolab export --out` into the training data is refused too (the checkpoint's config)
      await assert.rejects(exportCheckpoint(second, join(dir, 'ex', 'adapter'), { format: 'hf', overwrite: true }), oneLine(/^--out \S+\/ex\/adapter is inside base_model \S+\/ex;/));
      const r = await exportCheckpoint(second, join(dir, 'hf'), { format: 'hf' });
      assert.equal(r.merged, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
