/** Programmatic entry points of `logolab synth` (the demo calls synthesize()). */
export { synthesize, NEGATIVES_FOLDER, NEGATIVE_PREFIX, type SynthOptions, type SynthSummary, type SynthLayout } from './writer.js';
export { listBrands, selectBrands, brandSet, renditions, type Brand, type BrandSet, type Rendition } from './sources.js';
