/**
 * Output folders that a command replaces as a whole (export, convert, the trainer's export): we
 * only ever replace what we wrote. A folder may be replaced when it
 *   - does not exist or is empty, or
 *   - holds our marker file `.logolab-output.json` written by the SAME command (or the legacy
 *     marker that command wrote before markers existed) and, anywhere in its tree, only files that
 *     command wrote (the marker lists each, nested ones included), or
 *   - the user said --overwrite,
 * and never when it contains a source of the command (the checkpoint being exported, the model
 * being converted), the current working directory, or is the filesystem root or home folder —
 * not even with --overwrite. Everything else is refused with one line saying what to do.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { withAtomicDir, writeJsonAtomic } from './atomic.js';
import { realPathOf } from './file-kind.js';

export const OUTPUT_MARKER = '.logolab-output.json';

export interface OutputGuard {
  /** the command that writes the folder ('export', 'convert') — recorded in the marker */
  command: string;
  /** how the folder was named, for messages: '--out', 'output_dir' */
  flag: string;
  /** files an earlier version of `command` wrote, accepted as its marker (e.g. logolab.json) */
  legacyMarkers?: string[];
  /**
   * for a folder from before the marker, of a command that cannot list its files exactly (synth's
   * names depend on the brands): whether a top-level name is one it writes; anything else is not
   * replaced: a model card or results file a user put there would go with it. Markers written
   * since list their folder's files and are checked against that list instead.
   */
  ownFile?: (name: string) => boolean;
  /**
   * the exact files the command writes, as paths relative to the folder ('adapter/adapter_config.json'):
   * when given, a folder from before the marker is judged file by file through its whole tree against
   * this list (ownFile is then not used). A name pattern ("any *.safetensors") is no such list: a
   * user's own weights or embeddings there would be deleted with the folder.
   */
  ownFiles?: readonly string[];
  /** replace a foreign folder */
  overwrite?: boolean;
  /** sources that must survive: a folder containing any of them is never replaced */
  protect?: { path: string; what: string }[];
  /**
   * the command writes files INTO the folder (compare --report) instead of replacing it as a
   * whole: the working directory or home folder may then be the output folder
   */
  writesInto?: boolean;
}

/** Is `inner` equal to or below `outer` (both resolved)? */
export function isWithin(inner: string, outer: string): boolean {
  const a = resolve(inner);
  const b = resolve(outer);
  return a === b || a.startsWith(b.endsWith('/') ? b : b + '/');
}

/** isWithin by the names given or by the real paths (an input given through a symlink, a linked output folder). */
const isWithinReally = (inner: string, outer: string): boolean => isWithin(inner, outer) || isWithin(realPathOf(inner), realPathOf(outer));

function readMarker(dir: string): { command: string; files: string[] | null } | null {
  const p = join(dir, OUTPUT_MARKER);
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { command?: unknown; files?: unknown };
    if (typeof j.command !== 'string') return null;
    const files = Array.isArray(j.files) && j.files.every((f) => typeof f === 'string') ? (j.files as string[]) : null;
    return { command: j.command, files };
  } catch {
    return null;
  }
}

/** The files below `dir`, as sorted paths relative to it ('adapter/adapter_config.json'); symlinks count as files. */
export function filesBelow(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${e}` : e;
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...filesBelow(dir, r));
    else out.push(r);
  }
  return out;
}

/**
 * Paths below `dir` that are not among `own` (relative paths of files): each such file, and each
 * folder below which `own` names nothing (reported once, by its own path). Symlinks count as files
 * (replacing the folder removes the link, never its target). A folder the marker lists by name
 * alone (`listed`; markers from before they listed nested files named only the top level) is
 * judged by `inside` — the command's exact files — or, where the command has none, is its own
 * as listed.
 */
function notOwned(dir: string, own: ReadonlySet<string>, listed: ReadonlySet<string> = new Set(), inside?: readonly string[]): string[] {
  const out: string[] = [];
  // each set of names with the folders that hold any of them, built once: a walk that scanned the
  // names at every folder took seconds on a synth folder of 11k scene folders
  const withFolders = (names: ReadonlySet<string>) => {
    const folders = new Set<string>();
    for (const n of names) for (let i = n.indexOf('/'); i >= 0; i = n.indexOf('/', i + 1)) folders.add(n.slice(0, i));
    return { names, folders };
  };
  const outer = withFolders(own);
  const listedInside = inside ? withFolders(new Set([...own, ...inside])) : null;
  const walk = (rel: string, o: { names: ReadonlySet<string>; folders: ReadonlySet<string> }) => {
    for (const e of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${e}` : e;
      if (r === OUTPUT_MARKER) continue;
      if (!lstatSync(join(dir, r)).isDirectory()) {
        if (!o.names.has(r)) out.push(r);
      } else if (listed.has(r)) {
        if (listedInside) walk(r, listedInside);
      } else if (o.folders.has(r)) walk(r, o);
      else out.push(r);
    }
  };
  walk('', outer);
  return out;
}

