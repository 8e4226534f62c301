/**
 * Options and helpers shared by `eval` and `compare` (a '_' file: not a command itself).
 */
import type { Argv } from 'yargs';
import { existsSync } from 'node:fs';
import { LogolabError, UsageError } from '../../src/errors.js';
import { numberOption } from '../options.js';
import { AGGREGATIONS, DEFAULT_MATCH, MATCHING_METHODS, METHOD_OPTIONS, validateMatchOptions, type MatchOptions } from '../../src/match/matchers.js';
import { mostRefsPerLogo, refuseUnreachableMinRefs as refuseUnreachable } from '../../src/match/min-refs.js';
import { COUNTINGS, type Counting } from '../../src/eval/counting.js';
import { assertEmbeddingCache } from '../../src/eval/cache.js';
import { dataDirInputs } from '../../src/data/db-schema.js';
import { assertOutputFile, type InputFile } from '../../src/io/file-kind.js';
import { IMAGE_EXTENSIONS } from '../../src/embed/files.js';
import { isModelFolderFile } from '../../src/models/format.js';
import { extname } from 'node:path';
import { defaultCachePath, type PassOptions, type Source } from '../../src/eval/run.js';
import { DETR_RANGES } from '../../src/detect/detector.js';
import { detectorFolder } from '../../src/detect/load.js';
import { DETR_DEFAULTS } from '../../src/eval/proposals.js';
import type { Sample, SampleOptions } from '../../src/eval/sample.js';
import { parseEnumList, parseNumberList, type SweepSpec } from '../../src/eval/sweep.js';
import type { CropEncoder } from '../../src/eval/encoder.js';
import { visionCropEncoder } from '../../src/eval/vision-encoder.js';
import { buildVisionModel, loadVisionModel, type VisionFamily, type VisionModel } from '../../src/models/vision/index.js';
import type { PresetName } from '../../src/models/vision/presets.js';
import type { PreprocessMode } from '../../src/preprocess/processors.js';

export const DEFAULT_DETECTOR = 'gt-boxes';
export const DEFAULT_BATCH = 16;
const DEFAULT_SWEEP_THRESHOLDS = '0.5:0.95:0.01';
export const SAMPLE_DEFAULTS: Readonly<SampleOptions> = { numLogos: 10, refsPerLogo: 3, positiveSamples: 5, negativeSamples: 20, seed: 42 };

/** The options that only shape embeddings computed here (regions, batches, cache). */
export const PASS_FLAGS = ['detr-threshold', 'min-box-size', 'nms-iou', 'batch-size', 'cache', 'clear-cache'] as const;
/** The DETR post-processing flags, as DetrSettings keys. */
export const DETR_FLAGS = [['detr-threshold', 'threshold'], ['min-box-size', 'minBoxSize'], ['nms-iou', 'nmsIou']] as const;

/**
 * eval's and compare's shared options. `command` 'compare' hides the ones compare refuses (one
 * --embeddings file; --sweep-* but thresholds): registered, so the refusal says why.
 */
/**
 * What an eval/compare run (or embed --data) reads, which its file outputs (--json, --output-file,
 * embed's --out) must not replace:
 * a data dir's database, crops and test images, its embedding cache, a folder layout, embeddings
 * files, model and adapter folders (an HF repo id names no folder here and protects nothing), and a
 * DETR detector's folder (a repo id: its cached snapshot; the random-weights preset reads none).
 */
export function evalInputs(a: EvalArgv, o: { cache?: boolean } = {}): InputFile[] {
  const s = (k: string): string | undefined => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  const out: InputFile[] = [];
  const data = s('data');
  if (data) out.push(...dataDirInputs(data, '--data dir'));
  // the cache used without --cache ($LOGOLAB_CACHE or beside the data; none with --no-cache);
  // `cache: false` leaves the cache out: the list the cache itself is checked against
  const withCache = o.cache !== false;
  if (withCache && data && a.cache === undefined && a['no-cache'] !== true) out.push({ path: defaultCachePath(data), what: 'embedding cache' });
  // a folder layout is read for its images; a model folder for its weights and configs
  const folders = s('folders');
  if (folders) out.push({ path: folders, what: '--folders dataset', folder: true, reads: (rel) => IMAGE_EXTENSIONS.includes(extname(rel).toLowerCase()) });
  for (const [k, what] of [['model', '--model folder'], ['adapter', '--adapter folder'], ['baseline', '--baseline model'], ['candidate', '--candidate model']] as const) {
    const p = s(k);
    if (p) out.push({ path: p, what, folder: true, reads: isModelFolderFile });
  }
  const detector = s('detector');
  const detDir = detector?.startsWith('detr:') ? detectorFolder(detector) : null;
  if (detDir) out.push({ path: detDir, what: '--detector folder', folder: true, reads: isModelFolderFile });
  for (const [k, what] of [['embeddings', '--embeddings file'], ['baseline-embeddings', '--baseline-embeddings file'], ['candidate-embeddings', '--candidate-embeddings file'], ['cache', '--cache file']] as const) {
    const p = s(k);
    if (p && (k !== 'cache' || withCache)) out.push({ path: p, what });
  }
  return out;
}

