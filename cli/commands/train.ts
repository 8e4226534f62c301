/**
 * `logolab train --config f.yaml [--learning-rate 5e-6 --max-epochs 30 …] [--resume ckpt]`
 * Every TrainingConfig key is also a kebab-case option (training/config.ts). On SIGINT/SIGTERM the
 * trainer finishes the current step, saves `<checkpoint_dir>/last.ckpt` and exits (130 / 143).
 * At the end the best checkpoint (or the last one without validation) is exported to output_dir
 * (checked before training starts: a non-empty output_dir must be an earlier export, or --overwrite).
 * --resume writes into the resumed checkpoint's folder (training/run-paths.ts).
 */
import type { Argv, CommandModule } from 'yargs';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError } from '../../src/errors.js';
import { log } from '../../src/util/log.js';
import { CONFIG_KEYS, applyOverrides, configHelp, isBooleanField, isListField, defaultConfig, loadConfigFile, type TrainingConfig } from '../../training/config.js';
import { validateConfig } from '../../training/config-checks.js';
import { checkpointPath, dataDigest, dataDigestDifference, loadCheckpoint, peekCheckpointState, type DataDigest } from '../../training/checkpoint.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { dataDirOf, dbDataSource, type DbDataSource } from '../../training/data_source.js';
import { referenceCropsByLogo } from '../../src/data/db.js';
import { exportCheckpoint, exportGuard } from '../../training/export.js';
import { presetDrawChanges, resolveBaseModel, verifyBaseModel } from '../../training/provenance.js';
import { absolutePaths, andList, earlierRunFiles, legacyDataPaths, legacySplitRefusal, RELOCATED, resumePaths } from '../../training/run-paths.js';
import { checkOutputDir } from '../../src/io/output-dir.js';
import { dirname, join, resolve } from 'node:path';
import { recomputeGradFn } from '../../training/vision_graph.js';

const kebab = (k: string) => k.replace(/_/g, '-');

/**
 * Keys that cannot change what a resumed run computes, so a resume that changes them is not
 * warned about: num_workers and prefetch_batches (the loader's batches are the same pixels whatever
 * threads build them, how far ahead: training/data_source.ts), log_every_n_steps (train.log lines
 * only), stop_after_epochs (where the run stops; the schedule follows max_epochs: the key changed to
 * go on with a budget-cut run).
 */
const NO_EFFECT: (keyof TrainingConfig)[] = ['num_workers', 'prefetch_batches', 'log_every_n_steps', 'stop_after_epochs'];