/** Entries of an earlier output that the command did not write (by the marker's list, else by g.ownFiles or g.ownFile). */
function foreignEntries(dir: string, entries: string[], listed: string[] | null, g: OutputGuard): string[] {
  if (g.writesInto) return [];
  if (listed) return notOwned(dir, new Set(listed), new Set(listed), g.ownFiles);
  if (g.ownFiles) return notOwned(dir, new Set(g.ownFiles));
  return g.ownFile ? entries.filter((e) => e !== OUTPUT_MARKER && !g.ownFile!(e)).sort() : [];
}

/** Throws unless `dir` may be (created or) replaced by `g.command`; see the module comment. */
export function checkOutputDir(dir: string, g: OutputGuard): void {
  const abs = resolve(dir);
  const name = `${g.flag} ${dir}`;
  for (const p of g.protect ?? []) {
    if (isWithinReally(p.path, abs)) throw new LogolabError(`${name}: contains the ${p.what} (${p.path}); refusing to replace it — write the output elsewhere`);
  }
  const cwd = process.cwd();
  if (!g.writesInto && isWithinReally(cwd, abs)) throw new LogolabError(`${name}: contains the current working directory; refusing to replace it — write the output elsewhere`);
  if (!g.writesInto && [abs, realPathOf(abs)].some((d) => d === '/' || d === resolve(homedir()) || d === realPathOf(homedir()))) throw new LogolabError(`${name}: refusing to replace ${abs}`);
  if (!existsSync(abs)) {
    // a file where a parent folder should be is a clear error here rather than ENOTDIR later
    let p = dirname(abs);
    while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
    if (!statSync(p).isDirectory()) throw new LogolabError(`${name}: ${p} is a file, not a folder`);
    return;
  }
  if (!statSync(abs).isDirectory()) throw new LogolabError(`${name}: exists and is not a folder; refusing to replace it`);
  const entries = readdirSync(abs);
  if (entries.length === 0 || g.overwrite) return;
  const marker = readMarker(abs);
  const by = marker?.command ?? null;
  const earlier = by === g.command || (by === null && (g.legacyMarkers ?? []).some((m) => entries.includes(m)));
  if (earlier) {
    const foreign = foreignEntries(abs, entries, by === g.command ? marker!.files : null, g);
    if (foreign.length === 0) return;
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
    throw new LogolabError(`${name}: an earlier output of \`logolab ${g.command}\` that also holds files it did not write (${shown}); refusing to replace it (move them out, choose another folder, or add --overwrite to replace it)`);
  }
  const whose = by ? `an output of \`logolab ${by}\`` : 'not an earlier output of this command';
  const verb = g.writesInto ? 'write into' : 'replace';
  throw new LogolabError(`${name}: folder is not empty and is ${whose}; refusing to ${verb} it (choose another folder, or add --overwrite to ${verb} it)`);
}

/**
 * Builds the folder under a temp name, writes the marker, then swaps it in for `dir` — after
 * checkOutputDir. The old folder is removed only once the new one is complete.
 */
export async function replaceOutputDir(dir: string, g: OutputGuard, build: (tmp: string) => void | Promise<void>): Promise<void> {
  checkOutputDir(dir, g);
  await withAtomicDir(dir, async (tmp) => {
    await build(tmp);
    // every file, nested ones included: a file a user later adds inside a subfolder (an export's
    // adapter/) is then as foreign as one beside the marker
    const files = filesBelow(tmp);
    writeJsonAtomic(join(tmp, OUTPUT_MARKER), { command: g.command, written: new Date().toISOString(), files, note: 'written by logolab; the command may replace this folder while it holds only these files' });
  });
}


