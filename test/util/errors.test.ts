import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstLine } from '../../src/errors.js';

test('firstLine: the first line of an Error, a thrown string, or a message-less throw', () => {
  assert.equal(firstLine(new Error('bad header\n  at offset 12\n  dump…')), 'bad header');
  assert.equal(firstLine('plain string\nsecond'), 'plain string');
  assert.equal(firstLine(42), '42');
  const noMessage = new Error();
  assert.equal(firstLine(noMessage), '');
  assert.equal(firstLine({ toString: () => 'object\nthing' }), 'object');
});
