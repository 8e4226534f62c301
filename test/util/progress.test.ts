/**
 * Progress lines: LOGOLAB_QUIET silences them also when a caller passes `quiet: undefined` through;
 * no rate before any time has passed, and no negative ETA past the total.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../src/util/progress.js';

/** A fake stream collecting what is written. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

test('Progress: LOGOLAB_QUIET=1 holds when quiet is passed as undefined; quiet: false overrides it', () => {
  const prev = process.env.LOGOLAB_QUIET;
  process.env.LOGOLAB_QUIET = '1';
  try {
    const a = sink();
    const p = new Progress({ label: 'A', total: 2, quiet: undefined, stream: a.stream, intervalMs: undefined });
    p.tick();
    p.finish();
    assert.equal(a.text(), '');
    const b = sink();
    const q = new Progress({ label: 'B', total: 1, quiet: false, stream: b.stream });
    q.tick();
    assert.match(b.text(), /^B 100% 1\/1 it/);
  } finally {
    if (prev === undefined) delete process.env.LOGOLAB_QUIET;
    else process.env.LOGOLAB_QUIET = prev;
  }
});

test('Progress: past the total there is no ETA (never a negative one); the rate is a number once time passed', async () => {
  const p = new Progress({ label: 'C', total: 2, quiet: true });
  await new Promise((r) => setTimeout(r, 20));
  p.tick(5);
  const line = p.line();
  assert.doesNotMatch(line, /ETA|-\d/);
  assert.match(line, /C 250% 5\/2 it \| \d+(\.\d+)? it\/s \|/);
});

test('Progress: the ETA comes from the rate after the first tick (start-up time left out), and none before a second tick', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const p = new Progress({ label: 'D', total: 100, quiet: true });
  t.mock.timers.tick(4000); // start-up: no work done
  p.tick(10);
  assert.doesNotMatch(p.line(), /ETA/);
  t.mock.timers.tick(1000);
  p.tick(10);
  // 10 items/s after the first tick: 80 left = 8 s (counting the start-up it would read 20 s)
  assert.match(p.line(), /D {2}20% 20\/100 it \| 10 it\/s \| 5s ETA 8s$/);
});

test('Progress: --log-level warn (or error) silences progress lines, as it does info lines', async () => {
  const { setLogLevel } = await import('../../src/util/log.js');
  const prev = process.env.LOGOLAB_QUIET;
  delete process.env.LOGOLAB_QUIET;
  try {
    setLogLevel('warn');
    const a = sink();
    const p = new Progress({ label: 'E', total: 1, stream: a.stream });
    p.tick();
    p.finish();
    assert.equal(a.text(), '');
    setLogLevel('info');
    const b = sink();
    new Progress({ label: 'F', total: 1, stream: b.stream }).tick();
    assert.match(b.text(), /^F 100%/);
  } finally {
    setLogLevel('info');
    if (prev !== undefined) process.env.LOGOLAB_QUIET = prev;
  }
});
