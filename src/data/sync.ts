/**
 * Keeping a prepared data dir in step with its dataset (both layouts): content signatures of
 * source files, forgetting sources that changed, lost their outputs or left the dataset, and
 * placing source images into the data dir.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from '../io/atomic.js';
import { notRegularFile } from '../io/file-kind.js';
import { log } from '../util/log.js';
import type { DataDbWriter } from './db-writer.js';
import { mkdirp } from '../io/mkdirp.js';

/**
 * Hard link (same filesystem) else copy, atomically, replacing what was there. A symlinked source
 * is resolved first: link() would hard-link the symlink itself, and a relative one then dangles
 * inside the data dir (and every later run re-ingests it as a deleted output).
 */
export function linkOrCopy(src: string, dst: string): void {
  mkdirp(dirname(dst));
  const real = realpathSync(src);
  const tmp = tempPathFor(dst);
  try {
    linkSync(real, tmp);
  } catch {
    copyFileSync(real, tmp);
  }
  try {
    renameSync(tmp, dst);
  } finally {
    // rename() of two links to one file does nothing and leaves both: dst already linked to the
    // source (a run killed after its link, before its transaction) would keep the temp name
    rmSync(tmp, { force: true });
  }
}

/**
 * sha256 (hex) of one source file: '-' when absent, the kind ('special') for a special file,
 * which is never read, 'unreadable' when it cannot be read. `bytes` (when given) receives the
 * bytes read, so a caller that also parses the file reads it once.
 */
export function fileHash(p: string | undefined, bytes?: (b: Buffer) => void): string {
  if (!p) return '-';
  if (notRegularFile(p)) return 'special';
  let b: Buffer;
  try {
    b = readFileSync(p);
  } catch {
    return 'unreadable';
  }
  bytes?.(b);
  return createHash('sha256').update(b).digest('hex');
}

/** The content signature of a source's files (fileHash of each). Any edit changes it, whatever happens to size and mtime. */
export function contentSignature(files: (string | undefined)[]): string {
  return `sha256:${files.map((p) => fileHash(p)).join(':')}`;
}

/**
 * Brings the data dir in line with the dataset before new work: forgets (rows + output files) every
 * recorded source whose content signature changed, whose outputs were deleted, or which left the
 * dataset (within `inScope`). `done` is updated in place; returns the counts.
 */
export function syncWithSources(
  db: DataDbWriter,
  done: Map<string, { status: 'ingested' | 'skipped'; signature: string | null }>,
  signatures: Map<string, string>,
  inScope: (key: string) => boolean,
): { changed: number; restored: number; removed: number } {
  const outputs = db.sourceOutputs();
  const changed: string[] = [];
  const restored: string[] = [];
  const removed: string[] = [];
  for (const [key, d] of done) {
    const sig = signatures.get(key);
    if (sig === undefined) {
      if (inScope(key)) removed.push(key);
    } else if (d.signature !== sig) changed.push(key);
    else if (d.status === 'ingested' && (outputs.get(key) ?? []).some((p) => !existsSync(p))) restored.push(key);
  }
  for (const key of [...changed, ...restored, ...removed]) {
    for (const f of db.forgetSource(key)) rmSync(f, { force: true });
    done.delete(key);
  }
  if (changed.length) log('info', `prepare: ${changed.length} source${changed.length > 1 ? 's' : ''} changed since the last run (or were prepared by an older logolab); re-ingesting them`);
  if (restored.length) log('warn', `prepare: ${restored.length} source${restored.length > 1 ? 's have' : ' has'} deleted outputs (crops or test images); re-ingesting them`);
  if (removed.length) log('warn', `prepare: ${removed.length} source${removed.length > 1 ? 's are' : ' is'} no longer in the dataset; removed from the data dir: ${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ', …' : ''}`);
  return { changed: changed.length, restored: restored.length, removed: removed.length };
}

/**
 * Sources left alone by --limit-brands keep the rows an earlier run wrote. When the brand folders
 * now give one of their logo names to a folder of another category (a new Food/Acme takes "Acme"
 * from Tech/Acme, which becomes "Acme (Tech)"), the new rows would join that logo and merge two
 * brands: those sources are forgotten (rows and files) instead; a run that scans their folders
 * ingests them again. `brands`: every brand folder's logo name and category now.
 */
export function forgetTakenLogos(db: DataDbWriter, done: Map<string, unknown>, brands: readonly { category: string; name: string }[]): number {
  const stale = new Set<string>();
  const names: string[] = [];
  for (const b of brands) {
    const was = db.logoCategory(b.name);
    if (was === undefined || was === b.category) continue;
    names.push(`'${b.name}' (${was} → ${b.category})`);
    for (const k of db.sourcesNaming(b.name)) stale.add(k);
  }
  for (const key of stale) {
    for (const f of db.forgetSource(key)) rmSync(f, { force: true });
    done.delete(key);
  }
  if (stale.size) log('warn', `prepare: logo ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''} now names a brand folder of another category; removed the ${stale.size} source${stale.size > 1 ? 's' : ''} past --limit-brands recorded under the old one (a run that scans them ingests them again)`);
  return stale.size;
}
