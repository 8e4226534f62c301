/**
 * The programmatic API's contract at its edges: instance lifetime (dispose, the one tfjs backend
 * per process), option and argument checking (LoadOptions, detectAndMatch options, compare,
 * RgbImage), the match details passed through, the public exports, quiet loading, and the
 * example script's cleanup. Every refusal is a LogolabError naming what was wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT, tmpDir } from '../helpers.js';
import * as api from '../../src/index.js';
import { LogoLab, LogolabError, DEFAULT_MATCH, validateMatchOptions } from '../../src/index.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const DETR = join(FIXTURES, 'detr_tiny/model');
const LORA = join(FIXTURES, 'lora/adapter');
const IMG = join(FIXTURES, 'images/wide_300x200.png');
const IMG2 = join(FIXTURES, 'images/tall_97x151.png');

/** Rejects (or throws) a LogolabError whose message matches `re`. */
async function refuses(f: () => unknown, re: RegExp): Promise<void> {
  await assert.rejects(
    async () => f(),
    (e: unknown) => {
      assert.ok(e instanceof LogolabError, `a LogolabError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('LogoLab: a later load with another backend makes the earlier instance refuse, naming both backends', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const a = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  const b = await LogoLab.load({ encoder: CLIP, backend: 'wasm' });
  try {
    const re = /one tfjs backend per process: this LogoLab was loaded on cpu, the process now runs wasm \(set by a later load\)/;
    await refuses(() => a.embed(IMG), re);
    await refuses(() => a.detectAndMatch(IMG, { x: new Float32Array(24).fill(1) }), re);
    await refuses(() => a.fingerprint(), re);
    await refuses(() => a.embeddingDim, re);
    // the instance on the process's backend works
    assert.equal((await b.embed(IMG)).length, 24);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('LogoLab.load without `backend` keeps the backend of the instances not yet disposed; an explicit other one still switches', async () => {
  process.env.LOGOLAB_QUIET = '1';
  // what auto selection (or $LOGOLAB_BACKEND) picks here, and a backend it does not pick
  const probe = await LogoLab.load({ encoder: CLIP });
  const auto = tf.getBackend();
  probe.dispose();
  const other = auto === 'cpu' ? 'wasm' : 'cpu';
  const a = await LogoLab.load({ encoder: CLIP, backend: other });
  const b = await LogoLab.load({ encoder: CLIP, detector: DETR });
  let c: LogoLab | null = null;
  try {
    assert.equal(tf.getBackend(), other, 'the second load kept the first instance\'s backend');
    assert.deepEqual(await a.embed(IMG), await b.embed(IMG));
    // asked for by name: switched, as documented, and the earlier instances refuse
    c = await LogoLab.load({ encoder: CLIP, backend: auto as api.BackendChoice });
    assert.equal(tf.getBackend(), auto);
    await refuses(() => a.embed(IMG), new RegExp(`this LogoLab was loaded on ${other}, the process now runs ${auto}`));
  } finally {
    a.dispose();
    b.dispose();
    c?.dispose();
  }
  // with every instance disposed, a load without `backend` chooses afresh
  await tf.setBackend(other);
  const d = await LogoLab.load({ encoder: CLIP });
  d.dispose();
  assert.equal(tf.getBackend(), auto);
});

test('LogoLab: use after dispose() is a LogolabError; dispose() twice is harmless', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  const e = await ll.embed(IMG);
  ll.dispose();
  ll.dispose();
  const re = /^LogoLab: used after dispose\(\)$/;
  await refuses(() => ll.embed(IMG), re);
  await refuses(() => ll.detect(IMG), re);
  await refuses(() => ll.averagedEmbedding([IMG]), re);
  await refuses(() => ll.detectAndMatch(IMG, { x: e }), re);
  await refuses(() => ll.compare(e, e), re);
  await refuses(() => ll.fingerprint(), re);
  await refuses(() => ll.embeddingDim, re);
});

test('LogoLab: dispose() during calls in flight frees the weights after them; the calls finish', async () => {
  process.env.LOGOLAB_QUIET = '1';
  await tf.setBackend('cpu');
  const n0 = tf.memory().numTensors;
  const ll = await LogoLab.load({ encoder: CLIP, detector: DETR, backend: 'cpu' });
  const e = await ll.embed(IMG);
  const calls = [ll.embed(IMG), ll.averagedEmbedding([IMG, IMG2]), ll.detect(IMG), ll.detectAndMatch(IMG, { x: e })];
  ll.dispose();
  assert.ok(tf.memory().numTensors > n0, 'weights kept while calls are in flight');
  await refuses(() => ll.embed(IMG), /^LogoLab: used after dispose\(\)$/);
  const [again] = await Promise.all(calls);
  assert.deepEqual(again, e);
  assert.equal(tf.memory().numTensors, n0, 'weights freed after the last call');
});

test('LogoLab.load that fails leaves the backend as it was: the earlier instance keeps working', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const a = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    await refuses(() => LogoLab.load({ encoder: join(tmpDir(), 'none'), backend: 'wasm' }), /none/);
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await a.embed(IMG)).length, 24);
  } finally {
    a.dispose();
  }
});

test('LogoLab.detectAndMatch: unknown, out-of-range, unread and null options and empty references are refused; undefined = not given', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const e = await ll.embed(IMG);
    const refs = { a: e };
    await refuses(() => ll.detectAndMatch(IMG2, refs, { methd: 'simple' } as never), /unknown option `methd`/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { threshold: 5 }), /threshold: 5 is out of range: .*\[-1, 1\]/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { threshold: -3 }), /threshold: -3 is out of range/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { threshold: '0.5' as never }), /threshold: must be a number, got '0.5'/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { margin: 3 }), /margin: 3 is out of range: .*\[0, 2\]/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { method: 'multi-ref', minMatchingRefs: 1.5 }), /minMatchingRefs .*integer ≥ 1, got 1.5/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { method: 'simple', margin: 0.1 }), /option `margin` is not used by matching method simple/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { method: 'margin', minMatchingRefs: 2 }), /option `minMatchingRefs` is not used by matching method margin/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, { aggregation: 'max' }), /option `aggregation` is not used by matching method margin/);
    await refuses(() => ll.detectAndMatch(IMG2, refs, null as never), /options must be an object/);
    await refuses(() => ll.detectAndMatch(IMG2, {}), /references has no logos/);
    await refuses(() => ll.detectAndMatch(IMG2, null as never), /references must be an object/);
    // an explicit undefined leaves the default in force, as an omitted key does
    const dflt = await ll.detectAndMatch(IMG, refs);
    assert.deepEqual(await ll.detectAndMatch(IMG, refs, { threshold: undefined, aggregation: undefined, method: undefined }), dflt);
    assert.equal(dflt[0]!.matches[0]?.logo, 'a');
    // every valid option still applies: the range ends are valid
    assert.equal((await ll.detectAndMatch(IMG, refs, { method: 'multi-ref', threshold: -1, margin: 2, minMatchingRefs: 1, aggregation: 'max' }))[0]!.matches[0]?.logo, 'a');
  } finally {
    ll.dispose();
  }
});

test('validateMatchOptions: ranges are opt-in; without them the evaluator\'s internal values (threshold −2: "threshold off") pass unchanged', () => {
  const off = { ...DEFAULT_MATCH, threshold: -2, margin: 0 };
  assert.equal(validateMatchOptions(off), off);
  assert.throws(() => validateMatchOptions(off, { ranges: true }), /threshold: -2 is out of range/);
  assert.throws(() => validateMatchOptions({ ...DEFAULT_MATCH, margin: 2.5 }, { ranges: true }), /margin: 2.5 is out of range/);
  assert.throws(() => validateMatchOptions({ ...DEFAULT_MATCH, margin: -0.1 }), /margin: must be ≥ 0/);
});

test('LogoLab.detectAndMatch: matches carry `ref` (index within the logo\'s references) and multi-ref\'s `numMatching`', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const a = await ll.embed(IMG);
    const c = await ll.embed(IMG2);
    // `a` is the second reference of `wide` (after `c`); a single Float32Array is reference 0
    const refs = { tall: c, wide: [c, a] };
    const [m] = await ll.detectAndMatch(IMG, refs, { method: 'margin', threshold: 0.99, margin: 0 });
    assert.deepEqual(m!.matches.map((x) => [x.logo, x.ref]), [['wide', 1]]);
    const [s] = await ll.detectAndMatch(IMG, refs, { method: 'simple', threshold: -1 });
    assert.deepEqual(s!.matches.map((x) => `${x.logo}#${x.ref}`).sort(), ['tall#0', 'wide#0', 'wide#1']);
    const [r] = await ll.detectAndMatch(IMG, { wide: [a, a] }, { method: 'multi-ref', threshold: 0.99, minMatchingRefs: 2 });
    assert.equal(r!.matches[0]?.numMatching, 2);
    assert.equal(r!.matches[0]?.ref, undefined);
  } finally {
    ll.dispose();
  }
});

test('LogoLab.detectAndMatch: multi-ref with minMatchingRefs above every logo\'s reference count is refused, as the CLI refuses it', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const e = await ll.embed(IMG);
    const c = await ll.embed(IMG2);
    // the most any logo has is 2 (nike); one logo with fewer does not make 2 unreachable
    const refs = { nike: [e, e], tall: c };
    for (const m of [1, 2]) {
      const [r] = await ll.detectAndMatch(IMG, refs, { method: 'multi-ref', threshold: 0.99, margin: 0, minMatchingRefs: m });
      assert.deepEqual(r!.matches.map((x) => x.logo), ['nike'], `minMatchingRefs ${m}`);
    }
    const re = /^detectAndMatch: minMatchingRefs 3: the logos in references have at most 2 embeddings each, so multi-ref can never match/;
    await refuses(() => ll.detectAndMatch(IMG, refs, { method: 'multi-ref', threshold: 0.99, margin: 0, minMatchingRefs: 3 }), re);
    // refused before the image is read: a bad image is not what the message is about
    await refuses(() => ll.detectAndMatch(Buffer.from('junk'), refs, { method: 'multi-ref', minMatchingRefs: 3 }), re);
  } finally {
    ll.dispose();
  }
});