/**
 * The embedding cache is an SQLite file the run creates or writes (CREATE TABLE, WAL): like --json
 * it must not replace or add a file the run reads (--cache <model>/preprocessor_config.json turned
 * the model's config into a database; --cache <data>/test_data_mapping.db added a table to the
 * data dir's own). Checked where the cache path is resolved, before the model loads.
 */
export function assertCachePath(a: EvalArgv, path: string): void {
  const flag = typeof a.cache === 'string' ? '--cache' : process.env.LOGOLAB_CACHE !== undefined ? '$LOGOLAB_CACHE' : 'embedding cache';
  assertOutputFile(path, flag, evalInputs(a, { cache: false }));
}

export function withEvalOptions<T>(y: Argv<T>, command: 'eval' | 'compare' = 'eval') {
  const evalOnly = command === 'compare' ? { hidden: true } : {};
  return y
    .option('data', { type: 'string', describe: 'prepared data dir (`logolab prepare`, also of a synth output)' })
    .option('folders', { type: 'string', describe: 'Burnley folder layout root (<logo>_reference_images/, *test_images/ with filename-prefix ground truth): evaluates everything, no sampling' })
    .option('embeddings', { type: 'string', describe: 'embeddings exchange file (logolab embed --data … --out f) instead of computing them', ...evalOnly })
    // no yargs defaults for the sampling options and the method-specific matching options: a given
    // one that the run cannot use (a folder layout is evaluated whole; --margin with simple) is a
    // usage error; sampleOptions and matchOptions apply the defaults
    .option('num-logos', numberOption('num-logos', { alias: 'n', int: true, min: 1, describe: `reference logos to sample [default: ${SAMPLE_DEFAULTS.numLogos}]` }))
    .option('refs-per-logo', numberOption('refs-per-logo', { int: true, min: 1, describe: `reference crops per logo [default: ${SAMPLE_DEFAULTS.refsPerLogo}]` }))
    .option('positive-samples', numberOption('positive-samples', { int: true, min: 0, describe: `test images containing the logo, per logo [default: ${SAMPLE_DEFAULTS.positiveSamples}]` }))
    .option('negative-samples', numberOption('negative-samples', { int: true, min: 0, describe: `test images without the logo, per logo [default: ${SAMPLE_DEFAULTS.negativeSamples}]` }))
    .option('seed', numberOption('seed', { alias: 's', int: true, min: 0, describe: `sampling seed (and ${command === 'compare' ? "the bootstrap's and --calibrate's" : "--calibrate's split"}) [default: ${SAMPLE_DEFAULTS.seed}]` }))
    .option('matching-method', { type: 'string', choices: MATCHING_METHODS as unknown as string[], default: DEFAULT_MATCH.method })
    .option('threshold', numberOption('threshold', { alias: 't', default: DEFAULT_MATCH.threshold, min: -1, max: 1, why: 'a cosine similarity threshold lies in [-1, 1]', describe: 'similarity threshold' }))
    .option('margin', numberOption('margin', { min: 0, max: 2, why: 'a margin between cosine similarities lies in [0, 2]', describe: `margin over the second best (margin, multi-ref, averaged) [default: ${DEFAULT_MATCH.margin}]` }))
    .option('min-matching-refs', numberOption('min-matching-refs', { int: true, min: 1, describe: `multi-ref: refs that must be ≥ threshold [default: ${DEFAULT_MATCH.minMatchingRefs}]` }))
    .option('aggregation', { type: 'string', choices: AGGREGATIONS as unknown as string[], describe: `multi-ref per-logo score (mean as the Python original; max = its --use-max-similarity) [default: ${DEFAULT_MATCH.aggregation}]` })
    .option('counting', { type: 'string', choices: COUNTINGS as unknown as string[], default: 'logos', describe: "'logos': each (image, logo) once (recall ≤ 1); 'detections': the Python original's per-region counting" })
    // no yargs default for the options that shape computed embeddings: beside an embeddings file a
    // given one is an error (refuseWithEmbeddings); passOptions applies the defaults
    .option('detector', { type: 'string', describe: `region proposals: gt-boxes | whole-image | detr:<dir> (detr:detr-r50 = random weights) [default: ${DEFAULT_DETECTOR}]` })
    .option('detr-threshold', numberOption('detr-threshold', { alias: 'd', ...DETR_RANGES.threshold, describe: `DETR score threshold [default: ${DETR_DEFAULTS.threshold}]` }))
    .option('min-box-size', numberOption('min-box-size', { ...DETR_RANGES.minBoxSize, describe: `drop smaller DETR boxes (px) [default: ${DETR_DEFAULTS.minBoxSize}]` }))
    .option('nms-iou', numberOption('nms-iou', { ...DETR_RANGES.nmsIouThreshold, describe: `NMS IoU threshold [default: ${DETR_DEFAULTS.nmsIou}]` }))
    .option('preprocess-mode', { type: 'string', choices: ['default', 'letterbox', 'stretch'], describe: "[default: the model's own (recorded at export), else default]" })
    .option('batch-size', numberOption('batch-size', { int: true, min: 1, describe: `crops per forward pass [default: ${DEFAULT_BATCH}]` }))
    .option('cache', { type: 'string', describe: 'embedding cache file (default $LOGOLAB_CACHE, else <data>/embedding_cache.sqlite)' })
    .option('no-cache', { type: 'boolean', describe: 'do not read or write the embedding cache' })
    .option('clear-cache', { type: 'boolean', describe: 'delete the embedding cache first' })
    .option('sweep-thresholds', { type: 'string', describe: `sweep (and --calibrate) thresholds: start:end:step or a,b,c [default: ${DEFAULT_SWEEP_THRESHOLDS}]` })
    .option('sweep-margins', { type: 'string', describe: 'sweep margins (default: --margin)', ...evalOnly })
    .option('sweep-min-refs', { type: 'string', describe: 'sweep min_matching_refs (default: --min-matching-refs)', ...evalOnly })
    .option('sweep-aggregations', { type: 'string', describe: 'sweep aggregations mean,max (default: --aggregation)', ...evalOnly })
    .option('sweep-methods', { type: 'string', describe: 'sweep methods (default: --matching-method)', ...evalOnly });
}

