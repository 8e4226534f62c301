/**
 * DETR region proposals in the embedding pass: a box that covers no whole pixel (real-valued boxes,
 * --min-box-size 0 or 1) is dropped and reported, never the end of the run; a crop that fails names
 * its image.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, stderrOf, tmpDir, useBackend } from '../helpers.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { embedItems, embedSet } from '../../src/eval/pipeline.js';
import { detrProposer } from '../../src/eval/proposals.js';
import { hasPixels } from '../../src/preprocess/image.js';
import { fakeEncoder, makeTinyDataDir } from './tinydata.js';
import { tinyDetrCopy } from '../detect/tiny-detr.js';

let W = '';
let DATA = '';

/** The fixture DETR with every query certain of class 0 and a box of sigmoid(-20) ≈ 2e-9 of the image: no whole pixel. */
function subPixelDetector(dir: string): void {
  tinyDetrCopy(dir, (t) => {
    t.get('bbox_predictor.layers.2.weight')!.data.fill(0);
    t.get('bbox_predictor.layers.2.bias')!.data.set([0, 0, -20, -20]);
    t.get('class_labels_classifier.weight')!.data.fill(0);
    t.get('class_labels_classifier.bias')!.data.set([5, 0, 0]);
  });
}

before(async () => {
  await useBackend('wasm');
  W = tmpDir('logolab-detr-proposals-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 1, negatives: 1 });
});

test('hasPixels: rounded (half to even) and clipped as cropImage crops', () => {
  assert.equal(hasPixels([31.9999999, 23.9999999, 32.0000001, 24.0000001], 64, 48), false);
  // width exactly 1 at a half: [11.5, 12.5] rounds to [12, 12]
  assert.equal(hasPixels([11.5, 0, 12.5, 10], 64, 48), false);
  assert.equal(hasPixels([10.5, 0, 11.5, 10], 64, 48), true); // [10, 12]
  assert.equal(hasPixels([11.4, 0, 12.6, 10], 64, 48), true);
  assert.equal(hasPixels([64.2, 0, 70, 10], 64, 48), false); // outside the image
  assert.equal(hasPixels([0, 0, 64, 48], 64, 48), true);
  assert.equal(hasPixels([0, 0, Infinity, 10], 64, 48), false); // cropImage refuses it
});

test('a DETR box with no whole pixel is dropped with a warning; the run completes', async () => {
  const det = join(W, 'subpixel');
  subPixelDetector(det);
  const ds = datasetFromDataDir(DATA);
  const proposer = detrProposer(det, { detrThreshold: 0.1, minBoxSize: 0, nmsIou: 0.5 });
  const { value: set, err } = await stderrOf(async () => {
    try {
      return await embedSet(fakeEncoder(), proposer, ds.refs.slice(0, 2), ds.images, ds.logos, { quiet: true });
    } finally {
      proposer.dispose?.();
    }
  });
  assert.equal(set.images.length, ds.images.length);
  assert.ok(set.images.every((im) => im.regions.length === 0), 'no region without pixels');
  assert.match(err, new RegExp(`warn: \\d+ DETR box\\(es\\) in ${ds.images.length} image\\(s\\) cover no whole pixel and were dropped \\(e\\.g\\. .*\\.png box \\[`));
});

test('embedItems: a crop the image cannot give names the file', async () => {
  const ds = datasetFromDataDir(DATA);
  const path = ds.images[0]!.path;
  await assert.rejects(embedItems(fakeEncoder(), [{ path, box: [70, 50, 80, 60] }], { quiet: true }), (e: Error) => e.message.startsWith(`${path}: crop box [70, 50, 80, 60] is empty inside the 64x48 image`));
});

test('LogoLab.detect: a DETR box with no whole pixel is dropped with a warning, not a failed crop', async () => {
  const det = join(W, 'subpixel-api');
  subPixelDetector(det);
  const { LogoLab } = await import('../../src/api.js');
  const ll = await LogoLab.load({ encoder: join(FIXTURES, 'clip_tiny/model'), detector: det, detrThreshold: 0.1, minBoxSize: 0, backend: 'wasm' });
  try {
    const { value, err } = await stderrOf(() => ll.detect(join(FIXTURES, 'images/wide_300x200.png')));
    assert.deepEqual(value, []);
    assert.match(err, /wide_300x200\.png: \d+ DETR box\(es\) cover no whole pixel and were dropped/);
  } finally {
    ll.dispose();
  }
});
