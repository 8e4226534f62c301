/**
 * The folder layout of the Python original's Burnley test (test_burnley_detection.py):
 *
 *   <root>/<logo>_reference_images/*.{jpg,jpeg,png,bmp,webp,tif,tiff,gif}   reference images of each logo
 *   <root>/test_images/  (or one folder named *test_images, e.g. burnley_test_images)
 *       <logo>_<anything>.jpg            contains <logo>
 *       <logoA>+<logoB>_<anything>.jpg   contains both
 *       anything else                    contains no target logo (a negative)
 *
 * Ground truth comes from the filename prefix, case-insensitively, as in the Python original's
 * get_expected_logos — generalised from its two hard-coded logos to the logos that have
 * reference folders (a prefix must name known logos only, joined by '+', in any order, and end
 * with '_'; otherwise the image is a negative). Logo names may themselves contain '_'.
 *
 * Images are read directly in those folders. Any other file there (another extension, anything in
 * a subfolder) is not read, and is named in one warning and counted (FolderDataset.notRead), never
 * dropped silently. Hidden entries (.DS_Store, ._* AppleDouble files) are passed over, as in the
 * LogoDet-3K layout.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readdirUtf8 } from '../io/utf8-names.js';
import { extname, join, relative, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { log } from '../util/log.js';
import { IMAGE_EXTS } from './logodet-layout.js';

/**
 * The LogoDet-3K layout's image files (one `prepare` reads both layouts alike) plus GIF: every
 * reader of this layout's files decodes through decodeImage, which reads a GIF's first frame with
 * PIL's colours (preprocess/gif.ts), and web logos often come as GIFs. (.bmp, which libvips does
 * not read, decodes as PIL reads it: preprocess/bmp.ts.)
 */
export const FOLDER_IMAGE_EXTS = [...IMAGE_EXTS, '.gif'];
const REF_SUFFIX = '_reference_images';
/** file names shown in the warning about files not read; the count covers them all */
const SHOWN = 5;

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
  /** files in the reference and test folders that are not read (relative to root, sorted): another extension, or in a subfolder */
  notRead: string[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isFolderImage = (f: string) => !f.startsWith('.') && FOLDER_IMAGE_EXTS.includes(extname(f).toLowerCase());
const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false; // a dangling link: a file that is not read
  }
};

/** Files below `dir` (named `rel/…`), through subfolders; `seen` (real paths) stops a link loop. */
function filesBelow(dir: string, rel: string, seen: Set<string>): string[] {
  let names: string[];
  try {
    const real = realpathSync(dir);
    if (seen.has(real)) return [];
    seen.add(real);
    names = readdirUtf8(dir, () => false);
  } catch {
    // unreadable (or a name that is not UTF-8): none of it is read; the folder itself is named
    return [`${rel}/`];
  }
  return names
    .filter((f) => !f.startsWith('.'))
    .sort(byName)
    .flatMap((f) => (isDir(join(dir, f)) ? filesBelow(join(dir, f), `${rel}/${f}`, seen) : [`${rel}/${f}`]));
}

/** The image files directly in `dir`, sorted; every other file there or below goes to `notRead` as `rel/…`. */
function images(dir: string, rel: string, notRead: string[]): string[] {
  const out: string[] = [];
  for (const f of readdirUtf8(dir, isFolderImage).sort(byName)) {
    if (f.startsWith('.')) continue;
    if (isFolderImage(f)) out.push(f);
    else if (isDir(join(dir, f))) notRead.push(...filesBelow(join(dir, f), `${rel}/${f}`, new Set([realpathSync(dir)])));
    else notRead.push(`${rel}/${f}`);
  }
  return out;
}

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
  const notRead: string[] = [];
  let logos: FolderLogo[] = dirs
    .filter((d) => d.endsWith(REF_SUFFIX) && d.length > REF_SUFFIX.length)
    .map((d) => ({ name: d.slice(0, -REF_SUFFIX.length), dir: join(r, d), references: images(join(r, d), d, notRead).map((f) => join(r, d, f)) }));
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
  const testRel = relative(r, testDir) || '.';
  const testImages = images(testDir, testRel, notRead).map((f) => ({ file: f, path: join(testDir, f), expected: expectedLogosFromFilename(f, known) }));
  notRead.sort(byName);
  if (notRead.length) {
    const shown = notRead.slice(0, SHOWN).join(', ') + (notRead.length > SHOWN ? `, … (${notRead.length} in all)` : '');
    log('warn', `${r}: ${notRead.length} file${notRead.length > 1 ? 's' : ''} not read (the folder layout reads ${FOLDER_IMAGE_EXTS.join(' ')} files directly in <logo>${REF_SUFFIX}/ and the test images folder, not in subfolders): ${shown}`);
  }
  return { root: r, testDir, logos, testImages, notRead };
}