test('LogoLab.compare: NaN/Inf, all-zero, non-Float32Array and different-length arguments are errors naming the argument', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    const one = new Float32Array([1, 1]);
    await refuses(() => ll.compare(new Float32Array([NaN, 1]), one), /^compare: a: NaN at dimension 0/);
    await refuses(() => ll.compare(one, new Float32Array([1, Infinity])), /^compare: b: .*Inf.* at dimension 1/i);
    await refuses(() => ll.compare(new Float32Array(2), one), /^compare: a: all zeros/);
    await refuses(() => ll.compare(one, [1, 1] as never), /^compare: b: must be a Float32Array/);
    await refuses(() => ll.compare(new Float32Array(3).fill(1), new Float32Array(4).fill(1)), /compare: a has 3 dimensions, b has 4/);
    assert.ok(Math.abs(ll.compare(one, new Float32Array([2, 2])) - 1) < 1e-12);
  } finally {
    ll.dispose();
  }
});

test('LogoLab.load: LoadOptions are checked (unknown keys, ranges, batchSize, empty adapter, no argument)', async () => {
  process.env.LOGOLAB_QUIET = '1';
  await refuses(() => LogoLab.load(undefined as never), /LogoLab.load: expected an options object/);
  await refuses(() => LogoLab.load({ encoder: CLIP, backend: 'cpu', detectr: DETR } as never), /unknown option `detectr`/);
  await refuses(() => LogoLab.load({ encoder: CLIP, detector: DETR, detrThreshold: '0.3' as never }), /`detrThreshold` must be a number in \[0, 1\), got '0.3'/);
  await refuses(() => LogoLab.load({ encoder: CLIP, detector: DETR, minBoxSize: NaN }), /`minBoxSize` must be a number ≥ 0, got NaN/);
  // an unavailable backend is named by the API's option, not a CLI flag (where tfjs-node is
  // installed the load succeeds; it is not in CI)
  await LogoLab.load({ encoder: CLIP, backend: 'tensorflow' }).then((ll) => ll.dispose(), (e: Error) => assert.match(e.message, /^LogoLab\.load: `backend` tensorflow: not available: /));
  // a threshold of 1 keeps no box (scores are probabilities): refused before anything loads, as the CLI refuses it
  await refuses(() => LogoLab.load({ encoder: CLIP, detector: DETR, detrThreshold: 1 }), /`detrThreshold` must be a number in \[0, 1\), got 1/);
  await refuses(() => LogoLab.load({ encoder: CLIP, detector: DETR, nmsIouThreshold: 5 }), /`nmsIouThreshold` must be a number in \[0, 1\], got 5/);
  await refuses(() => LogoLab.load({ encoder: CLIP, backend: 'cpu', batchSize: 0 }), /LoadOptions.batchSize must be a positive integer, got 0/);
  await refuses(() => LogoLab.load({ encoder: CLIP, backend: 'cpu', batchSize: '4' as never }), /LoadOptions.batchSize must be a positive integer, got '4'/);
  await refuses(() => LogoLab.load({ encoder: CLIP, backend: 'cpu', adapter: '' }), /`adapter` must name a folder, got ''/);
  await refuses(() => LogoLab.load({ encoder: CLIP, backend: 'gpu' as never }), /`backend` 'gpu' is not one of/);
  await refuses(() => LogoLab.load({ encoder: '' }), /`encoder` \(model folder\) is required/);
});

