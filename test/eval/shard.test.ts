/**
 * Sharded `embed --data --shard i/N` + `merge-embeddings`: three shards merged are the same bytes
 * as one unsharded run on wasm (to 1e-5 on the native kernels) and evaluate identically; a missing, duplicated or foreign shard is a
 * one-line error; the partition is balanced, complete and independent of dataset order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { makeTinyDataDir } from './tinydata.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { parseShardSpec, partition } from '../../src/eval/shard.js';
import { exportDataEmbeddings, readExchangeFile } from '../../src/eval/exchange.js';
import { mergeShards } from '../../src/eval/merge.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { fakeEncoder } from './tinydata.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const SIGLIP = join(FIXTURES, 'siglip_tiny/model');
let W = '';
let DATA = '';

before(async () => {
  W = tmpDir('logolab-shard-');
  DATA = join(W, 'data');
  await makeTinyDataDir(DATA, { perLogo: 5, negatives: 3 });
});
after(() => rmSync(W, { recursive: true, force: true }));


async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `logolab ${args.join(' ')}\n${r.stderr}`);
  return r;
}

const embed = (model: string, out: string, ...extra: string[]) => ['embed', '--data', DATA, '--model', model, '--out', out, '--no-cache', '--backend', 'wasm', ...extra];
const EVAL = ['-n', '3', '--refs-per-logo', '2', '--positive-samples', '3', '--negative-samples', '3', '--seed', '3', '--matching-method', 'multi-ref', '--aggregation', 'max'];

/** safetensors: [8-byte header length][JSON header][float32 data] */
function splitSafetensors(buf: Buffer): { header: string; values: Float32Array } {
  const n = Number(buf.readBigUInt64LE(0));
  const data = buf.subarray(8 + n);
  return { header: buf.subarray(8, 8 + n).toString('utf8'), values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

test('on the default backend (native kernels: float rounding depends on which images share a batch) 2 shards merged = the unsharded run to 1e-5, same header', async () => {
  const plain = (out: string, ...extra: string[]) => embed(CLIP, out, ...extra).filter((a, i, all) => a !== '--backend' && all[i - 1] !== '--backend');
  const whole = join(W, 'whole-default.safetensors');
  await ok(plain(whole));
  const shards = [0, 1].map((i) => join(W, `shard-default-${i}.safetensors`));
  for (const [i, f] of shards.entries()) await ok(plain(f, '--shard', `${i}/2`));
  const merged = join(W, 'merged-default.safetensors');
  await ok(['merge-embeddings', '--out', merged, ...shards]);
  const [a, b] = [splitSafetensors(readFileSync(whole)), splitSafetensors(readFileSync(merged))];
  assert.equal(b.header, a.header);
  const backends = JSON.parse(JSON.parse(a.header).__metadata__.logolab_embeddings).backends;
  assert.ok(Array.isArray(backends) && backends.length === 1 && typeof backends[0] === 'string', `backends ${JSON.stringify(backends)}`); // what computed the rows
  assert.equal(b.values.length, a.values.length);
  let max = 0;
  for (let i = 0; i < a.values.length; i++) max = Math.max(max, Math.abs(a.values[i]! - b.values[i]!));
  assert.ok(max <= 1e-5, `max |Δ| ${max}`);
});

test('rows read from the embedding cache are recorded as such (the cache keeps no backend)', async () => {
  const cache = join(W, 'cache.sqlite');
  const args = (out: string) => ['embed', '--data', DATA, '--model', CLIP, '--out', out, '--cache', cache, '--backend', 'wasm'];
  const [first, second] = [join(W, 'c1.safetensors'), join(W, 'c2.safetensors')];
  await ok(args(first));
  await ok(args(second));
  assert.deepEqual(readExchangeFile(first).meta.backends, ['wasm']);
  assert.deepEqual(readExchangeFile(second).meta.backends, ['wasm', 'embedding cache (backend not recorded)']);
});

test('3 shards merged = one unsharded run, byte for byte, and the same eval results; shard errors are one line', async () => {
  const whole = join(W, 'whole.safetensors');
  await ok(embed(CLIP, whole));
  const shards = [0, 1, 2].map((i) => join(W, `shard-${i}.safetensors`));
  await ok(embed(CLIP, shards[0]!, '--shard', '0/3'));
  // auto/COUNT takes INDEX from the job engine's variable and says which
  process.env.SLURM_ARRAY_TASK_ID = '1';
  let r;
  try {
    r = await ok(embed(CLIP, shards[1]!, '--shard', 'auto/3'));
  } finally {
    delete process.env.SLURM_ARRAY_TASK_ID;
  }
  assert.match(r.stderr, /shard 1\/3 \(INDEX from SLURM_ARRAY_TASK_ID\)/);
  await ok(embed(CLIP, shards[2]!, '--shard', '2/3'));
  const merged = join(W, 'merged.safetensors');
  // any order of the shard files
  await ok(['merge-embeddings', '--out', merged, shards[2]!, shards[0]!, shards[1]!]);
  assert.ok(readFileSync(merged).equals(readFileSync(whole)), 'merged file differs from the unsharded one');

  const [ja, jb] = [join(W, 'a.json'), join(W, 'b.json')];
  await ok(['eval', '--embeddings', whole, ...EVAL, '--json', ja]);
  await ok(['eval', '--embeddings', merged, ...EVAL, '--json', jb]);
  const [a, b] = [JSON.parse(readFileSync(ja, 'utf8')), JSON.parse(readFileSync(jb, 'utf8'))];
  assert.deepEqual(b.result, a.result);
  assert.deepEqual(b.outcomes, a.outcomes);
  assert.ok(a.result.tp + a.result.fn > 0, 'the eval scored something');
  // the file says what computed its rows, and eval says it
  assert.match((await ok(['eval', '--embeddings', merged, ...EVAL])).stdout, /\n {2}Backend: wasm\n/);

  // errors: one line naming the shard; no output written
  const out = join(W, 'bad.safetensors');
  expectFailure(await runCli(['merge-embeddings', '--out', out, shards[0]!, shards[2]!]), 1, /shard 1\/3 missing: got 0\/3, 2\/3/);
  expectFailure(await runCli(['merge-embeddings', '--out', out, shards[0]!, shards[1]!, shards[0]!, shards[2]!]), 1, /shard-0\.safetensors: shard 0\/3 given twice \(also .*shard-0\.safetensors\)/);
  const foreign = join(W, 'siglip-1.safetensors');
  await ok(embed(SIGLIP, foreign, '--shard', '1/3'));
  expectFailure(await runCli(['merge-embeddings', '--out', out, shards[0]!, foreign, shards[2]!]), 1, /siglip-1\.safetensors: shard 1\/3 has model fingerprint .* \(shards of another run\?\)/);
  const four = join(W, 'four-3.safetensors');
  await ok(embed(CLIP, four, '--shard', '3/4'));
  expectFailure(await runCli(['merge-embeddings', '--out', out, ...shards, four]), 1, /four-3\.safetensors: shard 3\/4 belongs to a set of 4/);
  expectFailure(await runCli(['merge-embeddings', '--out', out, whole, shards[1]!]), 1, /whole\.safetensors: not a shard file/);
  // a shard is not an exchange file: eval says to merge first
  expectFailure(await runCli(['eval', '--embeddings', shards[1]!, ...EVAL]), 1, /shard-1\.safetensors: shard 1\/3 of a sharded export; merge the shards first/);
  assert.ok(!existsSync(out));
  // bad specs
  expectFailure(await runCli(embed(CLIP, out, '--shard', '3/3')), 1, /--shard: INDEX 3 is not below COUNT 3/);
  expectFailure(await runCli(embed(CLIP, out, '--shard', 'x')), 1, /--shard: 'x' is not INDEX\/COUNT/);
  assert.ok(!existsSync(out));
});

test('merge: an item missing from its shard, or held by a shard it does not belong to, names the shard', async () => {
  const d = join(W, 'items');
  const files = [0, 1].map((i) => join(d, `s${i}.safetensors`));
  for (let i = 0; i < 2; i++) await exportDataEmbeddings(DATA, fakeEncoder(), gtBoxes, files[i]!, { quiet: true, shard: { index: i, count: 2 } });
  const whole = join(d, 'whole.safetensors');
  await exportDataEmbeddings(DATA, fakeEncoder(), gtBoxes, whole, { quiet: true });
  mergeShards(files, join(d, 'm.safetensors'));
  assert.ok(readFileSync(join(d, 'm.safetensors')).equals(readFileSync(whole)));
  // rewrite shard 1 with its index edited by `edit`
  const tamper = (edit: (m: ReturnType<typeof readExchangeFile>['meta']) => void) => {
    const { meta, data } = readExchangeFile(files[1]!);
    edit(meta);
    const f = join(d, 'tampered.safetensors');
    writeSafetensors(f, { embeddings: { shape: [data.length / meta.dim, meta.dim], data } }, { logolab_embeddings: JSON.stringify(meta) });
    return f;
  };
  const s0 = readExchangeFile(files[0]!).meta;
  // shards computed on two backends (or by an older logolab, without a record): the merge lists each
  const elsewhere = tamper((m) => (m.backends = ['webgpu (adapter llvmpipe)']));
  mergeShards([files[0]!, elsewhere], join(d, 'two-backends.safetensors'));
  assert.deepEqual(readExchangeFile(join(d, 'two-backends.safetensors')).meta.backends, [...s0.backends!, 'webgpu (adapter llvmpipe)'].sort());
  const older = tamper((m) => delete m.backends);
  mergeShards([files[0]!, older], join(d, 'older.safetensors'));
  assert.deepEqual(readExchangeFile(join(d, 'older.safetensors')).meta.backends, [...s0.backends!, 'not recorded'].sort());
  const lost = tamper((m) => delete m.refRows[Object.keys(m.refRows)[0]!]);
  assert.throws(() => mergeShards([files[0]!, lost], join(d, 'x.safetensors')), /tampered\.safetensors: shard 1\/2 lacks reference ref:\d+ \(incomplete shard\?\)/);
  const stolen = tamper((m) => (m.regions[Object.keys(s0.regions)[0]!] = []));
  assert.throws(() => mergeShards([files[0]!, stolen], join(d, 'x.safetensors')), /tampered\.safetensors: shard 1\/2 holds image img:\d+, which belongs to shard 0\/2/);
  // DETR shards kept other boxes: their post-processing must agree too
  const otherDetr = tamper((m) => (m.detectorSettings = { threshold: 0.7, minBoxSize: 20, nmsIou: 0.5 }));
  assert.throws(() => mergeShards([files[0]!, otherDetr], join(d, 'x.safetensors')), /tampered\.safetensors: shard 1\/2 has detector settings threshold 0\.7, min box 20 px, NMS IoU 0\.5, s0\.safetensors has none recorded/);
  const badDetr = tamper((m) => (m.detectorSettings = { threshold: 2, minBoxSize: 20, nmsIou: 0.5 }));
  assert.throws(() => mergeShards([files[0]!, badDetr], join(d, 'x.safetensors')), /tampered\.safetensors: metadata 'detectorSettings' is \{"threshold":2,/);
  assert.ok(!existsSync(join(d, 'x.safetensors')));
});

test('--shard auto: JOB_COMPLETION_INDEX, then SLURM_ARRAY_TASK_ID, then LOGOLAB_SHARD_INDEX', () => {
  assert.deepEqual(parseShardSpec('auto/4', { JOB_COMPLETION_INDEX: '2', SLURM_ARRAY_TASK_ID: '1', LOGOLAB_SHARD_INDEX: '0' }), { index: 2, count: 4, from: 'JOB_COMPLETION_INDEX' });
  assert.deepEqual(parseShardSpec('auto/4', { SLURM_ARRAY_TASK_ID: '1', LOGOLAB_SHARD_INDEX: '0' }), { index: 1, count: 4, from: 'SLURM_ARRAY_TASK_ID' });
  assert.deepEqual(parseShardSpec('auto/4', { LOGOLAB_SHARD_INDEX: '3' }), { index: 3, count: 4, from: 'LOGOLAB_SHARD_INDEX' });
  assert.deepEqual(parseShardSpec('1/2', {}), { index: 1, count: 2 });
  assert.throws(() => parseShardSpec('auto/4', {}), /none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, LOGOLAB_SHARD_INDEX is set/);
  assert.throws(() => parseShardSpec('auto/4', { SLURM_ARRAY_TASK_ID: '4' }), /INDEX 4 \(from SLURM_ARRAY_TASK_ID\) is not below COUNT 4/);
  assert.throws(() => parseShardSpec('auto/4', { LOGOLAB_SHARD_INDEX: '-1' }), /LOGOLAB_SHARD_INDEX='-1' is not a non-negative integer/);
  assert.throws(() => parseShardSpec('0/0', {}), /COUNT ≥ 1/);
});

test('partition: balanced within ±10 % on a few hundred items, complete, independent of dataset order', async () => {
  const root = tmpDir('logolab-shard-big-');
  const dir = join(root, 'data');
  await makeTinyDataDir(dir, { perLogo: 60, negatives: 40, seed: 7 });
  const ds = datasetFromDataDir(dir);
  rmSync(root, { recursive: true, force: true });
  const items = ds.refs.length + ds.images.length;
  assert.ok(items >= 300, `${items} items`);
  for (const count of [3, 8]) {
    const p = partition(ds, count);
    const size = new Array(count).fill(0);
    const crops = new Array(count).fill(0); // embeddings per shard with gt-boxes: refs + boxes
    for (const r of ds.refs) {
      size[p.refShard.get(r.id)!]++;
      crops[p.refShard.get(r.id)!]++;
    }
    for (const im of ds.images) {
      size[p.imageShard.get(im.id)!]++;
      crops[p.imageShard.get(im.id)!] += im.gt.length;
    }
    assert.equal(size.reduce((a, b) => a + b), items, 'every item in exactly one shard');
    for (const [what, v] of [['items', size], ['embeddings', crops]] as const) {
      const mean = v.reduce((a, b) => a + b) / count;
      const dev = Math.max(...v.map((x) => Math.abs(x - mean) / mean));
      console.log(`partition ${items} items (${ds.refs.length} refs, ${ds.images.length} images) into ${count}: ${what} per shard ${v.join(' ')} — max deviation ${(100 * dev).toFixed(1)} %`);
      assert.ok(dev <= 0.1, `${what} ${v.join(' ')}`);
    }
    // the same shards from a reordered index: a worker needs only the dataset, not its order
    const q = partition({ ...ds, refs: [...ds.refs].reverse(), images: [...ds.images].reverse() }, count);
    assert.deepEqual([...q.refShard].sort(), [...p.refShard].sort());
    assert.deepEqual([...q.imageShard].sort(), [...p.imageShard].sort());
  }
});
