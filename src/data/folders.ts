/**
 * The folder layout of the Python original's Burnley test (test_burnley_detection.py):
 *
 *   <root>/<logo>_reference_images/*.{jpg,jpeg,png,bmp}   reference images of each logo
 *   <root>/test_images/  (or one folder named *test_images, e.g. burnley_test_images)
 *       <logo>_<anything>.jpg            contains <logo>
 *       <logoA>+<logoB>_<anything>.jpg   contains both
 *       anything else                    contains no target logo (a negative)
 *
 * Ground truth comes from the filename prefix, case-insensitively, as in the Python original's
 * get_expected_logos — generalised from its two hard-coded logos to the logos that have
 * reference folders (a prefix must name known logos only, joined by '+', in any order, and end
 * with '_'; otherwise the image is a negative). Logo names may themselves contain '_'.
 */
import { existsSync, statSync } from 'node:fs';
import { readdirUtf8 } from '../io/utf8-names.js';
import { extname, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { log } from '../util/log.js';

export const FOLDER_IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.bmp'];
const REF_SUFFIX = '_reference_images';

export interface FolderLogo {
  name: string;
  dir: string;
  /** absolute paths, sorted by file name */
  references: string[];
}

export interface FolderTestImage {
  file: string;
  path: string;
  /** logos named by the filename prefix, sorted; [] = negative */
  expected: string[];
}

export interface FolderDataset {
  root: string;
  testDir: string;
  logos: FolderLogo[];
  testImages: FolderTestImage[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isFolderImage = (f: string) => !f.startsWith('.') && FOLDER_IMAGE_EXTS.includes(extname(f).toLowerCase());
const images = (dir: string) => readdirUtf8(dir, isFolderImage).filter(isFolderImage).sort(byName);

/**
 * Logos named by a test image's filename prefix (see the module comment). Both sides are compared
 * in Unicode NFC: macOS writes file names in NFD, so 'nestlé_1.jpg' copied from a Mac would
 * otherwise not match the folder 'Nestlé_reference_images' and silently become a negative.
 */
export function expectedLogosFromFilename(filename: string, known: readonly string[]): string[] {
  const key = (s: string) => s.normalize('NFC').toLowerCase();
  const name = key(filename);
  const logos = [...known].sort((a, b) => key(b).length - key(a).length || byName(a, b));
  const parse = (pos: number): string[] | null => {
    for (const l of logos) {
      const ll = key(l);
      if (!name.startsWith(ll, pos)) continue;
      const sep = name[pos + ll.length];
      if (sep === '_') return [l];
      if (sep === '+') {
        const rest = parse(pos + ll.length + 1);
        if (rest) return [l, ...rest];
      }
    }
    return null;
  };
  return [...new Set(parse(0) ?? [])].sort(byName);
}

/** `emptyLogos: 'skip'`: a logo folder without reference images is left out with a warning (prepare) instead of an error. */
export function readFolderDataset(root: string, opts: { testDir?: string; emptyLogos?: 'error' | 'skip' } = {}): FolderDataset {
  const r = resolve(root);
  if (!existsSync(r) || !statSync(r).isDirectory()) throw new LogolabError(`${r}: not a folder`);
  const dirs = readdirUtf8(r, () => false).filter((d) => statSync(join(r, d)).isDirectory()).sort(byName);
  let logos: FolderLogo[] = dirs
    .filter((d) => d.endsWith(REF_SUFFIX) && d.length > REF_SUFFIX.length)
    .map((d) => ({ name: d.slice(0, -REF_SUFFIX.length), dir: join(r, d), references: images(join(r, d)).map((f) => join(r, d, f)) }));
  if (logos.length === 0) throw new LogolabError(`${r}: no <logo>${REF_SUFFIX}/ folders (folder layout)`);
  for (const l of logos) {
    if (l.references.length > 0) continue;
    if (opts.emptyLogos !== 'skip') throw new LogolabError(`${l.dir}: no reference images (${FOLDER_IMAGE_EXTS.join(', ')})`);
    log('warn', `${l.dir}: no reference images (${FOLDER_IMAGE_EXTS.join(', ')}); logo '${l.name}' is left out`);
  }
  logos = logos.filter((l) => l.references.length > 0);
  if (logos.length === 0) throw new LogolabError(`${r}: every <logo>${REF_SUFFIX}/ folder is empty`);
  let testDir: string;
  if (opts.testDir) testDir = resolve(r, opts.testDir);
  else {
    const cands = dirs.filter((d) => d === 'test_images' || d.endsWith('test_images'));
    if (cands.length !== 1) throw new LogolabError(`${r}: expected exactly one test_images (or *test_images) folder, found ${cands.length ? cands.join(', ') : 'none'}`);
    testDir = join(r, cands[0]!);
  }
  if (!existsSync(testDir)) throw new LogolabError(`${testDir}: no such folder`);
  const known = logos.map((l) => l.name);
  const testImages = images(testDir).map((f) => ({ file: f, path: join(testDir, f), expected: expectedLogosFromFilename(f, known) }));
  return { root: r, testDir, logos, testImages };
}
