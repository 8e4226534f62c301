/**
 * logolab package entry: the programmatic API and the building blocks a user composes
 * (matchers, evaluation, encoders).
 */
export { LogoLab, type LoadOptions, type Detection, type DetectionMatch, type References, type ImageInput } from './api.js';
export { LogolabError } from './errors.js';
export { initBackend, BACKEND_CHOICES, type BackendChoice } from './backend/index.js';
export { setLogLevel, type LogLevel } from './util/log.js';
export type { Box } from './util/box.js';
export type { PreprocessMode } from './preprocess/processors.js';
export { loadVisionModel, buildVisionModel, type VisionModel } from './models/vision/index.js';
export { decodeImage, cropImage, type RgbImage } from './preprocess/image.js';
export { MATCHING_METHODS, AGGREGATIONS, DEFAULT_MATCH, validateMatchOptions, matchRegion, matchSimple, matchMargin, matchMultiRef, matchAveraged, methodDescription, type MatchOptions, type MatchingMethod, type Aggregation, type Match, type RefLabels } from './match/matchers.js';
export { cosine, averagedEmbedding, similarityMatrix } from './match/similarity.js';
export { l2normalize } from './util/vector.js';
export { similaritySet, evaluate, type EvalResult, type SimilaritySet } from './eval/evaluate.js';
export type { EmbeddedSet } from './eval/types.js';
export { countOutcomes, type Counts, type Counting } from './eval/counting.js';
export { runSweep, calibrate, type SweepSpec, type SweepCell } from './eval/sweep.js';
export { exportDataEmbeddings, readExchange } from './eval/exchange.js';
export { EmbeddingCache } from './eval/cache.js';
