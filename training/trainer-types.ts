/** What the training loop takes besides its config, model and data, and what it reports back. */
import type { EpochRecord } from './checkpoint.js';
import type { TrainingConfig } from './config.js';
import type { GradFn } from './grads.js';

export interface TrainerOptions {
  /** silence the progress bar (tests) */
  quiet?: boolean;
  /** called after every optimizer step (tests, demo) */
  onStep?: (info: StepInfo) => void;
  /** gradient implementation (per-block recomputation plugs in here) */
  gradFn?: GradFn;
  /** install SIGINT/SIGTERM handlers (CLI) */
  handleSignals?: boolean;
  /** stop after this many optimizer steps in this process (tests: simulate an interruption) */
  stopAfterSteps?: number;
}

export interface StepInfo {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  skipped: boolean;
}

export interface TrainResult {
  status: 'completed' | 'early_stopped' | 'interrupted';
  epochs: number;
  steps: number;
  best_separation: number | null;
  best_metric: TrainingConfig['best_metric'];
  /** the best epoch's best_metric value (null when never validated) */
  best_score: number | null;
  best_epoch: number | null;
  history: EpochRecord[];
  last_checkpoint: string;
  best_checkpoint: string | null;
  /** why the best epoch has no checkpoint of this run (a resume whose best.ckpt is another run's), else null */
  best_missing: string | null;
  seconds: number;
}
