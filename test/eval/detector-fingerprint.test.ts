/**
 * A DETR detector is identified by a fingerprint of its config, image processor config and
 * weights, recorded in exchange and shard files beside its path: shards of other weights at one
 * path are refused by merge, one detector at two paths merges, and files of older versions (no
 * fingerprint) are read as before, with a warning where the weights cannot be checked.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stderrOf, tmpDir, useBackend } from '../helpers.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { loadDetector } from '../../src/detect/detector.js';
import { exportDataEmbeddings, readExchange, readExchangeFile, setFromExchange } from '../../src/eval/exchange.js';
import { mergeShards } from '../../src/eval/merge.js';
import { detectorMismatch, makeProposer } from '../../src/eval/proposals.js';
import { sampleAll } from '../../src/eval/sample.js';
import { fakeEncoder, makeTinyDataDir } from './tinydata.js';
import { tinyDetrCopy } from '../detect/tiny-detr.js';

let W = '';
let DATA = '';

/** A copy of the fixture DETR at a small input size; `bias` changes one weight (other weights, same shapes). */
function detrCopy(dir: string, bias?: number): string {
  return tinyDetrCopy(dir, bias === undefined ? undefined : (t) => (t.get('class_labels_classifier.bias')!.data[0] = bias));
}

async function exportWith(detr: string, out: string, shard?: { index: number; count: number }): Promise<void> {
  const proposer = makeProposer(`detr:${detr}`, { detrThreshold: 0.05, minBoxSize: 2, nmsIou: 0.9 });
  try {
    await exportDataEmbeddings(DATA, fakeEncoder(), proposer, out, { quiet: true, ...(shard ? { shard } : {}) });
  } finally {
    proposer.dispose?.();
  }
}

/** Rewrites a file's metadata (an older logolab's file, a hand edit). */
function editMeta(file: string, out: string, edit: (m: Record<string, unknown>) => void): string {
  const { meta, data } = readExchangeFile(file);
  edit(meta as unknown as Record<string, unknown>);
  writeSafetensors(out, { embeddings: { shape: [meta.dim ? data.length / meta.dim : 0, meta.dim], data } }, { logolab_embeddings: JSON.stringify(meta) });
  return out;
}

before(async () => {
  await useBackend('wasm');
  W = tmpDir('logolab-detector-fp-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 1, negatives: 1 });
});

test('the detector fingerprint: one for one model at two paths, another for other weights or another input size', () => {
  const fp = (dir: string) => {
    const d = loadDetector(dir, { quiet: true });
    try {
      return d.fingerprint;
    } finally {
      d.dispose();
    }
  };
  const a = fp(detrCopy(join(W, 'fp-a')));
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(fp(detrCopy(join(W, 'fp-b'))), a);
  assert.notEqual(fp(detrCopy(join(W, 'fp-w'), 3)), a);
  const size = detrCopy(join(W, 'fp-s'));
  writeFileSync(join(size, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 80, longest_edge: 96 } }));
  assert.notEqual(fp(size), a);
});

test('detectorMismatch: by fingerprint where both have one, else by name', () => {
  assert.equal(detectorMismatch({ detector: 'detr:/a', detectorFingerprint: 'f1' }, { detector: 'detr:/b', detectorFingerprint: 'f1' }), null);
  assert.match(detectorMismatch({ detector: 'detr:/a', detectorFingerprint: 'f1' }, { detector: 'detr:/a', detectorFingerprint: 'f2' })!, /are different detectors/);
  assert.equal(detectorMismatch({ detector: 'detr:/a', detectorFingerprint: 'f1' }, { detector: 'detr:/a' }), null);
  assert.match(detectorMismatch({ detector: 'gt-boxes' }, { detector: 'whole-image' })!, /gt-boxes and whole-image differ/);
});

test('merge: shards of other DETR weights at one path are refused; one DETR at two paths merges; an older shard is read with a warning', async () => {
  const P = detrCopy(join(W, 'md'));
  const s0 = join(W, 's0.safetensors');
  await exportWith(P, s0, { index: 0, count: 2 });
  // other weights at the same path
  detrCopy(P, 4);
  const s1 = join(W, 's1.safetensors');
  await exportWith(P, s1, { index: 1, count: 2 });
  const f0 = readExchangeFile(s0).meta.detectorFingerprint!;
  assert.match(f0, /^[0-9a-f]{64}$/);
  assert.notEqual(readExchangeFile(s1).meta.detectorFingerprint, f0);
  assert.throws(() => mergeShards([s0, s1], join(W, 'bad.safetensors')), (e: Error) => /s1\.safetensors: shard 1\/2 and s0\.safetensors were embedded with other detectors: detector detr:.*md \(fingerprint [0-9a-f]{12}…\) and detr:.*md \(fingerprint [0-9a-f]{12}…\) are different detectors/.test(e.message));

  // the first weights again, at another path (another machine): one detector
  const Q = detrCopy(join(W, 'elsewhere'));
  const s1q = join(W, 's1q.safetensors');
  await exportWith(Q, s1q, { index: 1, count: 2 });
  const out = join(W, 'merged.safetensors');
  const { err } = await stderrOf(() => mergeShards([s0, s1q], out));
  assert.match(err, /detector named 'detr:.*elsewhere', s0\.safetensors 'detr:.*md' \(same fingerprint\)/);
  const merged = readExchange(out);
  assert.equal(merged.meta.detectorFingerprint, f0);
  // what compare reads: the set's meta carries it
  assert.equal(setFromExchange(merged, sampleAll(merged.dataset)).meta.detectorFingerprint, f0);

  // a shard of an older logolab (no fingerprint): merged by path as before, and said so
  const old = editMeta(s1q, join(W, 's1-old.safetensors'), (m) => {
    delete m.detectorFingerprint;
    m.detector = readExchangeFile(s0).meta.detector;
  });
  const r = await stderrOf(() => mergeShards([s0, old], join(W, 'merged-old.safetensors')));
  assert.match(r.err, /s1-old\.safetensors: no detector fingerprint recorded \(an older logolab\); the shards' DETR weights cannot be checked/);
  assert.equal(readExchangeFile(join(W, 'merged-old.safetensors')).meta.detectorFingerprint, undefined);
});

test('a detectorFingerprint that is not a string is refused naming the file and the key', async () => {
  const f = join(W, 'whole.safetensors');
  await exportWith(detrCopy(join(W, 'v')), f);
  const bad = editMeta(f, join(W, 'bad-fp.safetensors'), (m) => {
    m.detectorFingerprint = 5;
  });
  assert.throws(() => readExchangeFile(bad), /bad-fp\.safetensors: metadata 'detectorFingerprint' is 5, not a detector fingerprint/);
});
