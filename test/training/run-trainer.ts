/** One Trainer run in this process (built, optionally resumed, trained, disposed), for the trainer tests. */
import { buildTrainableModel } from '../../training/model.js';
import { Trainer, type TrainResult } from '../../training/trainer.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import type { DataSource } from '../../training/batch.js';
import type { TrainingConfig } from '../../training/config.js';

export async function trainRun(c: TrainingConfig, data: DataSource, opts: { handleSignals?: boolean; resume?: string; stopAfterSteps?: number } = {}): Promise<TrainResult> {
  const tm = await buildTrainableModel(c);
  const tr = new Trainer(c, tm, data, { quiet: true, ...(opts.handleSignals ? { handleSignals: true } : {}), ...(opts.stopAfterSteps !== undefined ? { stopAfterSteps: opts.stopAfterSteps } : {}) });
  try {
    if (opts.resume) tr.resume(loadCheckpoint(opts.resume), opts.resume);
    return await tr.train();
  } finally {
    tr.dispose();
    tm.dispose();
  }
}
