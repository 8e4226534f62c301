import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../../src/util/rng.js';

test('rng: same seed → same stream; state restores the stream', () => {
  const a = makeRng(7);
  const b = makeRng(7);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  const st = a.state();
  const next = [a.next(), a.int(100), a.normal()];
  const c = makeRng(0, st);
  assert.deepEqual([c.next(), c.int(100), c.normal()], next);
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => makeRng(8).next()));
});
