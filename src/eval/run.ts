/**
 * One evaluation run, shared by `logolab eval`, `logolab compare` and the tests: dataset (data dir or
 * exchange file) → sample → one embedding pass (cached) → similarity matrices.
 */
import { join } from 'node:path';
import { LogolabError, UsageError } from '../errors.js';
import { log } from '../util/log.js';
import { passBackends } from '../backend/label.js';
import { EmbeddingCache } from './cache.js';
import { datasetFromDataDir, datasetFromFolders, type DatasetIndex } from './dataset.js';
import type { CropEncoder } from './encoder.js';
import { readExchange, setFromExchange, type Exchange } from './exchange.js';
import { similaritySet, type SimilaritySet } from './evaluate.js';
import type { Counting } from './counting.js';
import type { RunInfo } from './format.js';
import { embedSet } from './pipeline.js';
import { makeProposer, type DetrSettings } from './proposals.js';
import { sampleAll, sampleTest, type Sample, type SampleOptions } from './sample.js';

export interface SourceOptions {
  data?: string;
  embeddings?: string;
  /** Burnley folder layout root (no sampling) */
  folders?: string;
}

export interface PassOptions {
  detector: string;
  detrThreshold: number;
  minBoxSize: number;
  nmsIou: number;
  /** cache file, or null = --no-cache */
  cache: string | null;
  clearCache?: boolean;
  batchSize?: number;
  quiet?: boolean;
}

export interface Source {
  dataset: DatasetIndex;
  exchange: Exchange | null;
  /** folder layout: evaluate everything, no sampling */
  all: boolean;
}

export async function openSource(o: SourceOptions): Promise<Source> {
  if ([o.data, o.embeddings, o.folders].filter(Boolean).length > 1) throw new LogolabError('give one of --data, --folders, --embeddings');
  if (o.embeddings) {
    const exchange = readExchange(o.embeddings);
    return { dataset: exchange.dataset, exchange, all: exchange.meta.layout === 'folders' };
  }
  if (o.folders) return { dataset: await datasetFromFolders(o.folders), exchange: null, all: true };
  if (!o.data) throw new LogolabError('give --data <prepared data dir>, --folders <Burnley layout> or --embeddings <file>');
  // a data dir prepared from the folder layout is evaluated like --folders: everything, no sampling
  const dataset = datasetFromDataDir(o.data);
  return { dataset, exchange: null, all: dataset.layout === 'folders' };
}

/** The embedding cache used without --cache: $LOGOLAB_CACHE, else `<data>/embedding_cache.sqlite`. */
export function defaultCachePath(dataDir: string): string {
  const env = process.env.LOGOLAB_CACHE;
  // an empty value names no file: it used to turn the cache off without a word (callers read a
  // falsy path as "no cache"); --no-cache is how the cache is turned off
  if (env === '') throw new UsageError(`LOGOLAB_CACHE: set but empty, so it names no cache file; unset it for the default ${join(dataDir, 'embedding_cache.sqlite')}, or set it to a cache file`);
  return env ?? join(dataDir, 'embedding_cache.sqlite');
}

export interface Pass {
  sample: Sample;
  similarities: SimilaritySet;
  model: string;
  detector: string;
  /** a DETR detector's post-processing: the file's (null if it does not record it), or the proposer's */
  detectorSettings: DetrSettings | null;
  /** the embeddings' preprocessing id (kind:mode:config hash): from the file, or the encoder's */
  preprocess: string;
  cacheStats: { hits: number; misses: number } | null;
  /** the backends the embeddings were computed on: the file's (empty: it does not record them), or this process's */
  backends: string[];
}

/** The embedding pass for a sample: from the exchange file, or by `encoder` through the cache. */
export async function embeddingPass(src: Source, sample: Sample, encoder: CropEncoder | null, o: PassOptions): Promise<Pass> {
  if (src.exchange) {
    if (encoder) log('warn', 'embeddings come from the exchange file; the model options are ignored');
    const set = setFromExchange(src.exchange, sample);
    return { sample, similarities: similaritySet(set), model: src.exchange.meta.model, detector: src.exchange.meta.detector, detectorSettings: src.exchange.meta.detectorSettings ?? null, preprocess: src.exchange.meta.preprocess, cacheStats: null, backends: src.exchange.meta.backends ?? [] };
  }
  if (!encoder) throw new LogolabError('give --model <dir> (or --embeddings <file>)');
  if (o.cache && o.clearCache) EmbeddingCache.clear(o.cache);
  const cache = o.cache ? EmbeddingCache.open(o.cache) : null;
  const proposer = makeProposer(o.detector, o);
  log('info', `encoder ${encoder.name}: fingerprint ${encoder.fingerprint.slice(0, 16)}…, preprocessing ${encoder.preprocess}${cache ? `, cache ${cache.path}` : ', no cache'}`);
  try {
    const set = await embedSet(encoder, proposer, sample.refs, sample.images, sample.logos, { cache, batchSize: o.batchSize, quiet: o.quiet });
    return { sample, similarities: similaritySet(set), model: encoder.name, detector: proposer.name, detectorSettings: proposer.settings ?? null, preprocess: encoder.preprocess, cacheStats: cache ? { ...cache.stats } : null, backends: passBackends(cache?.stats.hits ?? 0) };
  } finally {
    cache?.close();
    proposer.dispose?.();
  }
}

export function drawSample(src: Source, o: SampleOptions): Sample {
  return src.all ? sampleAll(src.dataset) : sampleTest(src.dataset, o);
}

/** The mode part of a preprocessing id (`clip:letterbox:<hash>` → letterbox); the id itself when it has none. */
export function preprocessModeOf(preprocess: string): string {
  return preprocess.split(':')[1] ?? preprocess;
}

/**
 * The run's summary fields; the preprocessing mode is the embeddings' own (an exchange file's, not the
 * CLI's). `seed` is the one the run used: the sample's, or for a folder layout (nothing sampled) the
 * --calibrate split's, or null when no seed was used at all.
 */
export function runInfo(pass: Pass, o: { counting: Counting; seed?: number | null }): RunInfo {
  const s = pass.sample;
  return {
    model: pass.model,
    preprocessMode: preprocessModeOf(pass.preprocess),
    numLogos: s.logos.length,
    refsPerLogo: s.options.refsPerLogo,
    totalRefs: s.refs.length,
    positiveSamples: s.options.positiveSamples,
    negativeSamples: s.options.negativeSamples,
    testImages: s.images.length,
    detector: pass.detector,
    detrThreshold: pass.detectorSettings?.threshold ?? null,
    backends: pass.backends,
    seed: o.seed !== undefined ? o.seed : s.options.seed,
    counting: o.counting,
  };
}
