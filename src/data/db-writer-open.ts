/**
 * Opening a data dir for writing (DataDbWriter.open / openFor, db-writer.ts): the checks made
 * before anything in it is touched — a folder that is not a data dir of prepare, one of the other
 * layout or from another dataset is refused, while the leftovers of a prepare killed as it created
 * the dir are taken as its unfinished start — and the database's creation and migration.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { formatFsError } from '../io/fs-errors.js';
import { busyTimeoutMs } from '../io/sqlite.js';
import { DataDb, sqliteErrorLine } from './db.js';
import { DB_FILENAME, REFERENCE_DIR, SCHEMA, SCHEMA_VERSION, TEST_IMAGES_DIR, type DataLayout, type Row } from './db-schema.js';

/** The tables SCHEMA creates. */
const SCHEMA_TABLES = [...SCHEMA.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

/** Whether `dir` holds nothing but empty reference_logos/ and test_images/ folders (what open() makes first). */
function onlyEmptyDataFolders(dir: string): boolean {
  return readdirSync(dir).every((e) => [REFERENCE_DIR, TEST_IMAGES_DIR].includes(e) && statSync(join(dir, e)).isDirectory() && readdirSync(join(dir, e)).length === 0);
}

/** A database fault as one line naming the database (a LogolabError passes through). */
export function dbError(e: unknown, path: string): unknown {
  if (e instanceof LogolabError) return e;
  const line = sqliteErrorLine(e, path) ?? formatFsError(e);
  return line ? new LogolabError(line) : e;
}

/** The database of a data dir opened for writing: WAL, the schema created or completed, an older progress table migrated. */
export function openWritableDb(path: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined;
    if (v && Number(v.value) !== SCHEMA_VERSION) throw new LogolabError(`${path}: schema_version ${String(v.value)}, this logolab writes ${SCHEMA_VERSION}`);
    // a data dir from an older logolab (same schema_version) has a progress table without
    // `signature` (CREATE TABLE IF NOT EXISTS adds no column): add it. Its rows get NULL, which
    // no content signature equals, so syncWithSources re-ingests those sources as changed
    // rather than trusting outputs made by older code.
    if (!(db.prepare("SELECT 1 FROM pragma_table_info('progress') WHERE name = 'signature'").get() as Row | undefined)) db.exec('ALTER TABLE progress ADD COLUMN signature TEXT');
    db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  } catch (e) {
    db?.close();
    throw dbError(e, path);
  }
  return db;
}

/**
 * Refuses to write data of `layout` into `dir` when it is not a data dir of prepare (bar an
 * unfinished start), holds the other layout, or was prepared from another dataset (unless
 * `source.replaceDataset`).
 */
export function checkDataDirFor(dir: string, layout: DataLayout, source?: { dataset: string; replaceDataset?: boolean }): void {
  const path = join(resolve(dir), DB_FILENAME);
  // prepare adds to its own data dir (resume); a folder holding anything else is not ours to write
  // into — but the empty folders open() makes before the database are a prepare killed at once
  if (!existsSync(path) && existsSync(dir) && statSync(dir).isDirectory() && !onlyEmptyDataFolders(dir))
    throw new LogolabError(`--out ${dir}: folder is not empty and holds no ${DB_FILENAME} (not a data dir of \`logolab prepare\`); refusing to write into it — choose another folder`);
  if (existsSync(path)) {
    let had: DataLayout | null = null;
    let from: string | undefined;
    try {
      const ro = new DataDb(dir, new Database(path, { readonly: true, fileMustExist: true }));
      try {
        // the same wait for another process's lock as every logolab database (not better-sqlite3's 5 s)
        ro.db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
        // a prepare killed while open() created the file (0 bytes) or its schema has none or
        // part of our tables: nothing recorded yet, open() completes the schema. Another
        // SQLite file's tables are not ours: it fails below, as before.
        const tables = (ro.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]).map((r) => String(r.name));
        const partSchema = tables.every((t) => SCHEMA_TABLES.includes(t)) && !(tables.includes('meta') && tables.includes('test_images'));
        if (!partSchema) {
          had = ro.meta('layout') === 'folders' ? 'folders' : ro.db.prepare('SELECT 1 FROM test_images LIMIT 1').get() ? 'logodet3k' : null;
          from = ro.meta('dataset');
        }
      } finally {
        ro.close();
      }
    } catch (e) {
      throw dbError(e, path);
    }
    if (had && had !== layout) throw new LogolabError(`--out ${dir}: holds a ${had}-layout data dir; prepare the ${layout}-layout dataset into another folder`);
    // syncing with another dataset would remove every source of the one it was prepared from
    // (a typo in --dataset, a remounted volume): only when asked
    if (source && from !== undefined && from !== source.dataset && !source.replaceDataset)
      throw new LogolabError(`--out ${dir}: was prepared from ${from}, not ${source.dataset}; preparing this dataset into it would remove the crops and images of every source not in it — choose another --out, or pass --replace-dataset (a moved dataset keeps its unchanged sources)`);
  }
}
