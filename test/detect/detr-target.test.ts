/**
 * detrTarget strips a detector spec's `detr:` prefix, for loadDetector, detectorFolder and eval's
 * makeProposer alike; makeProposer still takes only a `detr:` spec with a folder after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detrTarget } from '../../src/detect/load.js';
import { makeProposer } from '../../src/eval/proposals.js';

test('detrTarget: detr:<dir> → <dir>, detr: → empty, any other spec unchanged', () => {
  assert.equal(detrTarget('detr:/models/detr'), '/models/detr');
  assert.equal(detrTarget('detr:detr-r50'), 'detr-r50');
  assert.equal(detrTarget('detr:'), '');
  assert.equal(detrTarget('/models/detr'), '/models/detr');
  assert.equal(detrTarget('detr-r50'), 'detr-r50');
  assert.equal(detrTarget('DETR:/x'), 'DETR:/x');
  assert.equal(detrTarget('detr:detr:/x'), 'detr:/x', 'one prefix only');
});

test("makeProposer: 'detr:' and a bare folder are refused, naming the spec", () => {
  const o = { detrThreshold: 0.5, minBoxSize: 0, nmsIou: 0.5 };
  for (const spec of ['detr:', '/models/detr', 'detr-r50']) {
    assert.throws(() => makeProposer(spec, o), (e: Error) => e.name === 'LogolabError' && e.message === `--detector: '${spec}' is not gt-boxes, whole-image or detr:<model dir>`, spec);
  }
});
