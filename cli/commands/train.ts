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
import { CONFIG_KEYS, applyOverrides, configHelp, isBooleanField, defaultConfig, loadConfigFile, validateConfig, type TrainingConfig } from '../../training/config.js';
import { checkpointPath, loadCheckpoint, peekCheckpointState } from '../../training/checkpoint.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { dbDataSource, type DbDataSource } from '../../training/data_source.js';
import { exportCheckpoint, exportGuard } from '../../training/export.js';
import { resolveBaseModel, verifyBaseModel } from '../../training/provenance.js';
import { absolutePaths, legacyDataPaths, RELOCATED, resumePaths } from '../../training/run-paths.js';
import { checkOutputDir } from '../../src/io/output-dir.js';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { recomputeGradFn } from '../../training/vision_graph.js';

const kebab = (k: string) => k.replace(/_/g, '-');

export const command: CommandModule = {
  command: 'train',
  describe: 'fine-tune (LoRA) or train an encoder with contrastive losses',
  builder: (y: Argv) => {
    let b = y
      .option('config', { type: 'string', describe: 'YAML training config (configs/*.yaml)' })
      .option('resume', { type: 'string', describe: 'checkpoint to resume from (.ckpt); without --config its own config is used' })
      .option('skip-export', { type: 'boolean', default: false, describe: 'skip the export to output_dir at the end' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'start over in a checkpoint_dir that holds an earlier run\'s checkpoints, and let the final export replace a non-empty output_dir that is not an earlier export' });
    for (const k of CONFIG_KEYS) {
      b = b.option(kebab(k), { type: isBooleanField(k) ? 'boolean' : 'string', describe: configHelp(k), group: 'Training config overrides:' });
    }
    return b;
  },
  handler: async (argv) => {
    await initBackend(argv.backend as string | undefined, { workload: 'train' });
    const resume = argv.resume as string | undefined;
    const ck = resume ? loadCheckpoint(resume) : null;
    let cfg: TrainingConfig = argv.config ? loadConfigFile(argv.config as string) : ck ? { ...defaultConfig(), ...ck.state.config } : defaultConfig();
    const overrides: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) if (argv[kebab(k)] !== undefined) overrides[k] = argv[kebab(k)];
    const r = applyOverrides(cfg, overrides);
    cfg = r.config;
    for (const a of r.applied) log('info', `override: ${a}`);
    // paths are fixed now, so the checkpoint (and a resume from any directory) means the same files
    cfg = absolutePaths(cfg);
    if (ck) {
      cfg = resumePaths(cfg, ck.state, resume!, { config: argv.config !== undefined, overrides });
      const before = legacyDataPaths(absolutePaths(ck.state.config), cfg);
      const diff = CONFIG_KEYS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(cfg[k]) && !RELOCATED.includes(k));
      if (diff.length) log('warn', `config differs from the checkpoint's in: ${diff.join(', ')} (the resumed run will not match an uninterrupted one)`);
    }
    for (const w of validateConfig(cfg)) log('warn', `config warning: ${w}`);
    const exportOpts = { format: cfg.lora_r > 0 ? ('logolab' as const) : ('hf' as const), overwrite: argv.overwrite as boolean, flag: 'output_dir' };
    // refuse a foreign output_dir now, not after hours of training
    if (!argv['skip-export']) checkOutputDir(cfg.output_dir, exportGuard(join(cfg.checkpoint_dir, 'best.ckpt'), exportOpts, resolveBaseModel(cfg.base_model)));
    // a fresh run rewrites best.ckpt and last.ckpt: an earlier run's (maybe hours of training) are
    // not replaced unasked
    // the resumed checkpoint's own folder is its run's (best-checkpoint.ts checks best.ckpt there)
    if (!argv.overwrite && !(ck && resolve(dirname(resume!)) === resolve(cfg.checkpoint_dir))) {
      // a resume may write into another folder of its own run (its epoch records, timings
      // included, start alike), never over another run's
      const firstEpoch = (h: readonly unknown[] | undefined) => JSON.stringify(h?.[0] ?? null);
      const foreign = (f: string) => !ck || (existsSync(f) && firstEpoch(peekCheckpointState(f)?.history) !== firstEpoch(ck.state.history));
      const earlier = ['last', 'best'].map((n) => checkpointPath(cfg.checkpoint_dir, n)).filter((f) => existsSync(f) && foreign(f));
      if (earlier.length && !ck)
        throw new LogolabError(`checkpoint_dir ${cfg.checkpoint_dir}: holds an earlier run's ${earlier.map((f) => basename(f)).join(' and ')}; resume it (--resume ${earlier[0]}), choose another checkpoint_dir, or add --overwrite to start over in it`);
      if (earlier.length)
        throw new LogolabError(`checkpoint_dir ${cfg.checkpoint_dir}: holds another run's ${earlier.map((f) => basename(f)).join(' and ')}; resuming ${resume} there would replace them — choose another --checkpoint-dir, or add --overwrite`);
    }
    const tm = await buildTrainableModel(cfg);
    // resumed on the recorded snapshot folder: keep the repo id it was resolved from (provenance)
    if (ck?.state.model.base_model_hub && ck.state.model.base_model === tm.description.base_model) tm.description.base_model_hub ??= ck.state.model.base_model_hub;
    let trainer: Trainer | null = null;
    let data: DbDataSource | null = null;
    try {
      if (ck) verifyBaseModel(ck.state.model, tm.description, resume!);
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
      const res = await trainer.train();
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
