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