export const command: CommandModule = {
  command: 'train',
  describe: 'fine-tune (LoRA) or train an encoder with contrastive losses',
  builder: (y: Argv) => {
    let b = y
      .option('config', { type: 'string', describe: 'YAML training config (configs/*.yaml)' })
      .option('resume', { type: 'string', describe: 'checkpoint to resume from (.ckpt); without --config its own config is used' })
      .option('skip-export', { type: 'boolean', default: false, describe: 'skip the export to output_dir at the end' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'start over in a checkpoint_dir that holds an earlier run\'s checkpoints (they move to previous-run-<time>/ there), and let the final export replace a non-empty output_dir that is not an earlier export (never one holding the training data or base model)' });
    for (const k of CONFIG_KEYS) {
      // a list field may be given once per item (--lora-target-modules q_proj --lora-target-modules v_proj)
      b = b.option(kebab(k), { type: isBooleanField(k) ? 'boolean' : 'string', ...(isListField(k) ? { array: true } : {}), describe: configHelp(k), group: 'Training config overrides:' });
    }
    return b;
  },
  handler: async (argv) => {
    const resume = argv.resume as string | undefined;
    const ck = resume ? loadCheckpoint(resume) : null;
    // a checkpoint of a logolab before val_subset validated on the first crops: it resumes so (exactly)
    const ckConfig: TrainingConfig | null = ck ? { ...defaultConfig(), ...ck.state.config, val_subset: (ck.state.config as Partial<TrainingConfig>).val_subset ?? 'first' } : null;
    let cfg: TrainingConfig = argv.config ? loadConfigFile(argv.config as string) : (ckConfig ?? defaultConfig());
    const overrides: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) {
      const v = argv[kebab(k)];
      if (v !== undefined) overrides[k] = Array.isArray(v) ? v.join(',') : v;
    }
    // said, not refused: scripts pass a scratch output_dir with every run
    if (argv['skip-export'] && overrides.output_dir !== undefined) log('warn', `--output-dir ${String(overrides.output_dir)}: not written, --skip-export writes no export`);
    const r = applyOverrides(cfg, overrides);
    cfg = r.config;
    // after the config is read: a typo in it is reported before the backend starts
    await initBackend(argv.backend as string | undefined, { workload: 'train' });
    for (const a of r.applied) log('info', `override: ${a}`);
    // paths are fixed now, so the checkpoint (and a resume from any directory) means the same files
    cfg = absolutePaths(cfg);
    // what the run trains on (checkpoint.ts dataDigest), once cfg.db_path is final
    let digest: DataDigest | undefined;
    const dataNow = (): DataDigest => (digest ??= dataDigest(referenceCropsByLogo(dataDirOf(cfg.db_path)), { files: true }));
    if (ck) {
      const legacySplit = legacySplitRefusal(ckConfig!, ck.state.history, resume!);
      if (legacySplit) throw new LogolabError(legacySplit);
      cfg = resumePaths(cfg, ck.state, resume!, { config: argv.config !== undefined, overrides });
      const before = legacyDataPaths(absolutePaths(ckConfig!), cfg);
      // a db_path moved (or copied) with the same data is no difference either
      const sameData = (k: keyof TrainingConfig) => k === 'db_path' && !!ck.state.data_digest && dataDigestDifference(ck.state.data_digest, dataNow()) === null;
      const diff = CONFIG_KEYS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(cfg[k]) && !RELOCATED.includes(k) && !NO_EFFECT.includes(k) && !sameData(k));
      if (diff.length) log('warn', `config differs from the checkpoint's in: ${diff.join(', ')} (the resumed run will not match an uninterrupted one)`);
    }
    for (const w of validateConfig(cfg, { export: !argv['skip-export'] })) log('warn', `config warning: ${w}`);
    const exportOpts = { format: cfg.lora_r > 0 ? ('logolab' as const) : ('hf' as const), overwrite: argv.overwrite as boolean, flag: 'output_dir' };
    // refuse a foreign output_dir now, not after hours of training
    if (!argv['skip-export']) checkOutputDir(cfg.output_dir, exportGuard(join(cfg.checkpoint_dir, 'best.ckpt'), exportOpts, resolveBaseModel(cfg.base_model), cfg));
    // what the run trains on: recorded in its checkpoints; a resume on other data would draw
    // another split (earlier validation crops trained on, the best epoch picked on other crops)
    if (ck && !ck.state.data_digest) log('warn', `${resume}: written by an older logolab without a data digest; cannot verify that db_path ${cfg.db_path} holds the data it was trained on`);
    const dataDiff = ck?.state.data_digest ? dataDigestDifference(ck.state.data_digest, dataNow()) : null;
    if (dataDiff) throw new LogolabError(`${resume}: was trained on other data than db_path ${cfg.db_path} holds now (${dataDiff}); a resume would train and validate on another split — resume with the data it was trained on, or start a new run`);
    // a fresh run rewrites best.ckpt, last.ckpt, epoch_N.ckpt and training_history.json (and adds
    // to train.log): an earlier run's (maybe hours of training) are not replaced or mixed unasked
    // (with --overwrite, the trainer moves the earlier run's files aside: run-paths.ts setAsideEarlierRun)
    if (!argv.overwrite) {
      const dir = cfg.checkpoint_dir;
      if (!ck) {
        const earlier = earlierRunFiles(dir);
        if (earlier.length)
          throw new LogolabError(`checkpoint_dir ${dir}: holds an earlier run's ${andList(earlier)}; ${earlier.includes('last.ckpt') ? `resume it (--resume ${checkpointPath(dir, 'last')}), ` : ''}choose another checkpoint_dir, or add --overwrite to start over in it`);
      } else {
        // a resume may write into another folder of its own run (its epoch records, timings
        // included, start alike), never over another run's. In the resumed checkpoint's own folder,
        // best.ckpt is checked by best-checkpoint.ts; last.ckpt or an epoch_N.ckpt may still be
        // another run's (an older epoch_N.ckpt resumed beside a later run's files)
        const sameFolder = resolve(dirname(resume!)) === resolve(dir);
        const firstEpoch = (h: readonly unknown[] | undefined) => JSON.stringify(h?.[0] ?? null);
        const foreign = (f: string) => resolve(f) !== resolve(resume!) && firstEpoch(peekCheckpointState(f)?.history) !== firstEpoch(ck.state.history);
        // the checkpoints this resume writes: last, best (checked above in its own folder), epoch_N after its epoch
        const writes = (f: string) => f === 'last.ckpt' || (f === 'best.ckpt' && !sameFolder) || Number(/^epoch_(\d+)\.ckpt$/.exec(f)?.[1] ?? 0) > ck.state.epoch;
        const earlier = earlierRunFiles(dir).filter((f) => writes(f) && foreign(join(dir, f)));
        if (earlier.length)
          throw new LogolabError(`checkpoint_dir ${dir}: holds another run's ${andList(earlier)}; resuming ${resume} there would replace ${earlier.length === 1 ? 'it' : 'them'} — choose another --checkpoint-dir, or add --overwrite`);
      }
    }
    const tm = await buildTrainableModel(cfg);
    // resumed on the recorded snapshot folder: keep the repo id it was resolved from (provenance)
    if (ck?.state.model.base_model_hub && ck.state.model.base_model === tm.description.base_model) tm.description.base_model_hub ??= ck.state.model.base_model_hub;
    let trainer: Trainer | null = null;
    let data: DbDataSource | null = null;
    try {
      if (ck) verifyBaseModel(ck.state.model, tm.description, resume!, presetDrawChanges(ckConfig!, cfg));
      // a resume without --config inherits the data paths from the checkpoint: only those given now are checked
      const checkPaths = (['dataset_dir', 'reference_dir'] as const).filter((k) => !ck || argv.config !== undefined || overrides[k] !== undefined);
      data = dbDataSource(cfg, tm.model.processor, { checkPaths });
      log('info', data.info);
      // use_gradient_checkpointing → per-block recomputation (training/recompute.ts)
      trainer = new Trainer(cfg, tm, data, { handleSignals: true, gradFn: cfg.use_gradient_checkpointing ? recomputeGradFn : undefined });
      if (ck) {
        trainer.resume(ck, resume!);
        log('info', `resumed from ${resume}: epoch ${ck.state.epoch + 1}, step ${ck.state.global_step}`);
      }
      trainer.dataDigest = dataNow();
      const res = await trainer.train({ startOver: argv.overwrite as boolean });
      const ds = data.stats();
      if (ds.corruptFiles || ds.workerRestarts) log('warn', `data: ${ds.corruptFiles} unreadable crops replaced in ${ds.refilled} batch slots; ${ds.workerRestarts} loader workers restarted (${ds.retried} images re-sent)`);
      process.stdout.write(JSON.stringify({ status: res.status, epochs: res.epochs, steps: res.steps, best_separation: res.best_separation, best_metric: res.best_metric, best_score: res.best_score, best_epoch: res.best_epoch, last_checkpoint: res.last_checkpoint, best_checkpoint: res.best_checkpoint, seconds: +res.seconds.toFixed(1) }, null, 2) + '\n');
      if (res.status === 'interrupted') {
        process.exitCode = trainer.signal === 'SIGTERM' ? 143 : 130;
        return;
      }
      if (!argv['skip-export']) {
        // the best epoch's weights are gone (training/trainer.ts ensureBestCheckpoint): exporting
        // another run's best.ckpt, or last.ckpt in its place, would be silently another model
        if (res.best_missing) throw new LogolabError(`${res.best_missing}; nothing exported (export a checkpoint of this run explicitly: logolab export --checkpoint ${res.last_checkpoint} --out ${cfg.output_dir})`);
        const src = res.best_checkpoint ?? res.last_checkpoint;
        const e = await exportCheckpoint(src, cfg.output_dir, exportOpts);
        log('info', `exported ${src} → ${e.dir} (${e.format}${e.merged ? ', LoRA merged' : ''})`);
      }
    } finally {
      await data?.close(); // loader workers: on every exit path (error, SIGINT/SIGTERM, done)
      trainer?.dispose();
      tm.dispose();
    }
  },
};
