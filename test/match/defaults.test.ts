/** One source for matching defaults: the CLI's eval/compare options and the API both read DEFAULT_MATCH. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { DEFAULT_MATCH } from '../../src/match/matchers.js';
import { matchOptions, withEvalOptions } from '../../cli/commands/_eval-shared.js';

test('DEFAULT_MATCH: aggregation mean (the Python original), frozen', () => {
  assert.equal(DEFAULT_MATCH.aggregation, 'mean');
  assert.ok(Object.isFrozen(DEFAULT_MATCH));
});

test('CLI eval options without matching flags = DEFAULT_MATCH', () => {
  const argv = withEvalOptions(yargs([])).exitProcess(false).parseSync();
  assert.deepEqual(matchOptions(argv as Record<string, unknown>), { ...DEFAULT_MATCH });
});
