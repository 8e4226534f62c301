import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../../helpers.js';
import { PxKSampler } from '../../../training/data/sampler.js';
import { BatchLoader } from '../../../training/data/loader.js';
import { decodeImage } from '../../../src/preprocess/image.js';
import { defaultPreprocessorConfig, imageProcessorFromConfig } from '../../../src/preprocess/processors.js';

const processor = imageProcessorFromConfig(defaultPreprocessorConfig('clip', 32));

async function dataset() {
  const dir = tmpDir('logolab-loader-');
  const m = new Map<string, string[]>();
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 40, 220], gray: [128, 128, 128] };
  for (const [logo, c] of Object.entries(colours)) {
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = join(dir, `${logo}${i}.png`);
      await sharp({ create: { width: 40 + 8 * i, height: 36, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } }).png().toFile(p);
      files.push(p);
    }
    m.set(logo, files);
  }
  // one corrupt file in 'red'
  writeFileSync(m.get('red')![1]!, Buffer.from('not a png at all'));
  const labelOf = new Map([...m.keys()].map((l, i) => [l, i] as const));
  return { dir, m, labelOf };
}

test('loader: [B,3,H,W] batches, labels match, corrupt file skipped + counted + refilled from the same logo, never a dummy', async () => {
  const { m, labelOf } = await dataset();
  const sampler = new PxKSampler(m, labelOf, { logosPerBatch: 4, samplesPerLogo: 3, batchesPerEpoch: 6, seed: 1 });
  const warnings: string[] = [];
  const loader = new BatchLoader(sampler, { processor, augment: 'none', seed: 2, prefetch: 2, concurrency: 3, wrapEpochs: false, onWarn: (w) => warnings.push(w) });
  const corrupt = m.get('red')![1]!;
  const expected = new Map<string, Float32Array>();
  for (const files of m.values()) for (const f of files) if (f !== corrupt) expected.set(f, processor.process(await decodeImage(f)));
  let batches = 0;
  for await (const b of loader.epoch(0)) {
    batches++;
    assert.deepEqual(b.shape, [12, 3, 32, 32]);
    assert.equal(b.pixels.length, 12 * 3 * 32 * 32);
    assert.ok(!b.paths.includes(corrupt));
    for (let s = 0; s < 12; s++) {
      assert.equal(b.labels[s], labelOf.get(b.logos[s]!));
      assert.ok(m.get(b.logos[s]!)!.includes(b.paths[s]!), 'slot refilled from its own logo');
      assert.deepEqual(b.pixels.subarray(s * 3072, (s + 1) * 3072), expected.get(b.paths[s]!), 'validation transform = processor alone');
    }
    // the batch keeps K distinct images of red when it can (2 readable of 3 → one repeat at most)
    const reds = b.paths.filter((_, s) => b.logos[s] === 'red');
    assert.equal(reds.length, 3);
  }
  assert.equal(batches, 6);
  assert.equal(loader.stats.corruptFiles, 1);
  assert.ok(loader.stats.refilled >= 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /red1\.png/);
  assert.equal(loader.stats.images, 6 * 12);
});

test('loader: augmentation is deterministic per (seed, epoch, batch, slot) whatever the concurrency; resume mid-epoch', async () => {
  const { m, labelOf } = await dataset();
  const mk = (conc: number, prefetch: number) =>
    new BatchLoader(new PxKSampler(m, labelOf, { logosPerBatch: 3, samplesPerLogo: 2, batchesPerEpoch: 3, seed: 5 }), { processor, augment: 'medium', seed: 9, concurrency: conc, prefetch, onWarn: () => {} });
  const a: Float32Array[] = [];
  for await (const b of mk(1, 1).epoch(1)) a.push(b.pixels);
  const c: Float32Array[] = [];
  for await (const b of mk(6, 3).epoch(1)) c.push(b.pixels);
  assert.deepEqual(c, a);
  const resumed: Float32Array[] = [];
  for await (const b of mk(2, 2).epoch(1, 2)) resumed.push(b.pixels);
  assert.deepEqual(resumed, [a[2]]);
  // augmentation actually changes pixels vs the validation transform
  const plain = new BatchLoader(new PxKSampler(m, labelOf, { logosPerBatch: 3, samplesPerLogo: 2, batchesPerEpoch: 3, seed: 5 }), { processor, augment: 'none', seed: 9, onWarn: () => {} });
  assert.notDeepEqual((await plain.loadBatch(1, 0)).pixels, a[0]);
});

