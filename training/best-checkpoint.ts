/**
 * After a resume, best.ckpt must hold THIS run's best epoch. Resuming an older checkpoint
 * (epoch_N.ckpt) continues a run whose folder may hold the best.ckpt of the abandoned
 * continuation (or, with --checkpoint-dir, none). A checkpoint is the best epoch's when it was
 * written at that epoch's end with the same history up to it (the epoch records, timings
 * included, identify the run). Otherwise best.ckpt is rewritten from the first such checkpoint:
 * the resumed state itself (the trainer saves it), or best.ckpt / epoch_<best>.ckpt in this or
 * the resumed folder. With none, the run has no best checkpoint unless it finds a new best (never
 * another run's model).
 */
import { dirname, resolve } from 'node:path';
import { checkpointPath, loadCheckpoint, peekCheckpointState, saveCheckpoint, type TrainState } from './checkpoint.js';
import type { RunState } from './run-state.js';

export type BestCheckpoint =
  | { kind: 'ok' }
  /** the resumed state is the best epoch's end: save it as best.ckpt */
  | { kind: 'save-resumed'; note: string }
  /** best.ckpt was rewritten from another checkpoint of this run */
  | { kind: 'copied'; note: string }
  /** no checkpoint holds the best epoch's weights */
  | { kind: 'missing'; why: string };

export function restoreBestCheckpoint(dir: string, run: RunState, resumedFrom: string): BestCheckpoint {
  const best = run.best_epoch;
  if (best === null) return { kind: 'ok' };
  const history = JSON.stringify(run.history.slice(0, best));
  // the end of epoch `best` of this run (its history up to there): its weights are that epoch's,
  // whichever epoch was best when it was written (a resume may change best_metric)
  const isBest = (s: Pick<TrainState, 'epoch' | 'batch_in_epoch' | 'history'> | null): boolean =>
    s !== null && s.epoch === best && s.batch_in_epoch === 0 && JSON.stringify(s.history) === history;
  const path = checkpointPath(dir, 'best');
  const found = peekCheckpointState(path);
  if (isBest(found)) return { kind: 'ok' };
  const k = Math.min(found?.history.length ?? 0, run.history.length);
  const otherRun = found !== null && JSON.stringify(found.history.slice(0, k)) !== JSON.stringify(run.history.slice(0, k));
  const stale = found ? `${path} is not this run's epoch ${best} (it holds epoch ${found.epoch}, step ${found.global_step}${otherRun ? ', of another run' : ''})` : `${path} does not exist`;
  // nothing trained yet: the weights are the resumed best epoch's
  if (isBest(run)) return { kind: 'save-resumed', note: `${stale}: rewritten from ${resumedFrom}, this run's best epoch ${best}` };
  const dirs = [...new Set([dir, dirname(resolve(resumedFrom))])];
  const candidates = dirs.flatMap((d) => [checkpointPath(d, 'best'), checkpointPath(d, `epoch_${best}`)]).filter((p) => p !== path);
  for (const p of candidates) {
    if (!isBest(peekCheckpointState(p))) continue;
    const ck = loadCheckpoint(p); // verified (checksum, finite) before it becomes the best
    saveCheckpoint(path, { ...ck, state: { ...ck.state, reason: 'best' } });
    return { kind: 'copied', note: `${stale}: rewritten from ${p}, this run's best epoch ${best}` };
  }
  return { kind: 'missing', why: `this run's best epoch ${best} has no checkpoint: ${stale}, and neither the resumed ${resumedFrom} (epoch ${run.epoch}) nor ${candidates.join(' / ')} holds that epoch's end` };
}
