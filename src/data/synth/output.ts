/**
 * The --out folder of `logolab synth`. synth builds its dataset under a temp name and swaps it in
 * for the whole folder, so it goes through the project's guard for such folders
 * (src/io/output-dir.ts): a folder is replaced only while it holds nothing but what synth wrote.
 * Notes or results a user keeps in an earlier synth folder, a folder of other data, the working
 * directory, / and the home folder are refused (--overwrite lifts the first two only).
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../io/atomic.js';
import { checkOutputDir, filesBelow, OUTPUT_MARKER, type OutputGuard } from '../../io/output-dir.js';
import { listBrands } from './sources.js';

export const MANIFEST_FILE = 'synth.json';
export const RENDITIONS_FILE = 'renditions.json';
export const NEGATIVES_FOLDER = ['Negatives', 'none'] as const;
export const NEGATIVE_PREFIX = 'negative';
export const TEST_IMAGES_FOLDER = 'test_images';
export const REFERENCE_SUFFIX = '_reference_images';

let legacyNames: Set<string> | null = null;

/**
 * The top-level names a synth from before the marker could have written, in either layout:
 * synth.json, renditions.json, the category folders and Negatives (logodet3k), test_images and
 * <slug>_reference_images of a catalogue brand (folders). Exact names, not patterns: a user's own
 * `mine_reference_images` or `results/` there is foreign. (A marked folder is judged by the list
 * in its marker instead.)
 */
export function isSynthTopLevelName(name: string): boolean {
  if (!legacyNames) {
    const brands = listBrands('all');
    legacyNames = new Set([MANIFEST_FILE, RENDITIONS_FILE, NEGATIVES_FOLDER[0], TEST_IMAGES_FOLDER, ...brands.map((b) => b.category), ...brands.map((b) => `${b.slug}${REFERENCE_SUFFIX}`)]);
  }
  return legacyNames.has(name);
}

/** `sheet`: this run's --contact-sheet when it lies directly in --out (synth's own in a legacy folder too). */
export function synthOutputGuard(o: { overwrite?: boolean; sheet?: string } = {}): OutputGuard {
  return { command: 'synth', flag: '--out', legacyMarkers: [MANIFEST_FILE], ownFile: (name) => isSynthTopLevelName(name) || name === o.sheet, overwrite: o.overwrite };
}

/** Throws (one line naming the folder and what is in the way) unless synth may replace `out`. */
export function checkSynthOut(out: string, o: { overwrite?: boolean; sheet?: string } = {}): void {
  checkOutputDir(out, synthOutputGuard(o));
}

/**
 * The marker of a finished build, listing every file it wrote, nested ones included (a user's notes
 * put in a brand folder are then foreign, as one beside the marker is). Written here rather than by
 * replaceOutputDir, which stamps the time: two synth runs with the same options must stay
 * byte-identical, marker included (`diff -r`, checksums of a dataset).
 */
export function writeSynthMarker(tmp: string): void {
  const files = filesBelow(tmp);
  writeJsonAtomic(join(tmp, OUTPUT_MARKER), { command: 'synth', files, note: 'written by logolab synth; synth may replace this folder while it holds only these files' });
}
