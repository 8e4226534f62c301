/**
 * Embedding cache in SQLite (better-sqlite3, WAL). Key = sha256 over
 *   model fingerprint (weights + adapter + head) | preprocessing | file content hash | box,
 * so a changed model, adapter, preprocessing mode, file or box can never hit a stale entry
 * (the reference keyed on file names only and needed --clear-cache when switching models).
 * Two runs may share a cache: WAL + busy_timeout, INSERT OR IGNORE (same key ⇒ same value).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { LogolabError, firstLine } from '../errors.js';
import { describeCode, errnoCode, formatFsError, sqliteCode } from '../io/fs-errors.js';
import { busyTimeoutMs } from '../io/sqlite.js';
import { assertOutputFile, assertRegularFile } from '../io/file-kind.js';
import type { Box } from '../util/box.js';
import { mkdirp } from '../io/mkdirp.js';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function cacheKey(modelFingerprint: string, preprocess: string, contentHash: string, box?: Box | null): string {
  return sha256(`${modelFingerprint}|${preprocess}|${contentHash}|${box ? box.join(',') : 'whole'}`);
}

export interface CacheStats {
  hits: number;
  misses: number;
}

export class EmbeddingCache {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.getStmt = db.prepare('SELECT dim, vec FROM embeddings WHERE key = ?');
    this.putStmt = db.prepare('INSERT OR IGNORE INTO embeddings(key, dim, vec, created) VALUES (?, ?, ?, ?)');
  }

  static open(path: string): EmbeddingCache {
    // the file kind only: the command's inputs (model, data dir) are checked where it resolves the
    // path, before the model loads (assertCachePath in cli/commands/_eval-shared.ts)
    assertOutputFile(path, 'embedding cache');
    let db: Database.Database;
    try {
      mkdirp(dirname(path));
      db = new Database(path);
      db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL, created INTEGER NOT NULL)');
    } catch (e) {
      throw cacheError(e, path, 'cannot open embedding cache');
    }
    return new EmbeddingCache(path, db);
  }

  /**
   * Deletes the cache file (and its WAL/SHM) — only once it proves to be a logolab cache: --cache
   * may name any file (a typo, a user's notes), and logolab never deletes what it did not write.
   */
  static clear(path: string): void {
    if (!existsSync(path)) return;
    assertEmbeddingCache(path);
    for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) rmSync(p);
  }

  get(key: string): Float32Array | undefined {
    let r: { dim: number; vec: Buffer } | undefined;
    try {
      r = this.getStmt.get(key) as { dim: number; vec: Buffer } | undefined;
    } catch (e) {
      throw cacheError(e, this.path, 'cannot read embedding cache');
    }
    if (!r) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    const out = new Float32Array(r.dim);
    new Uint8Array(out.buffer).set(r.vec.subarray(0, r.dim * 4));
    return out;
  }

  putMany(entries: [string, Float32Array][]): void {
    const now = Date.now();
    const tx = this.db.transaction(() => {
      for (const [k, v] of entries) this.putStmt.run(k, v.length, Buffer.from(v.buffer, v.byteOffset, v.byteLength), now);
    });
    try {
      tx();
    } catch (e) {
      throw cacheError(e, this.path, 'cannot write embedding cache');
    }
  }

  count(): number {
    return Number((this.db.prepare('SELECT COUNT(*) AS n FROM embeddings').get() as { n: number }).n);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The tables and columns open() creates: a file holding exactly these is one of ours. */
const CACHE_SCHEMA = { tables: ['embeddings'], columns: ['key', 'dim', 'vec', 'created'] };

/**
 * Throws unless `path` (an existing file) is a logolab embedding cache: read-only, an SQLite file
 * whose only table is ours with our columns. Checked before --clear-cache deletes it.
 */
export function assertEmbeddingCache(path: string): void {
  assertRegularFile(path, '--cache');
  let ours = false;
  let cause = '';
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
      const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'").all() as { type: string; name: string }[];
      const columns = (db.prepare("SELECT name FROM pragma_table_info('embeddings')").all() as { name: string }[]).map((c) => c.name);
      ours = JSON.stringify(objects.map((o) => `${o.type}:${o.name}`)) === JSON.stringify(CACHE_SCHEMA.tables.map((t) => `table:${t}`)) && JSON.stringify(columns) === JSON.stringify(CACHE_SCHEMA.columns);
    } finally {
      db.close();
    }
  } catch (e) {
    // not SQLite, or unreadable: not provably ours
    const code = sqliteCode(e);
    cause = ` (${code ? describeCode(code) : firstLine(e)})`;
  }
  if (!ours) throw new LogolabError(`--cache ${path}: not a logolab embedding cache${cause}; refusing to delete it for --clear-cache (give another --cache file)`);
}

/** One line for a cache failure: path, cause, and the remedy for a damaged file. */
function cacheError(e: unknown, path: string, what: string): LogolabError {
  const code = sqliteCode(e);
  const cause = code ? describeCode(code) : (formatFsError(e, path)?.slice(path.length + 2) ?? (e as Error).message);
  // a cache that cannot be written where it is (e.g. the default one beside a read-only dataset):
  // the run needs no cache, so say how to go on without this one
  const elsewhere = code ? /^SQLITE_(BUSY|LOCKED|CANTOPEN|READONLY|PERM|AUTH|FULL|IOERR)/.test(code) : /^(EACCES|EPERM|EROFS|ENOSPC|ENOTDIR|EEXIST|EDQUOT)$/.test(errnoCode(e) ?? '');
  const hint = code && /^SQLITE_(NOTADB|CORRUPT)/.test(code) ? '; if it is a damaged logolab cache, delete it (--clear-cache deletes only a file it can read as one)' : elsewhere ? '; use another --cache file, or --no-cache' : '';
  return new LogolabError(`${path}: ${what}: ${cause}${hint}`);
}

/** Content hashes of files, memoised per process run (one read per file). */
export class FileHasher {
  private readonly memo = new Map<string, string>();
  hash(path: string): string {
    let h = this.memo.get(path);
    if (h === undefined) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new LogolabError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      h = sha256(bytes);
      this.memo.set(path, h);
    }
    return h;
  }
}
