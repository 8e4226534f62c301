/**
 * Fault trials: model files and adapters. Non-finite weights are refused at load naming the
 * tensor; a model that produces a non-finite embedding is an error naming the image, never a
 * match; the model loaded is the model named (a logolab export's adapter included).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { cli, expectFailure, expectOk } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel, dataDir, loraExport } from './fixtures.js';
import { readSafetensors, writeSafetensors, SafetensorsFile, type WriteTensor } from '../../src/io/safetensors.js';
import { LogoLab } from '../../src/api.js';
import { LogolabError } from '../../src/errors.js';
import { matchRegion, MATCHING_METHODS } from '../../src/match/matchers.js';

const IMG = join(FIXTURES, 'images/square_224.png');

/** A copy of the base model with some tensors changed. */
async function editedModel(name: string, edit: (key: string, data: Float32Array) => void): Promise<string> {
  const dir = join(ROOT_TMP, name);
  cpSync(await baseModel(), dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  const meta = SafetensorsFile.open(file);
  const metadata = meta.metadata;
  meta.close();
  const tensors = new Map<string, WriteTensor>();
  for (const [k, t] of readSafetensors(file)) {
    const data = Float32Array.from(t.data as Float32Array);
    edit(k, data);
    tensors.set(k, { shape: t.shape, data });
  }
  writeSafetensors(file, tensors, metadata);
  return dir;
}

describe('fault trials: model files and adapters', () => {
  before(async () => {
    await loraExport();
  });

  it('a model with a NaN weight is refused at load, naming the tensor', async () => {
    const dir = await editedModel('nan-model', (k, d) => {
      if (k.endsWith('layers.1.mlp.fc1.weight')) d[17] = NaN;
    });
    expectFailure(await cli('embed', IMG, '--model', dir, '--out', join(ROOT_TMP, 'nan.jsonl'), ...BACKEND), 1, /layers\.1\.mlp\.fc1\.weight.*(NaN|non-finite)/);
  });

  it('LogoLab.load of a model with an Inf weight rejects with a LogolabError naming the tensor', async () => {
    const dir = await editedModel('inf-model', (k, d) => {
      if (k.endsWith('post_layernorm.bias')) d[0] = Infinity;
    });
    await assert.rejects(LogoLab.load({ encoder: dir, backend: 'wasm' }), (e: Error) => e instanceof LogolabError && /post_layernorm\.bias/.test(e.message));
  });

  it('convert --dtype float16 refuses values that overflow float16 (they would become Inf)', async () => {
    const dir = await editedModel('big-model', (k, d) => {
      if (k.endsWith('layers.0.self_attn.q_proj.weight')) d[3] = 1e6;
    });
    expectFailure(await cli('convert', dir, '--out', join(ROOT_TMP, 'big-f16'), '--dtype', 'float16'), 1, /q_proj\.weight.*float16/);
  });

  it('a model whose embedding overflows to Inf/NaN is an error naming the image, not a result', async () => {
    const dir = await editedModel('overflow-model', (k, d) => {
      if (k.endsWith('post_layernorm.weight')) d.fill(3e38);
      if (k === 'visual_projection.weight') d.fill(1e30);
    });
    expectFailure(await cli('embed', IMG, '--model', dir, '--out', join(ROOT_TMP, 'of.jsonl'), ...BACKEND), 1, /square_224\.png.*non-finite/);
    const r = await cli('eval', '--data', await dataDir(), '--model', dir, '-n', '2', '--no-cache', ...BACKEND);
    expectFailure(r, 1, /\.png.*non-finite embedding/);
  });

  it('embed --pixels with a NaN pixel is refused naming the tensor', async () => {
    const file = join(ROOT_TMP, 'px-nan.safetensors');
    const data = new Float32Array(2 * 3 * 32 * 32).fill(0.1);
    data[100] = NaN;
    writeSafetensors(file, { pixel_values: { shape: [2, 3, 32, 32], data } });
    expectFailure(await cli('embed', '--pixels', file, '--model', await baseModel(), '--out', join(ROOT_TMP, 'px-out.safetensors'), ...BACKEND), 1, /pixel_values.*NaN at index 100/);
  });

  it('the matchers never accept a NaN similarity (every method): it is an error naming the reference or logo', () => {
    const refs = { labels: Int32Array.from([0, 1]), numLogos: 2 };
    for (const method of MATCHING_METHODS) {
      const o = { method, threshold: 0.5, margin: 0.05, minMatchingRefs: 1, aggregation: 'max' as const };
      for (const sims of [[NaN, NaN], [NaN, 0.9], [0.9, NaN]]) {
        assert.throws(() => matchRegion(Float32Array.from(sims), refs, o, Float32Array.from(sims)), /similarity to (reference|logo \(averaged references\)) [01] is NaN/, `${method} ${JSON.stringify(sims)}`);
      }
    }
  });

  it('eval --embeddings with a NaN row is refused naming the entry', async () => {
    const data = await dataDir();
    const file = join(ROOT_TMP, 'exchange.safetensors');
    expectOk(await cli('embed', '--data', data, '--model', await baseModel(), '--out', file, '--no-cache', ...BACKEND));
    const f = SafetensorsFile.open(file);
    const metadata = f.metadata;
    const t = f.read('embeddings');
    f.close();
    const d = Float32Array.from(t.data as Float32Array);
    d[d.length - 5] = NaN;
    writeSafetensors(file, { embeddings: { shape: t.shape, data: d } }, metadata);
    expectFailure(await cli('eval', '--embeddings', file, '-n', '4'), 1, /exchange\.safetensors.*(NaN|non-finite).*img:/);
  });

  it('LogoLab.load({ encoder: <logolab export> }) applies the adapter: fingerprint = base + adapter ≠ base', async () => {
    const exp = await loraExport();
    const base = await baseModel();
    const a = await LogoLab.load({ encoder: exp, backend: 'wasm' });
    const b = await LogoLab.load({ encoder: base, backend: 'wasm' });
    const c = await LogoLab.load({ encoder: base, adapter: join(exp, 'adapter'), backend: 'wasm' });
    try {
      assert.notEqual(a.fingerprint(), b.fingerprint());
      assert.equal(a.fingerprint(), c.fingerprint());
      const [ea, eb] = [await a.embed(IMG), await b.embed(IMG)];
      assert.ok(ea.some((v, i) => Math.abs(v - eb[i]!) > 1e-4));
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it('--adapter that differs from the export\'s own adapter/ is refused (two adapters would be ambiguous)', async () => {
    const exp = await loraExport();
    const other = join(ROOT_TMP, 'other-adapter');
    cpSync(join(exp, 'adapter'), other, { recursive: true });
    expectFailure(await cli('embed', IMG, '--model', exp, '--adapter', other, '--out', join(ROOT_TMP, 'z.jsonl'), ...BACKEND), 1, /adapter/);
  });

  it('an exported adapter applied to another base model (same shapes) is refused', async () => {
    const exp = await loraExport();
    const other = await editedModel('other-base', (k, d) => {
      if (k.endsWith('layers.2.mlp.fc1.weight')) d[0] = d[0]! + 0.5;
    });
    expectFailure(await cli('embed', IMG, '--model', other, '--adapter', join(exp, 'adapter'), '--out', join(ROOT_TMP, 'ob.jsonl'), ...BACKEND), 1, /trained on another base model/);
  });

  it('a truncated model.safetensors is refused naming the file', async () => {
    const dir = join(ROOT_TMP, 'truncated-model');
    cpSync(await baseModel(), dir, { recursive: true });
    const f = join(dir, 'model.safetensors');
    truncateSync(f, Math.floor(statSync(f).size * 0.6));
    expectFailure(await cli('embed', IMG, '--model', dir, '--out', join(ROOT_TMP, 't.jsonl'), ...BACKEND), 1, /model\.safetensors/);
  });

  it('an adapter with a NaN weight is refused naming the tensor', async () => {
    const exp = await loraExport();
    const dir = join(ROOT_TMP, 'nan-adapter');
    cpSync(join(exp, 'adapter'), dir, { recursive: true });
    const file = join(dir, 'adapter_model.safetensors');
    const tensors = new Map<string, WriteTensor>();
    let first = true;
    for (const [k, t] of readSafetensors(file)) {
      const data = Float32Array.from(t.data as Float32Array);
      if (first) data[0] = NaN;
      first = false;
      tensors.set(k, { shape: t.shape, data });
    }
    writeSafetensors(file, tensors);
    expectFailure(await cli('embed', IMG, '--model', await baseModel(), '--adapter', dir, '--out', join(ROOT_TMP, 'na.jsonl'), ...BACKEND), 1, /adapter_model\.safetensors.*lora_[AB].*non-finite/);
  });

  it('a config.json that is not JSON is refused naming the file', async () => {
    const dir = join(ROOT_TMP, 'badjson-model');
    cpSync(await baseModel(), dir, { recursive: true });
    writeFileSync(join(dir, 'logolab.json'), readFileSync(join(dir, 'logolab.json'), 'utf8').slice(0, 40));
    expectFailure(await cli('embed', IMG, '--model', dir, '--out', join(ROOT_TMP, 'bj.jsonl'), ...BACKEND), 1, /logolab\.json: invalid JSON/);
  });
});
