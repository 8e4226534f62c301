/**
 * EpochClock: the progress bar's "data wait" and the epoch record's data_wait_fraction are one
 * figure (batch wait over the epoch's time less the loader start-up), not two formulas that can drift.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EpochClock } from '../../training/epoch-clock.js';

process.env.LOGOLAB_QUIET = '1';

test('EpochClock: step line and data_wait_fraction agree; start-up excluded; null without images', async () => {
  // Date (the epoch's time) is frozen and stepped by hand; the batch waits use real performance.now
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const clock = new EpochClock();
    clock.startEpoch();
    await clock.timeBatch(() => new Promise((r) => setTimeout(r, 20))); // loader start-up, not data wait
    await clock.timeBatch(() => new Promise((r) => setTimeout(r, 40)));
    mock.timers.tick(400);
    const seconds = clock.epochSeconds();
    assert.equal(seconds, 0.4);
    const frac = clock.dataWaitFraction(8, seconds)!;
    const startup = clock.loaderStartup().loader_startup_s!;
    assert.ok(startup >= 0.015, `loader_startup_s ${startup}`);
    assert.ok(frac > 0 && frac < 1, `data_wait_fraction ${frac}`);
    // wait / (epoch less start-up): ≥ 40 ms / (400 ms − start-up)
    assert.ok(frac >= 0.035 / (0.4 - startup), `data_wait_fraction ${frac} counts the start-up out`);
    const line = clock.stepLine(0.5, 1e-3, 8, 1, 10);
    assert.match(line, new RegExp(`data wait ${(100 * frac).toFixed(0)}%`), line);
    assert.equal(clock.dataWaitFraction(0, seconds), null);
  } finally {
    mock.timers.reset();
  }
});
