/**
 * The Python original's text blocks: the stdout summary of test_logo_detection.py and the block
 * `--output-file` appends (write_results_to_file), same lines and order, plus lines for what
 * the reference did not have (detector, counting) where they matter.
 */
import { methodDescription, type MatchOptions } from '../match/matchers.js';
import type { CountResult } from './counting.js';
import type { Counting } from './counting.js';

export interface RunInfo {
  model: string;
  preprocessMode: string;
  numLogos: number;
  refsPerLogo: number;
  totalRefs: number;
  positiveSamples: number;
  negativeSamples: number;
  testImages: number;
  detector: string;
  detrThreshold: number | null;
  /** what computed the embeddings (an embeddings file's record; empty: not recorded) */
  backends: string[];
  /** The seed that drew the sample or --calibrate's split; null when nothing was drawn (a folder layout evaluated whole, no --calibrate). */
  seed: number | null;
  counting: Counting;
}

const pct = (x: number) => `${x.toFixed(4)} (${(x * 100).toFixed(1)}%)`;
const num = (x: number) => String(x);

/** The embeddings' backends for a summary line (a cache may hold rows of earlier runs on others). */
export const backendsText = (b: string[]) => (b.length ? b.join('; ') : 'not recorded (an embeddings file of an older logolab)');

export function formatSummary(info: RunInfo, o: MatchOptions, r: CountResult): string {
  const L: string[] = [];
  L.push('', '='.repeat(60), 'LOGO DETECTION TEST RESULTS', '='.repeat(60), '', 'Configuration:');
  L.push(`  Embedding model: ${info.model}`);
  L.push(`  Reference logos: ${info.numLogos}`);
  L.push(`  Refs per logo: ${info.refsPerLogo}`);
  L.push(`  Total reference embeddings: ${info.totalRefs}`);
  L.push(`  Test images processed: ${info.testImages}`);
  L.push(`  Similarity threshold: ${num(o.threshold)}`);
  L.push(`  Region proposals: ${info.detector}`);
  if (info.detrThreshold !== null) L.push(`  DETR confidence threshold: ${num(info.detrThreshold)}`);
  else if (info.detector.startsWith('detr:')) L.push('  DETR confidence threshold: not recorded (an embeddings file of an older logolab)');
  L.push(`  Preprocess mode: ${info.preprocessMode}`);
  L.push(`  Backend: ${backendsText(info.backends)}`);
  L.push(`  Matching method: ${o.method}`);
  if (o.method !== 'simple') L.push(`  Matching margin: ${num(o.margin)}`);
  if (o.method === 'multi-ref') {
    L.push(`  Min matching refs: ${o.minMatchingRefs}`);
    L.push(`  Similarity aggregation: ${o.aggregation}`);
  }
  L.push(`  Counting: ${info.counting}`);
  L.push(`  Random seed: ${seedText(info.seed)}`);
  L.push('', 'Metrics:');
  L.push(`  True Positives (correct matches): ${r.tp}`);
  L.push(`  False Positives (wrong matches): ${r.fp}`);
  L.push(`  False Negatives (missed logos): ${r.fn}`);
  L.push(`  Total expected matches: ${r.expected}`);
  L.push('', 'Scores:');
  L.push(`  Precision: ${pct(r.precision)}`);
  L.push(`  Recall: ${pct(r.recall)}`);
  L.push(`  F1 Score: ${pct(r.f1)}`);
  if (r.falsePositives.length) {
    L.push('', 'Example False Positives (first 5):');
    for (const e of r.falsePositives.slice(0, 5)) L.push(`  - Image: ${e.image}`, `    Matched: ${e.logo} (similarity: ${e.similarity.toFixed(3)})`);
  }
  if (r.falseNegatives.length) {
    L.push('', 'Example False Negatives (first 5):');
    for (const e of r.falseNegatives.slice(0, 5)) L.push(`  - Image: ${e.image}`, `    Expected: ${e.logo}`);
  }
  L.push('='.repeat(60));
  return L.join('\n') + '\n';
}

function seedText(seed: number | null): string {
  return seed === null ? 'none (every image evaluated; nothing drawn)' : String(seed);
}

export function formatDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The block `--output-file` appends (the Python original's write_results_to_file). */
export function formatFileBlock(info: RunInfo, o: MatchOptions, r: CountResult, date = new Date()): string {
  const L = [
    '='.repeat(70),
    `TEST: ${o.method.toUpperCase()} MATCHING`,
    `Model: ${info.model}`,
    `Method: ${methodDescription(o)}`,
    '='.repeat(70),
    `Date: ${formatDate(date)}`,
    '',
    'Configuration:',
    `  Embedding model: ${info.model}`,
    `  Preprocess mode: ${info.preprocessMode}`,
    `  Backend: ${backendsText(info.backends)}`,
    `  Reference logos: ${info.numLogos}`,
    `  Refs per logo: ${info.refsPerLogo}`,
    `  Total reference embeddings:${info.totalRefs}`,
    `  Positive samples/logo: ${info.positiveSamples}`,
    `  Negative samples/logo: ${info.negativeSamples}`,
    `  Test images processed: ${info.testImages}`,
    `  Similarity threshold: ${num(o.threshold)}`,
    `  DETR threshold: ${info.detrThreshold !== null ? num(info.detrThreshold) : info.detector.startsWith('detr:') ? 'not recorded' : `n/a (${info.detector})`}`,
    `  Random seed: ${seedText(info.seed)}`,
    `  Counting: ${info.counting}`,
    '',
    'Results:',
    `  True Positives:  ${String(r.tp).padStart(6)}`,
    `  False Positives: ${String(r.fp).padStart(6)}`,
    `  False Negatives: ${String(r.fn).padStart(6)}`,
    `  Total Expected:  ${String(r.expected).padStart(6)}`,
    '',
    'Scores:',
    `  Precision: ${pct(r.precision)}`,
    `  Recall:    ${pct(r.recall)}`,
    `  F1 Score:  ${pct(r.f1)}`,
    '',
    '',
  ];
  return L.join('\n');
}
