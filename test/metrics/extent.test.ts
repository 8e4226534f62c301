/** Min/max of a large sample's similarities by a loop: Math.min(...values) overflows the stack. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extent } from '../../src/metrics/extent.js';
import { histogram } from '../../src/report/svg.js';
import { formatDetails } from '../../src/eval/details.js';

// well past V8's argument limit for a spread call (about 10^5 on a default stack)
const big = Array.from({ length: 1_000_000 }, (_, i) => Math.sin(i) * 0.9);

test('extent: [min, max] of a million values; [Infinity, -Infinity] of none', () => {
  const [lo, hi] = extent(big);
  assert.ok(lo < -0.89 && hi > 0.89);
  assert.deepEqual(extent([3, -1, 2]), [-1, 3]);
  assert.deepEqual(extent([]), [Infinity, -Infinity]);
});

test('histogram and the similarity details take a million similarities', () => {
  assert.match(histogram([{ name: 'all', values: big }], { title: 't', xLabel: 'x' }), /^<svg /);
  const out = formatDetails({ threshold: 0.5, truePositive: big, falsePositive: big.map((v) => v - 0.1), missedBest: [], allPositive: [], allNegative: [], suggested: null, detections: [] });
  assert.match(out, /True Positives range: \[-0\.9\d+, 0\.9\d+\]/);
});