export type EvalArgv = Record<string, unknown>;

export function detectorOption(a: EvalArgv): string {
  return (a.detector as string | undefined) ?? DEFAULT_DETECTOR;
}

/** The --preprocess-mode given, or undefined: the loader then takes the model's recorded mode. */
export function preprocessModeOption(a: EvalArgv): PreprocessMode | undefined {
  return a['preprocess-mode'] as PreprocessMode | undefined;
}

/**
 * Options that only shape embeddings computed here: beside an embeddings file, which records its
 * own model, detector and preprocessing, they would be silently ignored — a usage error instead.
 */
export function refuseWithEmbeddings(a: EvalArgv, fileFlag: string, flags: readonly string[]): void {
  const found = flags.find((f) => a[f] !== undefined);
  // yargs reads --no-cache as cache: false
  const given = found === 'cache' && a.cache === false ? 'no-cache' : found;
  if (given) throw new UsageError(`--${given}: not used with --${fileFlag} (the embeddings file records its model, detector and preprocessing); give one or the other`);
}

const int = (a: EvalArgv, k: string) => {
  const v = a[k] as number;
  if (!Number.isInteger(v)) throw new LogolabError(`--${k}: must be an integer, got ${String(v)}`);
  return v;
};

/** The sampling flags, as SampleOptions keys. */
const SAMPLE_FLAGS = [['num-logos', 'numLogos'], ['refs-per-logo', 'refsPerLogo'], ['positive-samples', 'positiveSamples'], ['negative-samples', 'negativeSamples'], ['seed', 'seed']] as const;

export function sampleOptions(a: EvalArgv): SampleOptions {
  const o: SampleOptions = { ...SAMPLE_DEFAULTS };
  for (const [f, k] of SAMPLE_FLAGS) if (a[f] !== undefined) o[k] = int(a, f);
  return o;
}

/**
 * A folder layout (or an embeddings file of one) is evaluated whole: a sampling flag would be
 * silently unused. --seed may still be read (`seedRead`: --calibrate's split, compare's bootstrap).
 */
