/**
 * What a Trainer's run state becomes outside it: the TrainState every checkpoint holds (with the
 * optimizer's and RNG's state, config, model and data digest) and the TrainResult that train()
 * returns. Built from the RunState (run-state.ts) under its own field names, so neither can
 * disagree with the loop about where the run stands.
 */
import type { Rng } from '../src/util/rng.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointPath, type DataDigest, type TrainState } from './checkpoint.js';
import type { TrainingConfig } from './config.js';
import type { TrainableModel } from './model.js';
import type { AdamW } from './optim/adamw.js';
import { bestMetricValue, type RunState } from './run-state.js';
import type { TrainResult } from './trainer-types.js';
import { schedulerRecord } from './trainer-setup.js';

/** The TrainState a checkpoint written now holds; `reason` says why it was written (epoch, best, interrupt, …). */
export function trainState(
  t: { config: TrainingConfig; run: RunState; rng: Rng; optimizer: AdamW; tm: TrainableModel; dataDigest: DataDigest | null },
  reason: string,
): TrainState {
  const c = t.config;
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...t.run,
    scheduler: schedulerRecord(c),
    rng: t.rng.state(),
    adam_t: t.optimizer.t,
    config: c,
    model: t.tm.description,
    ...(t.dataDigest ? { data_digest: t.dataDigest } : {}),
    reason,
    saved_at: new Date().toISOString(),
  };
}

/**
 * What train() returns: its status, position and best epoch; `bestMissing` is why this run's best
 * epoch has no checkpoint of its own (a resume), else null. `t0`: when train() started (ms).
 */
export function trainResult(c: TrainingConfig, run: RunState, dir: string, bestMissing: string | null, status: TrainResult['status'], lastPath: string, t0: number): TrainResult {
  return {
    status,
    epochs: run.epoch,
    steps: run.global_step,
    best_separation: run.best_separation,
    best_metric: c.best_metric,
    best_score: bestMetricValue(c.best_metric, run),
    best_epoch: run.best_epoch,
    history: run.history,
    last_checkpoint: lastPath,
    best_checkpoint: run.best_epoch !== null && bestMissing === null ? checkpointPath(dir, 'best') : null,
    best_missing: run.best_epoch !== null ? bestMissing : null,
    seconds: (Date.now() - t0) / 1000,
  };
}