test('LogoLab: RgbImage inputs are checked with the caller\'s label; other input types are refused', async () => {
  process.env.LOGOLAB_QUIET = '1';
  const ll = await LogoLab.load({ encoder: CLIP, backend: 'cpu' });
  try {
    await refuses(() => ll.embed({ width: 300, height: 200, data: new Uint8Array(300 * 200 * 4) }), /^embed: image: RgbImage.data has 240000 bytes, but 300x200 RGB needs 180000/);
    await refuses(() => ll.embed({ width: 1.5, height: 2, data: new Uint8Array(9) }), /width and height must be integers ≥ 1, got 1.5x2/);
    await refuses(() => ll.embed({ width: 0, height: 0, data: new Uint8Array(0) }), /width and height must be integers ≥ 1/);
    await refuses(() => ll.embed({ width: 2, height: 2, data: new Float32Array(12) as never }), /RgbImage.data must be a Uint8Array.*got Float32Array/);
    await refuses(() => ll.detect({ width: 2, height: 2, data: Array(12).fill(1) as never }), /^detect: image: RgbImage.data must be .*got an array/);
    await refuses(() => ll.averagedEmbedding([IMG, { width: 2 } as never]), /^averagedEmbedding: image #2: RgbImage.data/);
    await refuses(() => ll.embed(42 as never), /unsupported input type number/);
    await refuses(() => ll.embed(new URL(`file://${IMG}`) as never), /unsupported input type URL/);
    await refuses(() => api.decodeImage(new Uint8Array(4) as never), /unsupported input type Uint8Array/);
    // valid RgbImages (Buffer and Uint8ClampedArray data) embed as the decoded image does
    const img = await api.decodeImage(IMG);
    const want = await ll.embed(IMG);
    for (const data of [Buffer.from(img.data), new Uint8ClampedArray(img.data)]) {
      assert.deepEqual([...(await ll.embed({ width: img.width, height: img.height, data: data as Uint8Array }))], [...want]);
    }
  } finally {
    ll.dispose();
  }
});

test('package entry exports the names a user needs', () => {
  for (const k of ['DEFAULT_MATCH', 'validateMatchOptions', 'setLogLevel', 'BACKEND_CHOICES']) assert.ok(k in api, k);
  // type-only exports: this compiles only when they are exported
  const box: api.Box = [0, 0, 1, 1];
  const mode: api.PreprocessMode = 'default';
  const backend: api.BackendChoice = 'cpu';
  const labels: api.RefLabels = { labels: new Int32Array(0), numLogos: 0 };
  const opts: api.LoadOptions = { encoder: 'x', backend };
  type _E = api.EmbeddedSet;
  assert.ok(box && mode && labels && opts);
});

test('LogoLab.load is quiet: no LoRA adapter note, no DETR processor note on stderr', async () => {
  delete process.env.LOGOLAB_QUIET;
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  let ll: LogoLab | null = null;
  try {
    ll = await LogoLab.load({ encoder: CLIP, adapter: LORA, backend: 'cpu' });
    ll.dispose();
    // the fixture detector has no preprocessor_config.json: the CLI notes the defaults, the API not
    ll = await LogoLab.load({ encoder: CLIP, detector: `detr:${DETR}`, backend: 'cpu' });
  } finally {
    process.stderr.write = write;
    ll?.dispose();
    process.env.LOGOLAB_QUIET = '1';
  }
  assert.deepEqual(lines.filter((l) => /LoRA on|preprocessor_config/.test(l)), []);
});

test('scripts/api-example.ts removes its temporary folder', () => {
  const tmp = tmpDir('logolab-api-example-');
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/api-example.ts'), CLIP], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp, LOGOLAB_QUIET: '1', LOGOLAB_BACKEND: 'cpu' }, stdio: 'pipe' });
    assert.ok(existsSync(tmp));
    // tsx keeps its own cache (tsx-*) there; the example's folder is logolab-api-*
    assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('logolab-api-')), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
