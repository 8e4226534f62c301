/**
 * The DETR detector's settings and names as the user gives them: the flags' ranges are the ones the
 * detector accepts (refused by the parser, naming the flag); `detr-r50` is the user's folder of
 * that name when there is one, and the random-weights preset is never loaded silently.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES, ROOT, stderrOf, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { tinyDetrCopy } from './tiny-detr.js';
import { iou } from '../../src/detect/postprocess.js';
import { loadDetector } from '../../src/detect/detector.js';
import { detrConfigFromJson } from '../../src/detect/config.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import type { Box } from '../../src/util/box.js';

const IMG = join(FIXTURES, 'images/small_40x23.png');
const WIDE = join(FIXTURES, 'images/wide_300x200.png');
let W = '';
let DET = '';

before(() => {
  W = tmpDir('logolab-detr-options-');
  DET = tinyDetrCopy(join(W, 'detr'));
});

test('threshold 1 (keeps nothing) is a usage error naming the flag, before any model loads; --help shows [0, 1)', async () => {
  const missing = join(W, 'no-model');
  expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, '--detector', missing, '--threshold', '1']), 2, /--threshold: '1' is out of range: must be \[0, 1\)/);
  expectFailure(await runCli(['eval', '--backend', 'wasm', '--data', W, '--model', missing, '--detector', `detr:${missing}`, '--detr-threshold', '1']), 2, /-d\/--detr-threshold: '1' is out of range: must be \[0, 1\)/);
  expectFailure(await runCli(['embed', '--backend', 'wasm', '--data', W, '--model', missing, '--detector', `detr:${missing}`, '--detr-threshold', '1', '--out', join(W, 'e.safetensors')]), 2, /--detr-threshold: '1' is out of range: must be \[0, 1\)/);
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'detect', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /--threshold .*\(\[0, 1\)\)/);
});

test('--nms-iou 0 (the flags\' range) is accepted: any overlap is suppressed, disjoint boxes stay', async () => {
  const out = join(W, 'nms0.json');
  const r = await runCli(['detect', '--backend', 'wasm', IMG, WIDE, '--detector', DET, '--threshold', '0', '--min-box-size', '0', '--nms-iou', '0', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { nms_iou_threshold: number; images: { detections: { box: Box }[] }[] };
  assert.equal(j.nms_iou_threshold, 0);
  for (const im of j.images) {
    assert.ok(im.detections.length >= 1);
    for (let a = 0; a < im.detections.length; a++) for (let b = a + 1; b < im.detections.length; b++) assert.equal(iou(im.detections[a]!.box, im.detections[b]!.box), 0);
  }
});

test('--detector detr-r50 with a folder of that name here: the folder is used, not the random-weights preset', async () => {
  const cwd = join(W, 'cwd');
  cpSync(DET, join(cwd, 'detr-r50'), { recursive: true });
  const home = process.cwd();
  process.chdir(cwd);
  try {
    const run = async (spec: string) => {
      const r = await runCli(['detect', '--backend', 'wasm', IMG, '--detector', spec, '--threshold', '0']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { detector: string; images: unknown[] };
    };
    const named = await run('detr-r50');
    assert.equal(named.detector, 'detr:detr-r50');
    assert.deepEqual(named.images, (await run(join(cwd, 'detr-r50'))).images);
    // the library API loads the same way (quiet: no note)
    const api = await stderrOf(() => loadDetector('detr-r50', { quiet: true }));
    assert.equal(api.value.name, 'detr:detr-r50');
    api.value.dispose();
    assert.equal(api.err, '');
  } finally {
    process.chdir(home);
  }
});

test('the random-weights preset is never loaded silently, not even quietly (the library API)', async () => {
  const home = process.cwd();
  process.chdir(W);
  try {
    const { value, err } = await stderrOf(() => loadDetector('detr-r50', { quiet: true }));
    value.dispose();
    assert.equal(value.name, 'detr-r50 (random weights)');
    assert.match(err, /warn: detector detr-r50: random weights of facebook\/detr-resnet-50's shapes \(seed 0\), for benchmarks and tests: its boxes mean nothing/);
  } finally {
    process.chdir(home);
  }
});

test('a config.json without id2label has num_labels labels (default 2) named LABEL_i, as HF reads it', async () => {
  const cfg = JSON.parse(readFileSync(join(DET, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete cfg.id2label;
  delete cfg.label2id;
  const c2 = detrConfigFromJson(cfg, 'config.json');
  assert.equal(c2.numLabels, 2);
  assert.deepEqual(c2.id2label, { 0: 'LABEL_0', 1: 'LABEL_1' });
  assert.equal(detrConfigFromJson({ ...cfg, num_labels: 3 }, 'config.json').numLabels, 3);
  assert.throws(() => detrConfigFromJson({ ...cfg, num_labels: 0 }, 'x/config.json'), /x\/config\.json: field 'num_labels' must be a positive integer \(got 0\)/);
  // the 2-class fixture saved without label names loads and runs
  const noid = join(W, 'noid');
  cpSync(DET, noid, { recursive: true });
  writeFileSync(join(noid, 'config.json'), JSON.stringify(cfg));
  const r = await runCli(['detect', '--backend', 'wasm', IMG, '--detector', noid, '--threshold', '0', '--min-box-size', '0']);
  assert.equal(r.code, 0, r.stderr);
  const names = (JSON.parse(r.stdout) as { images: { detections: { label_name: string }[] }[] }).images[0]!.detections.map((d) => d.label_name);
  assert.ok(names.length > 0 && names.every((n) => /^LABEL_[01]$/.test(n)), names.join(', '));
});

test('a detector whose outputs overflow to NaN names the image file, not "image 1 of 1"', async () => {
  const inf = join(W, 'inf');
  cpSync(DET, inf, { recursive: true });
  const t = new Map<string, { shape: number[]; data: Float32Array; dtype: 'F32' }>();
  for (const [k, v] of readSafetensors(join(inf, 'model.safetensors'))) t.set(k, { shape: v.shape, data: Float32Array.from(v.data as Float32Array), dtype: 'F32' });
  t.get('class_labels_classifier.weight')!.data.fill(3e38);
  writeSafetensors(join(inf, 'model.safetensors'), t);
  const line = expectFailure(await runCli(['detect', '--backend', 'wasm', IMG, WIDE, '--detector', inf]), 1, /detr:.*inf: the detector's logits hold (NaN|Infinity|-Infinity) for .*small_40x23\.png; its weights are broken/);
  assert.doesNotMatch(line, / of 1\b/);
  // without names (the library's own callers): the index among the images given
  const d = loadDetector(inf, { quiet: true });
  try {
    const img = { width: 8, height: 6, data: new Uint8Array(8 * 6 * 3) };
    await assert.rejects(d.detect([img, img]), /for image 1 of 2; its weights are broken/);
  } finally {
    d.dispose();
  }
});
