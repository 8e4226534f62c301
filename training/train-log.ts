/**
 * What a training run tells the person watching it: the lines of `train.log` in checkpoint_dir
 * (each also on stderr when it matters), the epoch summary, the input-bound hint, and the
 * SIGINT/SIGTERM stop request. The loop itself (trainer.ts) only decides; the wording lives here.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { formatFsError } from '../src/io/fs-errors.js';
import { formatDuration } from '../src/util/progress.js';
import { log } from '../src/util/log.js';
import type { EpochRecord } from './checkpoint.js';
import { microBatchSize, stepsPerEpoch, type TrainingConfig } from './config.js';
import { mkdirp } from '../src/io/mkdirp.js';

/** `train.log` in the checkpoint folder: one ISO-timestamped line per event. */
export class TrainLog {
  constructor(private readonly dir: string) {}

  /** Into train.log only. A write error names train.log (an append's write error carries no path). */
  line(msg: string): void {
    const path = join(this.dir, 'train.log');
    try {
      mkdirp(this.dir);
      appendFileSync(path, `${new Date().toISOString()} ${msg}\n`);
    } catch (e) {
      const line = formatFsError(e, (e as NodeJS.ErrnoException).path ?? path);
      if (!line) throw e;
      throw new LogolabError(line);
    }
  }

  /** On stderr at `level` and into train.log. */
  both(level: 'info' | 'warn', msg: string): void {
    log(level, msg);
    this.line(msg);
  }
}

/** The run's shape, on stderr at start. */
export function startMessage(c: TrainingConfig, tensors: number, parameters: number): string {
  return `training: ${tensors} trainable tensors (${parameters.toLocaleString('en')} parameters), ${stepsPerEpoch(c)} steps/epoch × ${c.max_epochs} epochs, micro-batch ${microBatchSize(c)} images × ${c.gradient_accumulation_steps} accumulation, contrastive_batch ${c.contrastive_batch}, loss ${c.loss_type}`;
}

/**
 * Where the whole run stands (the progress bar's ETA is the epoch's): its optimizer steps, and an
 * ETA from this process's step rate after its first step (start-up left out); validation passes
 * are not in it, hence "steps".
 */
export function runStatus(step: number, planned: number, stepsSinceFirst: number, secondsSinceFirst: number): string {
  const eta = stepsSinceFirst > 0 && secondsSinceFirst > 0 && step < planned ? `, steps ETA ${formatDuration(((planned - step) * secondsSinceFirst) / stepsSinceFirst)}` : '';
  return `run ${step}/${planned} steps${eta}`;
}

/** The progress bar's tail after each step. */
export function stepStatus(loss: number, lr: number, imagesPerS: number, dataWaitFraction: number): string {
  return `loss ${loss.toFixed(4)} | lr ${lr.toExponential(2)} | ${imagesPerS.toFixed(1)} img/s | data wait ${(100 * dataWaitFraction).toFixed(0)}%`;
}

/** One line per epoch: training figures, then the validation metrics when the epoch was evaluated. */
export function epochSummary(rec: EpochRecord, maxEpochs: number, improved: boolean): string {
  // null: no figure (an epoch resumed after its last step ran none of its steps in this process)
  const fixed = (v: number | null | undefined, digits: number, unit = '', scale = 1) => (v === null || v === undefined ? 'n/a' : `${(scale * v).toFixed(digits)}${unit}`);
  const train = `epoch ${rec.epoch}/${maxEpochs}: train_loss ${fixed(rec.train_loss, 4)}, ${fixed(rec.images_per_s, 1)} img/s, data wait ${fixed(rec.data_wait_fraction, 1, '%', 100)}, ${formatDuration(rec.seconds)}`;
  const v = rec.val;
  if (!v) return train;
  return `${train} | val loss ${v.loss!.toFixed(4)} pos ${v.mean_pos_sim!.toFixed(3)} neg ${v.mean_neg_sim!.toFixed(3)} separation ${v.separation!.toFixed(4)} R@1 ${v.recall_at_1!.toFixed(3)} P@1 ${v.precision_at_1!.toFixed(3)} MAP@R ${v.map_at_r!.toFixed(3)}${improved ? ' (best)' : ''}`;
}

/** More than 10 % of an epoch spent waiting for batches: the loader, not the model, sets the pace. */
export function inputBoundHint(rec: EpochRecord, numWorkers: number): string | null {
  if (!(rec.data_wait_fraction! > 0.1)) return null;
  return `epoch ${rec.epoch}: input-bound (${(100 * rec.data_wait_fraction!).toFixed(0)}% of the time waiting for data): raise num_workers (now ${numWorkers})`;
}

/**
 * SIGINT/SIGTERM: the first calls `onStop(signal)` (the loop finishes the current step and saves a
 * checkpoint); a second exits at once (checkpoints are written atomically, so the previous
 * last.ckpt stays intact). Returns the remover.
 */
export function installStopHandlers(dir: string, onStop: (signal: string) => void): () => void {
  let requested = false;
  const onSignal = (sig: string) => () => {
    if (requested) {
      log('warn', `${sig} again: stopping at once without saving; resume from the last complete checkpoint in ${dir}`);
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    requested = true;
    onStop(sig);
    log('warn', `${sig}: finishing the current step (or validation micro-batch), then saving a checkpoint (send it again to stop at once)`);
  };
  const handlers: [string, () => void][] = [
    ['SIGINT', onSignal('SIGINT')],
    ['SIGTERM', onSignal('SIGTERM')],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
