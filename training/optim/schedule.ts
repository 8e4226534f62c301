/**
 * Linear warmup then cosine decay, counted in OPTIMIZER steps (HF get_cosine_schedule_with_warmup,
 * plus an optional floor):
 *   s < warmup:  lr = base · s / warmup
 *   otherwise:   lr = base · (floor + (1 − floor) · ½(1 + cos(π · (s − warmup)/(total − warmup))))
 * `s` is the 0-based index of the optimizer step about to be taken, so the last step (total − 1)
 * is just above the floor and the schedule completes exactly at `total`.
 *
 * Reference bug fixed: its OneCycleLR got total_steps = len(train_loader) × max_epochs (micro-
 * batches) but was stepped once per OPTIMIZER step, so with gradient_accumulation_steps = 8 the
 * cosine only ever covered the first 1/8 of its span and the learning rate stayed near its peak.
 */
export interface ScheduleOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** floor as a fraction of baseLr (default 0) */
  minLrRatio?: number;
}

export function cosineWithWarmup(o: ScheduleOptions): (step: number) => number {
  const floor = o.minLrRatio ?? 0;
  const warm = Math.max(0, o.warmupSteps);
  const total = Math.max(1, o.totalSteps);
  return (s: number) => {
    if (s < warm) return (o.baseLr * s) / warm;
    const span = Math.max(1, total - warm);
    const progress = Math.min(1, Math.max(0, (s - warm) / span));
    return o.baseLr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  };
}
