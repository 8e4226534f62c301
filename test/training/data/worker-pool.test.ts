/**
 * Loader worker pool: a dying worker is replaced and its job sent again; a job that kills every
 * worker it is sent to fails with an error naming its file; workers that die at start make run()
 * fail instead of waiting forever (before: a dead worker was never replaced, and once all were
 * gone the trainer waited on a batch that could not come).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../../training/data/worker-pool.js';

const workerUrl = new URL('./test-worker.mjs', import.meta.url);
const job = (path: string) => ({ path, augment: 'none' as const, rngKey: 'k' });

test('worker pool: a job that kills its worker fails after 3 tries naming the file; other jobs still run on replacements', async () => {
  const restarts: string[] = [];
  const pool = new WorkerPool(2, { config: {} }, { workerUrl, onRestart: (m) => restarts.push(m) });
  try {
    const ok = await Promise.all([pool.run(job('a.png')), pool.run(job('b.png'))]);
    assert.ok(ok.every((r) => 'pixels' in r));
    await assert.rejects(pool.run(job('/data/poison.png')), /3 workers died while loading \/data\/poison\.png \(exit code 7\)/);
    assert.equal(pool.stats.restarts, 3);
    assert.equal(pool.stats.retried, 2);
    assert.match(restarts[0]!, /loader worker died \(exit code 7\); replaced, its job \(\/data\/poison\.png\) sent again/);
    const after = await Promise.all(['c', 'd', 'e'].map((p) => pool.run(job(p))));
    assert.ok(after.every((r) => 'pixels' in r));
    assert.equal(pool.workers.length, 2);
    // posted together: the poison job takes the other jobs of its worker down with it; those are
    // re-sent and succeed, and only the poison job fails
    const mixed = await Promise.allSettled(['f', 'g', '/data/poison2.png', 'h', 'i', 'j'].map((p) => pool.run(job(p))));
    assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.match(String((mixed[2] as PromiseRejectedResult).reason), /3 workers died while loading \/data\/poison2\.png/);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run(job('x')), /closed/);
});

test('worker pool: workers that die at start fail the jobs with the error instead of hanging', async () => {
  const pool = new WorkerPool(2, { config: {}, crashAtStart: true } as never, { workerUrl, maxDeathsInARow: 4 });
  try {
    // the job's three tries or the pool's five deaths in a row, whichever comes first
    await assert.rejects(pool.run(job('a.png')), /(3 workers died while loading a\.png|loader workers keep dying \(\d+ in a row without finishing a job\)): boom at start/);
    await assert.rejects(pool.run(job('b.png')), /boom at start/);
  } finally {
    await pool.close();
  }
});
