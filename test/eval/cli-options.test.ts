/**
 * eval/compare option checks (in-process CLI, embeddings files from the fake encoder):
 *   - compare --report writes only into a new/empty folder or an earlier report, checked first;
 *   - --baseline-embeddings with a --candidate model embeds the candidate (from --data), never the
 *     baseline's file twice;
 *   - model options beside an embeddings file are usage errors, not silently ignored;
 *   - the summary's preprocessing mode is the embeddings file's, and so are a DETR file's settings,
 *     which a side computed beside it takes (two files of different regions are refused);
 *   - --sweep-* lists are parsed strictly, before any embedding work;
 *   - a flag the run would not read (sampling flags on a folder layout, method-specific matching
 *     flags, --sweep-* lists without --sweep, DETR flags without DETR, embed's --data flags on image
 *     files) is a usage error; compare's report records the sample actually drawn;
 *   - an adapter candidate beside --baseline-embeddings must sit on the file's model.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { exportDataEmbeddings, readExchangeFile } from '../../src/eval/exchange.js';
import { gtBoxes, makeProposer, wholeImage } from '../../src/eval/proposals.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { parseNumberList } from '../../src/eval/sweep.js';
import { expectFailure, runCli } from '../cli/run.js';
import { fakeEncoder, makeTinyDataDir, makeTinyFolders } from './tinydata.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const SMALL = ['-n', '3', '--refs-per-logo', '2', '--positive-samples', '3', '--negative-samples', '3', '--backend', 'wasm'];
let W = '';
let DATA = '';
let B = '';
let C = '';

before(async () => {
  W = tmpDir('logolab-cli-options-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 4, negatives: 2 });
  B = join(W, 'base.safetensors');
  C = join(W, 'cand.safetensors');
  await exportDataEmbeddings(DATA, fakeEncoder('fake-base', 'fp-base'), gtBoxes, B, { quiet: true });
  await exportDataEmbeddings(DATA, fakeEncoder('fake-cand', 'fp-cand', 0.3), gtBoxes, C, { quiet: true });
});

const compareFiles = (report: string, ...extra: string[]) => runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', C, ...SMALL, '--report', report, ...extra]);

test('compare --report: a foreign folder or a file is refused before any work; new, empty and earlier reports are written', async () => {
  const foreign = join(W, 'notes');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'report.md'), 'my own report\n');
  writeFileSync(join(foreign, 'todo.txt'), 'mine\n');
  // embeddings that do not exist: the --report check comes first
  const missing = ['--baseline-embeddings', join(W, 'none.safetensors'), '--candidate-embeddings', join(W, 'none.safetensors')];
  expectFailure(await runCli(['compare', ...missing, ...SMALL, '--report', foreign]), 1, /--report .*notes: folder is not empty/);
  assert.equal(readFileSync(join(foreign, 'report.md'), 'utf8'), 'my own report\n');
  assert.deepEqual(readdirSync(foreign).sort(), ['report.md', 'todo.txt']);
  const file = join(W, 'report-file');
  writeFileSync(file, 'x');
  expectFailure(await runCli(['compare', ...missing, ...SMALL, '--report', file]), 1, /--report .*report-file: exists and is not a folder/);
  // a folder holding an input
  expectFailure(await compareFiles(W), 1, /--report .*: contains the (baseline embeddings|candidate embeddings|current)/);

  const empty = join(W, 'empty');
  mkdirSync(empty);
  for (const dir of [join(W, 'new'), empty]) {
    const r = await compareFiles(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'report.html')));
    // an earlier report is replaced
    assert.equal((await compareFiles(dir)).code, 0);
  }
  // a report written before the marker existed: only the three report files, report.json of compare's shape
  const legacy = join(W, 'legacy');
  mkdirSync(legacy);
  for (const f of ['report.html', 'report.md']) writeFileSync(join(legacy, f), 'old');
  writeFileSync(join(legacy, 'report.json'), JSON.stringify({ models: [], perLogo: [], sample: {} }));
  assert.equal((await compareFiles(legacy)).code, 0);
  assert.notEqual(readFileSync(join(legacy, 'report.md'), 'utf8'), 'old');
  // --overwrite writes into the foreign folder, keeping its other files
  assert.equal((await compareFiles(foreign, '--overwrite')).code, 0);
  assert.equal(readFileSync(join(foreign, 'todo.txt'), 'utf8'), 'mine\n');
  // the working directory itself: compare writes files into the folder, it does not replace it
  const here = join(W, 'here');
  mkdirSync(here);
  const cwd = process.cwd();
  process.chdir(here);
  try {
    for (let i = 0; i < 2; i++) {
      const r = await compareFiles('.');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(existsSync(join(here, 'report.html')));
  } finally {
    process.chdir(cwd);
  }
});

test('compare --baseline-embeddings F --candidate <model>: the candidate is embedded from --data, never the baseline twice', async () => {
  const r1 = await runCli(['compare', '--baseline-embeddings', B, '--candidate', CLIP, ...SMALL, '--report', join(W, 'r-none')]);
  expectFailure(r1, 2, /--candidate: .*needs --data/);
  assert.ok(!existsSync(join(W, 'r-none')));
  const rep = join(W, 'r-mixed');
  const r2 = await runCli(['compare', '--baseline-embeddings', B, '--candidate', CLIP, '--data', DATA, '--no-cache', ...SMALL, '--report', rep]);
  assert.equal(r2.code, 0, r2.stderr);
  const j = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8')) as { models: { name: string }[] };
  assert.deepEqual(j.models.map((m) => m.name), ['fake-base', CLIP]);
  assert.doesNotMatch(r2.stderr, /same model/);
  // the computed side takes the file's region proposals; another one is refused, not mixed in
  const mixed = ['compare', '--baseline-embeddings', B, '--candidate', CLIP, '--data', DATA, '--no-cache', ...SMALL];
  expectFailure(await runCli([...mixed, '--detector', 'whole-image', '--report', join(W, 'r-det')]), 2, /--detector whole-image: the --baseline-embeddings file was made with gt-boxes; both sides must use the same region proposals/);
  expectFailure(await runCli([...mixed, '--preprocess-mode', 'letterbox', '--report', join(W, 'r-pm')]), 2, /--preprocess-mode letterbox: the --baseline-embeddings file was made with/);
  // compare has no single --embeddings; an adapter candidate needs its base as --baseline
  expectFailure(await runCli(['compare', '--embeddings', B, '--baseline', CLIP, '--candidate', CLIP, '--data', DATA, ...SMALL, '--report', join(W, 'r-emb')]), 2, /--embeddings: compare takes one file per model/);
  expectFailure(await runCli(['compare', '--baseline-embeddings', B, '--candidate', join(FIXTURES, 'lora/adapter'), '--data', DATA, ...SMALL, '--report', join(W, 'r-ad')]), 2, /--candidate .*adapter: is a LoRA adapter; give its base model as --baseline/);
});

test('model options beside an embeddings file are usage errors naming the option', async () => {
  const ev = (...extra: string[]) => runCli(['eval', '--embeddings', B, ...SMALL, ...extra]);
  expectFailure(await ev('--model', CLIP), 2, /--model: not used with --embeddings/);
  expectFailure(await ev('--adapter', '/nonexistent'), 2, /--adapter: not used with --embeddings/);
  expectFailure(await ev('--detector', 'whole-image'), 2, /--detector: not used with --embeddings/);
  expectFailure(await ev('--preprocess-mode', 'letterbox'), 2, /--preprocess-mode: not used with --embeddings/);
  const rep = join(W, 'r-conflict');
  expectFailure(await compareFiles(rep, '--baseline', CLIP), 2, /--baseline: not used with --baseline-embeddings/);
  expectFailure(await compareFiles(rep, '--candidate', CLIP), 2, /--candidate: not used with --candidate-embeddings/);
  expectFailure(await compareFiles(rep, '--detector', 'whole-image'), 2, /--detector: not used with --baseline-embeddings and --candidate-embeddings/);
  expectFailure(await compareFiles(rep, '--data', DATA), 2, /--data: not used with/);
  // the options of a computed pass: regions, batches, cache
  expectFailure(await ev('--detr-threshold', '0.7'), 2, /--detr-threshold: not used with --embeddings/);
  expectFailure(await ev('--nms-iou', '0.3'), 2, /--nms-iou: not used with --embeddings/);
  expectFailure(await ev('--batch-size', '4'), 2, /--batch-size: not used with --embeddings/);
  expectFailure(await ev('--no-cache'), 2, /--no-cache: not used with --embeddings/);
  expectFailure(await ev('--clear-cache'), 2, /--clear-cache: not used with --embeddings/);
  expectFailure(await compareFiles(rep, '--min-box-size', '5'), 2, /--min-box-size: not used with --baseline-embeddings and --candidate-embeddings/);
  expectFailure(await compareFiles(rep, '--cache', join(W, 'c.sqlite')), 2, /--cache: not used with/);
  assert.ok(!existsSync(rep));
});

test('eval --embeddings: the summary names the file\'s preprocessing mode, not the CLI default', async () => {
  const r = await runCli(['eval', '--embeddings', B, ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  // the fake encoder's preprocessing id is grid3:test
  assert.match(r.stdout, /Preprocess mode: test\n/);
});

test('a DETR embeddings file carries its settings: eval reports them, a computed side takes them, other regions are refused', async () => {
  // the tiny fixture detector at 96 px (the DETR default, 800, takes ~4 s an image here): a copy
  const DETR = join(W, 'detr-model');
  cpSync(join(FIXTURES, 'detr_tiny/model'), DETR, { recursive: true });
  writeFileSync(join(DETR, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'DetrImageProcessor', size: { shortest_edge: 96, longest_edge: 160 } }));
  const D = join(W, 'detr.safetensors');
  const proposer = makeProposer(`detr:${DETR}`, { detrThreshold: 0.05, minBoxSize: 2, nmsIou: 0.9 });
  try {
    await exportDataEmbeddings(DATA, fakeEncoder('fake-detr', 'fp-detr'), proposer, D, { quiet: true });
  } finally {
    proposer.dispose?.();
  }
  const r = await runCli(['eval', '--embeddings', D, ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /DETR confidence threshold: 0\.05\n/);
  const mixed = (rep: string, ...extra: string[]) => runCli(['compare', '--baseline-embeddings', D, '--candidate', CLIP, '--data', DATA, '--no-cache', ...SMALL, '--report', join(W, rep), ...extra]);
  expectFailure(await mixed('r-detr-t', '--detr-threshold', '0.5'), 2, /--detr-threshold 0\.5: the --baseline-embeddings file was made with 0\.05; both sides must keep the same regions/);
  assert.ok(!existsSync(join(W, 'r-detr-t')));
  // the candidate is computed with the file's settings (a value equal to the file's may be given)
  const ok = await mixed('r-detr', '--nms-iou', '0.9');
  assert.equal(ok.code, 0, ok.stderr);
  const j = JSON.parse(readFileSync(join(W, 'r-detr', 'report.json'), 'utf8')) as { detector: string };
  assert.equal(j.detector, `detr:${DETR} (threshold 0.05, min box 2 px, NMS IoU 0.9)`);
  // one DETR at two paths (embedded on two machines), same weights (its fingerprint) and settings: compared
  const moved = readExchangeFile(D);
  moved.meta.detector = 'detr:/mnt/other/detr-model';
  moved.meta.fingerprint = 'fp-moved';
  const M = join(W, 'detr-moved.safetensors');
  writeSafetensors(M, { embeddings: { shape: [moved.data.length / moved.meta.dim, moved.meta.dim], data: moved.data } }, { logolab_embeddings: JSON.stringify(moved.meta) });
  const two = await runCli(['compare', '--baseline-embeddings', D, '--candidate-embeddings', M, ...SMALL, '--report', join(W, 'r-detr-moved')]);
  assert.equal(two.code, 0, two.stderr);
  assert.doesNotMatch(two.stderr, /compared as one detector/);
  // another DETR's weights at the same settings are refused, by fingerprint
  const other = { ...moved.meta, detectorFingerprint: 'f'.repeat(64) };
  writeSafetensors(M, { embeddings: { shape: [moved.data.length / moved.meta.dim, moved.meta.dim], data: moved.data } }, { logolab_embeddings: JSON.stringify(other) });
  expectFailure(await runCli(['compare', '--baseline-embeddings', D, '--candidate-embeddings', M, ...SMALL, '--report', join(W, 'r-detr-weights')]), 1, /fingerprint f{12}…\) are different detectors .*both models must score the same regions/);
  // files of an older logolab (no detector fingerprint): compared by settings alone, with a warning
  const unprinted = (m: typeof moved.meta) => { const c = { ...m }; delete c.detectorFingerprint; return c; };
  const U = join(W, 'detr-unprinted.safetensors');
  writeSafetensors(U, { embeddings: { shape: [moved.data.length / moved.meta.dim, moved.meta.dim], data: moved.data } }, { logolab_embeddings: JSON.stringify(unprinted(moved.meta)) });
  const legacy = await runCli(['compare', '--baseline-embeddings', D, '--candidate-embeddings', U, ...SMALL, '--report', join(W, 'r-detr-unprinted')]);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.match(legacy.stderr, /compared as one detector \(same settings\)/);
  // other settings are refused
  moved.meta.detectorSettings = { threshold: 0.3, minBoxSize: 2, nmsIou: 0.9 };
  writeSafetensors(M, { embeddings: { shape: [moved.data.length / moved.meta.dim, moved.meta.dim], data: moved.data } }, { logolab_embeddings: JSON.stringify(moved.meta) });
  expectFailure(await runCli(['compare', '--baseline-embeddings', D, '--candidate-embeddings', M, ...SMALL, '--report', join(W, 'r-detr-other')]), 1, /both models must score the same regions/);
  // a file of an older logolab records no settings: eval says so, compare warns which it used
  const { meta, data } = readExchangeFile(D);
  delete meta.detectorSettings;
  const old = join(W, 'detr-old.safetensors');
  writeSafetensors(old, { embeddings: { shape: [data.length / meta.dim, meta.dim], data } }, { logolab_embeddings: JSON.stringify(meta) });
  const ro = await runCli(['eval', '--embeddings', old, ...SMALL]);
  assert.equal(ro.code, 0, ro.stderr);
  assert.match(ro.stdout, /DETR confidence threshold: not recorded/);
  const co = await runCli(['compare', '--baseline-embeddings', old, '--candidate', CLIP, '--data', DATA, '--no-cache', ...SMALL, '--report', join(W, 'r-detr-old'), '--detr-threshold', '0.05']);
  assert.equal(co.code, 0, co.stderr);
  assert.match(co.stderr, /does not record its DETR settings .*the other side uses threshold 0\.05, min box 20 px, NMS IoU 0\.5/);
  // two files of different regions
  const W2 = join(W, 'whole.safetensors');
  await exportDataEmbeddings(DATA, fakeEncoder('fake-whole', 'fp-whole'), wholeImage, W2, { quiet: true });
  expectFailure(await runCli(['compare', '--baseline-embeddings', B, '--candidate-embeddings', W2, ...SMALL, '--report', join(W, 'r-two')]), 1, /the baseline's regions come from gt-boxes, the candidate's from whole-image: both models must score the same regions/);
  assert.ok(!existsSync(join(W, 'r-two')));
});

test('--sweep-* lists: strict items and the single flags\' ranges, refused before the model loads', async () => {
  assert.deepEqual(parseNumberList('0.5, 0.7', 't'), [0.5, 0.7]);
  assert.deepEqual(parseNumberList('1:3:1', 'm', { int: true, min: 1 }), [1, 2, 3]);
  assert.throws(() => parseNumberList('0.5,,0.7', '--sweep-thresholds'), /--sweep-thresholds: '' in '0\.5,,0\.7' is not a number/);
  assert.throws(() => parseNumberList('0x2', '--sweep-min-refs', { int: true, min: 1 }), /'0x2'.*not a number/);
  assert.throws(() => parseNumberList('1:2:0.5', '--sweep-min-refs', { int: true, min: 1 }), /'1\.5'.*not an integer/);
  assert.throws(() => parseNumberList('5,-3', '--sweep-thresholds', { min: -1, max: 1 }), /'5'.*out of range/);
  assert.throws(() => parseNumberList('1:2:3:4', 't'), /bad range/);
  const ev = (...extra: string[]) => runCli(['eval', '--data', DATA, '--model', join(W, 'no-model'), '--no-cache', ...SMALL, ...extra]);
  expectFailure(await ev('--sweep', '--sweep-thresholds', '0.5,,0.7'), 2, /--sweep-thresholds: '' in '0\.5,,0\.7' is not a number/);
  expectFailure(await ev('--sweep', '--sweep-thresholds', '5,-3'), 2, /--sweep-thresholds: '5' .*out of range: a cosine similarity threshold lies in \[-1, 1\]/);
  expectFailure(await ev('--sweep', '--sweep-methods', 'multi-ref', '--sweep-min-refs', '0x2'), 2, /--sweep-min-refs: '0x2'/);
  expectFailure(await ev('--sweep', '--sweep-margins', '3'), 2, /--sweep-margins: '3' .*out of range/);
  expectFailure(await ev('--calibrate', 'precision=2'), 1, /--calibrate: 'precision=2'/);
  const rep = join(W, 'r-sweep');
  expectFailure(await runCli(['compare', '--baseline-embeddings', join(W, 'none.safetensors'), '--candidate-embeddings', C, ...SMALL, '--report', rep, '--sweep-thresholds', '0.5,,0.7']), 2, /--sweep-thresholds/);
});

test('flags the run would not read are usage errors, before any model work', async () => {
  const ev = (...extra: string[]) => runCli(['eval', '--embeddings', B, ...extra]);
  expectFailure(await ev('--matching-method', 'simple', '--margin', '0.1'), 2, /--margin: not used by matching method simple \(only by margin, multi-ref, averaged\)/);
  expectFailure(await ev('--aggregation', 'max'), 2, /--aggregation: not used by matching method margin \(only by multi-ref\)/);
  expectFailure(await ev('--min-matching-refs', '2'), 2, /--min-matching-refs: not used by matching method margin/);
  // a sweep over multi-ref reads them
  const sw = await ev('--aggregation', 'max', '--sweep', '--sweep-methods', 'margin,multi-ref', '--sweep-thresholds', '0.5,0.7');
  assert.equal(sw.code, 0, sw.stderr);
  expectFailure(await ev('--sweep-margins', '0.1'), 2, /--sweep-margins: read with --sweep/);
  // a sweep list of a setting no swept method uses
  expectFailure(await ev('--sweep', '--sweep-aggregations', 'mean,max', '--sweep-thresholds', '0.5,0.7'), 2, /--sweep-aggregations: not used by matching method margin \(only by multi-ref\)/);
  expectFailure(await ev('--sweep', '--sweep-methods', 'simple', '--sweep-margins', '0,0.1', '--sweep-thresholds', '0.5'), 2, /--sweep-margins: not used by matching method simple \(only by margin, multi-ref, averaged\)/);
  // every retrieval query lone (one crop per logo): n/a, not 0.0 % as if measured
  const lone = await ev('-n', '3', '--refs-per-logo', '1');
  assert.equal(lone.code, 0, lone.stderr);
  assert.match(lone.stdout, /precision@1, recall@5, R-precision, MAP@R: n\/a \(all 3 queries lone/);
  expectFailure(await ev('--sweep-thresholds', '0.5,0.6'), 2, /--sweep-thresholds: read with --sweep \(and --sweep-thresholds with --calibrate\)/);
  expectFailure(await ev('--calibrate', 'f1', '--sweep-methods', 'simple'), 2, /--sweep-methods: without --sweep only --sweep-thresholds is read/);
  const cal = await ev('--calibrate', 'f1', '--sweep-thresholds', '0.5:0.9:0.1');
  assert.equal(cal.code, 0, cal.stderr);
  expectFailure(await compareFiles(join(W, 'r-sweep-m'), '--sweep-methods', 'simple'), 2, /--sweep-methods: compare sweeps thresholds only/);
  assert.ok(!existsSync(join(W, 'r-sweep-m')));
  // DETR flags without a DETR detector: refused before the (missing) model is loaded
  expectFailure(await runCli(['eval', '--data', DATA, '--model', join(W, 'no-model'), '--no-cache', ...SMALL, '--detr-threshold', '0.7']), 2, /--detr-threshold: only used by a DETR detector \(--detector detr:<dir>\), not gt-boxes/);
  expectFailure(await runCli(['embed', '--model', join(W, 'no-model'), '--data', DATA, '--no-cache', '--nms-iou', '0.3', '--out', join(W, 'x.safetensors')]), 2, /--nms-iou: only used by a DETR detector/);
  // embed's --data options on image files or --pixels
  const img = join(FIXTURES, 'images', 'square_224.png');
  for (const [flag, ...v] of [['--detector', 'whole-image'], ['--detr-threshold', '0.5'], ['--folders'], ['--cache', join(W, 'c.sqlite')], ['--no-cache']] as [string, ...string[]][]) {
    expectFailure(await runCli(['embed', '--model', CLIP, img, flag, ...v, '--out', join(W, 'e.jsonl')]), 2, new RegExp(`${flag}: applies to --data exports`));
  }
  expectFailure(await runCli(['embed', '--model', CLIP, '--pixels', join(W, 'p.safetensors'), '--preprocess-mode', 'letterbox', '--out', join(W, 'p.jsonl')]), 2, /--preprocess-mode: --pixels reads preprocessed pixel_values/);
  assert.ok(!existsSync(join(W, 'e.jsonl')));
});

test('a folder layout is evaluated whole: sampling flags are refused, the summary and report record the seed used', async () => {
  const root = join(W, 'folders');
  await makeTinyFolders(root);
  const F1 = join(W, 'fold-base.safetensors');
  const F2 = join(W, 'fold-cand.safetensors');
  await exportDataEmbeddings(root, fakeEncoder('fb', 'fp-fb'), wholeImage, F1, { quiet: true, folders: true });
  await exportDataEmbeddings(root, fakeEncoder('fc', 'fp-fc', 0.3), wholeImage, F2, { quiet: true, folders: true });
  expectFailure(await runCli(['eval', '--embeddings', F1, '-n', '3']), 2, /--num-logos: an embeddings file of a folder layout is evaluated whole/);
  expectFailure(await runCli(['eval', '--embeddings', F1, '--refs-per-logo', '1']), 2, /--refs-per-logo: .*evaluated whole/);
  // --seed drives --calibrate's split (eval) and the bootstrap (compare)
  expectFailure(await runCli(['eval', '--embeddings', F1, '--seed', '3']), 2, /--seed: .*evaluated whole/);
  const cal = await runCli(['eval', '--embeddings', F1, '--seed', '3', '--calibrate', 'f1']);
  assert.equal(cal.code, 0, cal.stderr);
  assert.match(cal.stderr, /sample: 2 logos, 6 reference crops, 5 test images \(all: a folder layout is evaluated whole\)/);
  // the summary names the seed the run used: --calibrate's split's here, none when nothing was drawn
  assert.match(cal.stdout, /Random seed: 3\n/);
  const whole = await runCli(['eval', '--embeddings', F1, '--json', join(W, 'fold-eval.json')]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.match(whole.stdout, /Random seed: none \(every image evaluated; nothing drawn\)\n/);
  assert.equal((JSON.parse(readFileSync(join(W, 'fold-eval.json'), 'utf8')) as { info: { seed: unknown } }).info.seed, null);
  const rep = join(W, 'r-fold');
  const r = await runCli(['compare', '--baseline-embeddings', F1, '--candidate-embeddings', F2, '--seed', '3', '--report', rep]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(join(rep, 'report.json'), 'utf8')) as { sample: Record<string, unknown> };
  assert.deepEqual({ ...j.sample, logos: undefined }, { logos: undefined, refs: 6, images: 5, seed: 3, refsPerLogo: 3, positiveSamples: 0, negativeSamples: 0, sampled: false });
  assert.match(readFileSync(join(rep, 'report.md'), 'utf8'), /6 reference crops, 5 test images \(all: a folder layout evaluated whole, up to 3 refs\/logo; seed 3 for the bootstrap\)/);
});

test('compare: an adapter candidate beside --baseline-embeddings must be applied to the model the file was made with', async () => {
  const adapter = join(FIXTURES, 'lora/adapter');
  const base = ['compare', '--baseline', CLIP, '--candidate', adapter, '--data', DATA, '--no-cache', ...SMALL];
  // B was made by another encoder (the fake one)
  expectFailure(await runCli([...base, '--baseline-embeddings', B, '--report', join(W, 'r-ad-other')]), 1, /--baseline .*clip_tiny\/model: is not the model the --baseline-embeddings file was made with \(fake-base, fingerprint fp-base…/);
  assert.ok(!existsSync(join(W, 'r-ad-other')));
  const own = join(W, 'clip.safetensors');
  const e = await runCli(['embed', '--model', CLIP, '--data', DATA, '--no-cache', '--out', own]);
  assert.equal(e.code, 0, e.stderr);
  const ok = await runCli([...base, '--baseline-embeddings', own, '--report', join(W, 'r-ad-own')]);
  assert.equal(ok.code, 0, ok.stderr);
  // the base is read once (for the candidate, whose fingerprint without the adapter is checked), not twice
  assert.equal(ok.stderr.match(/model\.safetensors: ignored 38 tensors/g)?.length, 1, ok.stderr);
});