test('loader: a logo whose every image is unreadable is an error naming it', async () => {
  const { m, labelOf } = await dataset();
  for (const f of m.get('blue')!) writeFileSync(f, 'garbage');
  const loader = new BatchLoader(new PxKSampler(m, labelOf, { logosPerBatch: 4, samplesPerLogo: 2, batchesPerEpoch: 2, seed: 1 }), { processor, augment: 'none', seed: 1, onWarn: () => {} });
  await assert.rejects(async () => {
    for await (const _ of loader.epoch(0)) void _;
  }, /every image of logo 'blue' is unreadable/);
  assert.throws(() => new BatchLoader(new PxKSampler(m, labelOf, { logosPerBatch: 1, samplesPerLogo: 1, batchesPerEpoch: 1, seed: 1 }), { processor, augment: 'none', seed: 1, prefetch: 0 }), /prefetch: 0/);
});

test('loader: object items via pathOf; getBatch(epoch, index) with read-ahead equals loadBatch', async () => {
  const { m, labelOf } = await dataset();
  const objs = new Map([...m].map(([l, ps]) => [l, ps.map((p, i) => ({ id: `${l}#${i}`, path: p }))] as const));
  const mk = () => new BatchLoader(new PxKSampler(objs, labelOf, { logosPerBatch: 2, samplesPerLogo: 2, batchesPerEpoch: 5, seed: 4 }), { processor, augment: 'light', seed: 3, prefetch: 2, pathOf: (o) => o.path, onWarn: () => {} });
  const a = mk();
  const b = mk();
  for (const i of [0, 1, 3, 4]) {
    const x = await a.getBatch(2, i);
    const y = await b.loadBatch(2, i);
    assert.deepEqual(x.pixels, y.pixels);
    assert.deepEqual(x.paths, x.items.map((o) => o.path));
    assert.ok(x.items.every((o, s) => o.id.startsWith(x.logos[s]!)));
  }
  // read-ahead past the epoch's last batch loads the next epoch's first ones
  assert.deepEqual((await a.getBatch(3, 0)).pixels, (await b.loadBatch(3, 0)).pixels);
  assert.throws(() => a.getBatch(0, 5), /batch index 5 outside 0..4/);
  const plain = new BatchLoader(new PxKSampler(objs, labelOf, { logosPerBatch: 2, samplesPerLogo: 2, batchesPerEpoch: 1, seed: 4 }), { processor, augment: 'none', seed: 3, onWarn: () => {} });
  await assert.rejects(plain.loadBatch(0, 0), /pass pathOf/);
});

test('loader: worker threads give identical pixels (augmented), same corrupt handling', async () => {
  const { m, labelOf } = await dataset();
  const mk = (workers: number) =>
    new BatchLoader(new PxKSampler(m, labelOf, { logosPerBatch: 3, samplesPerLogo: 3, batchesPerEpoch: 3, seed: 8 }), { processor, augment: 'strong', seed: 6, workers, wrapEpochs: false, onWarn: () => {} });
  const inproc = mk(0);
  const pooled = mk(2);
  try {
    for await (const b of pooled.epoch(0)) {
      const ref = await inproc.loadBatch(0, b.index);
      assert.deepEqual(b.paths, ref.paths);
      assert.deepEqual(b.pixels, ref.pixels);
    }
    assert.equal(inproc.stats.corruptFiles, 1, 'the corrupt file is met');
    assert.equal(pooled.stats.corruptFiles, inproc.stats.corruptFiles);
    assert.equal(pooled.stats.refilled, inproc.stats.refilled);
  } finally {
    await pooled.close();
  }
});
