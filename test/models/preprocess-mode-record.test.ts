// A trained model's preprocess_mode survives export: export_metadata.json (and logolab.json of a
// conversion) records it, and loadVisionModel applies it when its caller names no mode; an explicit
// mode that contradicts the record is used but warned about; a folder without a record stays 'default'.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES, ROOT, tmpDir, useBackend } from '../helpers.js';
import { buildTrainableModel } from '../../training/model.js';
import { Trainer } from '../../training/trainer.js';
import { exportCheckpoint } from '../../training/export.js';
import { convertModel } from '../../src/models/format.js';
import { buildVisionModel, loadVisionModel, modelFromTensors, type LoadOptions, type VisionModel } from '../../src/models/vision/index.js';
import { readRecordedPreprocessMode } from '../../src/models/vision/meta.js';
import { embedImages } from '../../src/embed/embedder.js';
import type { RgbImage } from '../../src/preprocess/image.js';
import { makeRng } from '../../src/util/rng.js';
import { cfg } from '../training/tiny-config.js';
import { synthSource } from '../training/synth-source.js';

// the warnings are what is tested: the logger must write them
delete process.env.LOGOLAB_QUIET;

const BASE = join(FIXTURES, 'clip_tiny/model');

/** Runs fn, returning what it wrote to stderr (the logger's lines) instead of printing it. */
async function stderrOf<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const write = process.stderr.write;
  const lines: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), lines };
  } finally {
    process.stderr.write = write;
  }
}

const modeWarnings = (lines: string[]) => lines.filter((l) => /warn: .*preprocess mode/.test(l));

/** Loads, embeds the images, disposes; returns the embeddings, the processor's mode, the fingerprint and the warnings. */
async function probe(dir: string, opts: LoadOptions, images: RgbImage[]): Promise<{ emb: Float32Array[]; mode: string | undefined; fp: string; warnings: string[] }> {
  const { value: m, lines } = await stderrOf(() => loadVisionModel(dir, { quiet: true, ...opts }));
  try {
    return { emb: await embedImages(m, images, { normalize: true }), mode: m.processor.mode, fp: m.fingerprint(), warnings: modeWarnings(lines) };
  } finally {
    m.dispose();
  }
}

/** Non-square images: letterbox (pad to square) and default (resize short side + centre crop) differ on them. */
function images(): RgbImage[] {
  const r = makeRng('preprocess-mode-record');
  return [
    [48, 20],
    [17, 40],
  ].map(([width, height]) => ({ width: width!, height: height!, data: Uint8Array.from({ length: width! * height! * 3 }, () => r.int(256)) }));
}

