/** The embedding pass decodes each file at most once, also when the proposer needs pixels (DETR). */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { makeTinyDataDir, fakeEncoder } from './tinydata.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { sampleTest } from '../../src/eval/sample.js';
import { embedSet } from '../../src/eval/pipeline.js';
import { EmbeddingCache } from '../../src/eval/cache.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import type { DatasetImage } from '../../src/eval/dataset.js';
import type { Proposal, RegionProposer } from '../../src/eval/proposals.js';

process.env.LOGOLAB_QUIET = '1';
let DATA = '';
before(async () => {
  DATA = join(tmpDir('logolab-pipeline-'), 'data');
  await makeTinyDataDir(DATA, { perLogo: 5, negatives: 3 });
});

/** Left and right halves of the image: the same boxes with or without pixels. */
const halves = (w: number, h: number): Proposal[] => [
  { box: [0, 0, Math.ceil(w / 2), h], score: 0.9 },
  { box: [Math.floor(w / 2), 0, w, h], score: 0.8 },
];
const pixelProposer: RegionProposer = {
  name: 'halves-from-pixels',
  needsPixels: true,
  async propose(_im: DatasetImage, rgb: RgbImage | null) {
    assert.ok(rgb, 'a pixel proposer gets pixels');
    return halves(rgb.width, rgb.height);
  },
};
const sizeProposer: RegionProposer = { name: 'halves-from-size', needsPixels: false, propose: async (im) => halves(im.width, im.height) };

function countingDecoder() {
  const counts = new Map<string, number>();
  return {
    counts,
    decode: async (path: string) => {
      counts.set(path, (counts.get(path) ?? 0) + 1);
      return decodeImage(path);
    },
  };
}

test('pixel proposer: every test image and reference decoded exactly once (chunks of 2), same embeddings as without pixels', async () => {
  const s = sampleTest(datasetFromDataDir(DATA), { numLogos: 3, refsPerLogo: 2, positiveSamples: 2, negativeSamples: 2, seed: 3 });
  assert.ok(s.images.length > 4, 'several chunks');
  const d = countingDecoder();
  const set = await embedSet(fakeEncoder(), pixelProposer, s.refs, s.images, s.logos, { quiet: true, decode: d.decode, pixelChunk: 2 });
  const files = new Set([...s.refs.map((r) => r.path), ...s.images.map((im) => im.path)]);
  assert.deepEqual(new Set(d.counts.keys()), files);
  for (const [path, n] of d.counts) assert.equal(n, 1, `${path} decoded ${n}×`);
  // the chunked pixel path gives exactly what the plain path gives for the same boxes
  const plain = await embedSet(fakeEncoder(), sizeProposer, s.refs, s.images, s.logos, { quiet: true });
  assert.deepEqual(set.refs, plain.refs);
  assert.deepEqual(set.images, plain.images);
});

test('warm cache: a pixel proposer decodes each test image once (for proposing), references not at all; gt-boxes decodes nothing', async () => {
  const s = sampleTest(datasetFromDataDir(DATA), { numLogos: 2, refsPerLogo: 2, positiveSamples: 2, negativeSamples: 1, seed: 4 });
  const cache = EmbeddingCache.open(join(tmpDir('logolab-pipeline-cache-'), 'c.sqlite'));
  try {
    await embedSet(fakeEncoder(), pixelProposer, s.refs, s.images, s.logos, { quiet: true, cache });
    const d = countingDecoder();
    await embedSet(fakeEncoder(), pixelProposer, s.refs, s.images, s.logos, { quiet: true, cache, decode: d.decode });
    assert.deepEqual([...d.counts.keys()].sort(), [...new Set(s.images.map((im) => im.path))].sort());
    assert.ok([...d.counts.values()].every((n) => n === 1));
    const g = countingDecoder();
    await embedSet(fakeEncoder(), sizeProposer, s.refs, s.images, s.logos, { quiet: true, cache, decode: g.decode });
    assert.equal(g.counts.size, 0);
  } finally {
    cache.close();
  }
});