export function refuseSamplingFlags(a: EvalArgv, src: Source, seedRead: boolean): void {
  if (!src.all) return;
  const what = a.folders ? `--folders ${String(a.folders)}` : a.data ? `--data ${String(a.data)} (prepared from a folder layout)` : 'an embeddings file of a folder layout';
  const given = SAMPLE_FLAGS.map(([f]) => f).find((f) => a[f] !== undefined && !(f === 'seed' && seedRead));
  if (given) throw new UsageError(`--${given}: ${what} is evaluated whole (every reference and test image, no sampling); leave --${given} out`);
}

/** The flag and the --sweep-* list of each method-specific option (METHOD_OPTIONS says which methods read it). */
const OPTION_FLAGS: Record<string, [string, string]> = { margin: ['margin', 'sweep-margins'], minMatchingRefs: ['min-matching-refs', 'sweep-min-refs'], aggregation: ['aggregation', 'sweep-aggregations'] };
const METHOD_FLAGS: [string, readonly MatchOptions['method'][]][] = METHOD_OPTIONS.flatMap(([k, users]) => OPTION_FLAGS[k]!.map((f) => [f, users] as [string, readonly MatchOptions['method'][]]));

export function matchOptions(a: EvalArgv): MatchOptions {
  const method = a['matching-method'] as MatchOptions['method'];
  // the methods this run matches with: --matching-method, and with eval --sweep, the swept ones
  // (--sweep-methods, else --matching-method); a --sweep-* list is read by the swept ones only
  const swept = a.sweep && a['sweep-methods'] ? parseEnumList(a['sweep-methods'] as string, MATCHING_METHODS, '--sweep-methods') : [method];
  for (const [f, users] of METHOD_FLAGS) {
    const methods = new Set(f.startsWith('sweep-') ? swept : [method, ...swept]);
    if (a[f] !== undefined && !users.some((u) => methods.has(u))) throw new UsageError(`--${f}: not used by matching method ${[...methods].join(', ')} (only by ${users.join(', ')})`);
  }
  return validateMatchOptions({
    method,
    threshold: a.threshold as number,
    margin: (a.margin as number | undefined) ?? DEFAULT_MATCH.margin,
    minMatchingRefs: a['min-matching-refs'] === undefined ? DEFAULT_MATCH.minMatchingRefs : int(a, 'min-matching-refs'),
    aggregation: (a.aggregation as MatchOptions['aggregation'] | undefined) ?? DEFAULT_MATCH.aggregation,
  });
}

export const SWEEP_FLAGS = ['sweep-thresholds', 'sweep-methods', 'sweep-margins', 'sweep-min-refs', 'sweep-aggregations'] as const;

/** A --sweep-* flag the command will not read is a usage error (`why` says which it reads). */
export function refuseUnusedSweepFlags(a: EvalArgv, used: readonly string[], why: string): void {
  const given = SWEEP_FLAGS.find((f) => a[f] !== undefined && !used.includes(f));
  if (given) throw new UsageError(`--${given}: ${why}`);
}

/** The DETR flags shape a DETR detector's boxes only: with another detector one is a usage error (eval, compare, embed). */
export function refuseDetrFlags(a: EvalArgv, detector: string): void {
  const detrFlag = DETR_FLAGS.find(([f]) => a[f] !== undefined)?.[0];
  if (detrFlag && !detector.startsWith('detr:')) throw new UsageError(`--${detrFlag}: only used by a DETR detector (--detector detr:<dir>), not ${detector}`);
}

export function passOptions(a: EvalArgv): PassOptions {
  const detector = detectorOption(a);
  refuseDetrFlags(a, detector);
  // yargs turns --no-cache into cache: false
  const noCache = a['no-cache'] === true || a.cache === false;
  if (noCache && a['clear-cache']) throw new UsageError('--clear-cache and --no-cache: a run without a cache clears none; give one');
  const root = (a.data ?? a.folders) as string | undefined;
  // read $LOGOLAB_CACHE only when the cache is on (an empty one is an error, not with --no-cache)
  const cachePath = noCache ? null : typeof a.cache === 'string' ? a.cache : root ? defaultCachePath(root) : null;
  if (cachePath) assertCachePath(a, cachePath);
  // --clear-cache deletes only a logolab cache: say so before any slow work
  if (a['clear-cache'] && !noCache && cachePath && existsSync(cachePath)) assertEmbeddingCache(cachePath);
  return {
    detector,
    detrThreshold: (a['detr-threshold'] as number | undefined) ?? DETR_DEFAULTS.threshold,
    minBoxSize: (a['min-box-size'] as number | undefined) ?? DETR_DEFAULTS.minBoxSize,
    nmsIou: (a['nms-iou'] as number | undefined) ?? DETR_DEFAULTS.nmsIou,
    cache: noCache ? null : cachePath,
    clearCache: a['clear-cache'] === true,
    batchSize: a['batch-size'] === undefined ? DEFAULT_BATCH : int(a, 'batch-size'),
  };
}

