/**
 * Refuses special files where logolab reads a file: opening a FIFO for reading blocks until some
 * other process writes to it (a hang, not an error), and a device or socket is never a model,
 * config or image. Checked with stat (symlinks followed) before the file is opened.
 */
import { existsSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { formatFsError } from './fs-errors.js';

/** 'FIFO (named pipe)' | 'socket' | 'character device' | 'block device' | 'folder' | null for a regular file. */
export function specialKind(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'folder';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}

/** Why `path` cannot be read as a regular file (missing, a folder, a FIFO …), or null when it can. */
export function notRegularFile(path: string): string | null {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return formatFsError(e, path) ?? `${path}: cannot stat (${(e as Error).message})`;
  }
  const kind = specialKind(st);
  return kind ? `${path}: is a ${kind}, not a regular file` : null;
}

/** Throws a LogolabError unless `path` is a regular file; `what` prefixes the message (e.g. 'config'). */
export function assertRegularFile(path: string, what?: string): void {
  const why = notRegularFile(path);
  if (why) throw new LogolabError(what ? `${what} ${why}` : why);
}

/**
 * The path with every symlink resolved: the real path where it exists, else its nearest existing
 * folder's real path + the rest. Two names of one file (a link and its target) compare equal.
 */
export function realPathOf(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPathOf(parent), basename(abs));
  }
}

/** A file the command reads, which its output must never replace. */
export interface InputFile {
  path: string;
  /** how it is named in the message: 'input image', '--embeddings file' */
  what: string;
  /** a folder: no file below it may be replaced (a data dir's crops) … */
  folder?: boolean;
  /** … or only those it reads (a model's weights and configs, not a results file kept beside them); `rel`: the path inside the folder */
  reads?: (rel: string) => boolean;
}

/** What an existing file at an output path must be for the command to replace it (see assertOutputFile). */
export interface ExistingOutput {
  /** what the command writes, for the message: 'a logolab embeddings file' */
  what: string;
  /** why the existing regular file is not one the command wrote, or null when it is */
  notOurs: (path: string) => string | null;
  /** the user's --overwrite: replace it whatever it is (never an input) */
  overwrite?: boolean;
}

/**
 * Checks an output file path before any slow work: not an existing folder or special file, no
 * regular file where one of its parent folders should be, and not one of the command's inputs
 * (`detect a.png --out a.png` replaced the photo with the boxes JSON), also through a symlink.
 * With `existing`, an existing file is replaced only when it is what the command writes (or with
 * --overwrite, which the command then offers): logolab never replaces a file it did not write.
 */
export function assertOutputFile(path: string, flag = '--out', inputs: readonly InputFile[] = [], existing?: ExistingOutput): void {
  const real = realPathOf(path);
  for (const i of inputs) {
    const input = realPathOf(i.path);
    if (input === real) throw new LogolabError(`${flag} ${path}: is the ${i.what} ${i.path}; refusing to replace it — write the output elsewhere`);
    const inside = i.folder && real.startsWith(input.endsWith('/') ? input : `${input}/`);
    // with `reads`: a file the folder is read from, even a new one (a preprocessor_config.json
    // written into a model folder would change the model); without: any existing file
    if (inside && (i.reads ? i.reads(real.slice(input.length).replace(/^\/+/, '')) : existsSync(path)))
      throw new LogolabError(`${flag} ${path}: would ${existsSync(path) ? 'replace a file of' : 'add a file read with'} the ${i.what} ${i.path}; refusing — write the output elsewhere`);
  }
  let st: Stats | null = null;
  try {
    st = statSync(path);
  } catch {
    // does not exist yet: fine
  }
  if (st) {
    const kind = specialKind(st);
    if (kind) throw new LogolabError(`${flag} ${path}: is a ${kind}; give a file name`);
    const why = existing && !existing.overwrite ? existing.notOurs(path) : null;
    if (why) throw new LogolabError(`${flag} ${path}: exists and is not ${existing!.what} (${why}); refusing to replace it (choose another path, remove it, or add --overwrite to replace it)`);
    return;
  }
  let p = dirname(resolve(path));
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory()) throw new LogolabError(`${flag} ${path}: ${p} is not a directory`);
}