describe('preprocess_mode recorded on export and applied on load', () => {
  let dir: string;
  let ckpt: string;
  const imgs = images();

  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
    // a LoRA model on the HF fixture, trained under letterbox; the checkpoint is written without
    // steps (what is tested is the mode, not the weights)
    const c = cfg({ base_model: BASE, lora_r: 2, lora_alpha: 4, freeze_layers: 2, preprocess_mode: 'letterbox', checkpoint_dir: dir });
    const tm = await buildTrainableModel(c);
    assert.equal(tm.model.processor.mode, 'letterbox');
    const tr = new Trainer(c, tm, synthSource({ classes: 4, itemsPerClass: 4, size: 32, P: 4, K: 4, seed: 1 }), { quiet: true });
    ckpt = tr.save('last', 'final');
    tr.dispose();
    tm.dispose();
  });

  it('every export format records it; a load without a mode uses it (embeddings and fingerprint = explicit letterbox, ≠ default)', async () => {
    for (const format of ['hf', 'logolab', 'peft'] as const) {
      const out = join(dir, `export-${format}`);
      await exportCheckpoint(ckpt, out, { format });
      const meta = JSON.parse(readFileSync(join(out, 'export_metadata.json'), 'utf8'));
      assert.equal(meta.preprocess_mode, 'letterbox', format);
      assert.deepEqual(readRecordedPreprocessMode(out), { mode: 'letterbox', source: join(out, 'export_metadata.json') });
    }
    for (const [what, model, opts] of [
      ['hf export', join(dir, 'export-hf'), {}],
      ['logolab export (base + adapter/)', join(dir, 'export-logolab'), {}],
      // a peft adapter's record describes base + adapter: the fixture base records nothing
      ['fixture + peft adapter', BASE, { adapter: join(dir, 'export-peft') }],
    ] as const) {
      const auto = await probe(model, opts, imgs);
      const letterbox = await probe(model, { ...opts, preprocessMode: 'letterbox' }, imgs);
      const dflt = await stderrOf(() => probe(model, { ...opts, preprocessMode: 'default' }, imgs));
      assert.equal(auto.mode, 'letterbox', what);
      assert.deepEqual(auto.emb, letterbox.emb, what);
      assert.notDeepEqual(auto.emb, dflt.value.emb, `${what}: letterbox and default embed these images differently`);
      assert.equal(auto.fp, letterbox.fp, what);
      assert.notEqual(auto.fp, dflt.value.fp, what);
      // the same mode as recorded, or none: nothing to say
      assert.deepEqual(auto.warnings, [], what);
      assert.deepEqual(letterbox.warnings, [], what);
      // an explicit mode is the mode used, with one warning naming both and the record
      assert.equal(dflt.value.mode, 'default', what);
      assert.equal(dflt.value.warnings.length, 1, `${what}: ${dflt.value.warnings.join('')}`);
      assert.match(dflt.value.warnings[0]!, /'default' as asked.*trained and validated with 'letterbox'.*export_metadata\.json/);
    }
  });

  it('convert carries the record into logolab.json; a source without one writes none', async () => {
    const conv = join(dir, 'converted');
    await convertModel(join(dir, 'export-hf'), conv);
    assert.equal(JSON.parse(readFileSync(join(conv, 'logolab.json'), 'utf8')).preprocess_mode, 'letterbox');
    assert.deepEqual(readRecordedPreprocessMode(conv), { mode: 'letterbox', source: join(conv, 'logolab.json') });
    const m = await loadVisionModel(conv, { quiet: true });
    assert.equal(m.processor.mode, 'letterbox');
    m.dispose();
    const plain = join(dir, 'converted-fixture');
    await stderrOf(() => convertModel(BASE, plain));
    assert.equal('preprocess_mode' in JSON.parse(readFileSync(join(plain, 'logolab.json'), 'utf8')), false);
  });

  it('a folder without a record keeps default, silently, even beside an explicit mode (shipped baseline, HF fixture)', async () => {
    for (const model of [join(ROOT, 'models/logolab-tiny-clip'), BASE]) {
      assert.equal(readRecordedPreprocessMode(model), null, model);
      const auto = await probe(model, {}, imgs);
      const dflt = await probe(model, { preprocessMode: 'default' }, imgs);
      const stretch = await probe(model, { preprocessMode: 'stretch' }, imgs);
      assert.equal(auto.mode, 'default', model);
      assert.deepEqual(auto.emb, dflt.emb, model);
      assert.equal(auto.fp, dflt.fp, model);
      assert.equal(stretch.mode, 'stretch', model);
      assert.deepEqual([...auto.warnings, ...stretch.warnings], [], model);
    }
  });

  it('a recorded value that is not a mode, or two records that disagree, is an error naming the file and key', async () => {
    const bad = join(dir, 'bad-export');
    cpSync(join(dir, 'export-hf'), bad, { recursive: true });
    const metaPath = join(bad, 'export_metadata.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    writeFileSync(metaPath, JSON.stringify({ ...meta, preprocess_mode: 'squash' }));
    await assert.rejects(loadVisionModel(bad, { quiet: true }), (e: Error) => e.name === 'LogolabError' && e.message.includes(`${metaPath}: field 'preprocess_mode': "squash" is not a preprocess mode`));
    // an explicit mode does not make a broken record acceptable
    await assert.rejects(loadVisionModel(bad, { quiet: true, preprocessMode: 'default' }), /field 'preprocess_mode': "squash"/);

    const badConv = join(dir, 'bad-converted');
    cpSync(join(dir, 'converted'), badConv, { recursive: true });
    const llPath = join(badConv, 'logolab.json');
    writeFileSync(llPath, JSON.stringify({ ...JSON.parse(readFileSync(llPath, 'utf8')), preprocess_mode: 7 }));
    await assert.rejects(loadVisionModel(badConv, { quiet: true }), (e: Error) => e.message.includes(`${llPath}: field 'preprocess_mode': 7 is not a preprocess mode`));

    const twoRecords = join(dir, 'two-records');
    cpSync(join(dir, 'converted'), twoRecords, { recursive: true });
    writeFileSync(join(twoRecords, 'export_metadata.json'), JSON.stringify({ ...meta, preprocess_mode: 'stretch' }));
    await assert.rejects(loadVisionModel(twoRecords, { quiet: true }), /'preprocess_mode' is 'letterbox' in .*logolab\.json but 'stretch' in .*export_metadata\.json/);
  });
});

describe('VisionModel.fingerprint hashes the mode the processor runs', () => {
  before(() => useBackend('wasm'));

  it('a model rebuilt around a letterbox processor (modelFromTensors, as full training does) keeps the letterbox fingerprint', () => {
    const a: VisionModel = buildVisionModel('clip', 'tiny', 'random', 0, { preprocessMode: 'letterbox' });
    const d = buildVisionModel('clip', 'tiny', 'random', 0);
    const b = modelFromTensors(a.config, new Map(a.namedTensors().map(([n, t]) => [n, tf.clone(t)])), a.processor);
    try {
      assert.equal(b.processor.mode, 'letterbox');
      assert.equal(b.fingerprint(), a.fingerprint());
      assert.notEqual(a.fingerprint(), d.fingerprint());
    } finally {
      for (const m of [a, b, d]) m.dispose();
    }
  });
});