export function counting(a: EvalArgv): Counting {
  return a.counting as Counting;
}

/** A sweep's lists, with the main run's own options (`main`: what the summary and --calibrate match with). */
export interface EvalSweepSpec extends SweepSpec {
  main: MatchOptions;
  /** where minMatchingRefs comes from, for the message */
  minRefsFlag: '--sweep-min-refs' | '--min-matching-refs';
}

export function sweepSpec(a: EvalArgv, m: MatchOptions): EvalSweepSpec {
  return {
    main: m,
    minRefsFlag: a['sweep-min-refs'] ? '--sweep-min-refs' : '--min-matching-refs',
    methods: a['sweep-methods'] ? parseEnumList(a['sweep-methods'] as string, MATCHING_METHODS, '--sweep-methods') : [m.method],
    // the ranges of --threshold, --margin and --min-matching-refs
    thresholds: parseNumberList((a['sweep-thresholds'] as string | undefined) ?? DEFAULT_SWEEP_THRESHOLDS, '--sweep-thresholds', { min: -1, max: 1, why: 'a cosine similarity threshold lies in [-1, 1]' }),
    margins: a['sweep-margins'] ? parseNumberList(a['sweep-margins'] as string, '--sweep-margins', { min: 0, max: 2, why: 'a margin between cosine similarities lies in [0, 2]' }) : [m.margin],
    minMatchingRefs: a['sweep-min-refs'] ? parseNumberList(a['sweep-min-refs'] as string, '--sweep-min-refs', { int: true, min: 1 }) : [m.minMatchingRefs],
    aggregations: a['sweep-aggregations'] ? parseEnumList(a['sweep-aggregations'] as string, AGGREGATIONS, '--sweep-aggregations') : [m.aggregation],
  };
}

/** Loads a model folder (+ adapter) as a CropEncoder; the caller disposes `model`. */
export async function loadEncoder(dir: string, adapter: string | undefined, preprocessMode: PreprocessMode | undefined, batchSize: number): Promise<{ encoder: CropEncoder; model: VisionModel }> {
  // preset:<family>:<tiny|vit-b16|vit-l14> = random weights of real shapes (benchmarks, demos)
  const pm = /^preset:(clip|dinov2|siglip):(.+)$/.exec(dir);
  if (pm && adapter) throw new LogolabError('--adapter cannot be applied to a preset: model');
  const model = pm ? buildVisionModel(pm[1] as VisionFamily, pm[2]! as PresetName, 'random', 0, { preprocessMode }) : await loadVisionModel(dir, { adapter, preprocessMode });
  const name = adapter ? `${dir} + ${adapter}` : dir;
  return { encoder: visionCropEncoder(model, { name, batchSize }), model };
}

/** The sample in words, for the log: a folder layout is not sampled. */
export function sampleLine(src: Source, s: Sample): string {
  return `sample: ${s.logos.length} logos, ${s.refs.length} reference crops, ${s.images.length} test images (${src.all ? 'all: a folder layout is evaluated whole' : `seed ${s.options.seed}`})`;
}

/**
 * multi-ref needs min_matching_refs references of one logo at or above the threshold: more than
 * any sampled logo has can never match, and the run reported TP 0 / FP 0 without a word. Checked
 * for the main run (its summary and --calibrate match with `spec.main`, whatever the sweep lists
 * say) and for the sweep when no --sweep-min-refs value could match (a sweep table shows each
 * value's row, so one unreachable value among reachable ones is not silent).
 */
export function refuseUnreachableMinRefs(spec: EvalSweepSpec, s: Sample): void {
  const most = mostRefsPerLogo(s.refs.map((r) => r.logo));
  const refuse = (flag: string, asked: number) => refuseUnreachable(asked, most, { option: flag, whose: 'the sampled logos', refs: 'reference crops', fix: 'lower it or raise --refs-per-logo' });
  if (spec.main.method === 'multi-ref') refuse('--min-matching-refs', spec.main.minMatchingRefs);
  if (spec.methods.includes('multi-ref')) refuse(spec.minRefsFlag, Math.min(...spec.minMatchingRefs));
}
