/** The write side of a prepared data dir, used only by `prepare` (schema: db-schema.ts). */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { formatFsError } from '../io/fs-errors.js';
import { busyTimeoutMs } from '../io/sqlite.js';
import type { Box } from '../util/box.js';
import { DataDb, sqliteErrorLine } from './db.js';
import { DB_FILENAME, PREPARE_STATE, REFERENCE_DIR, SCHEMA, SCHEMA_VERSION, TEST_IMAGES_DIR, type DataLayout, type Row, type SkippedRow } from './db-schema.js';
import { mkdirp } from '../io/mkdirp.js';

/** The tables SCHEMA creates. */
const SCHEMA_TABLES = [...SCHEMA.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

/** Whether `dir` holds nothing but empty reference_logos/ and test_images/ folders (what open() makes first). */
function onlyEmptyDataFolders(dir: string): boolean {
  return readdirSync(dir).every((e) => [REFERENCE_DIR, TEST_IMAGES_DIR].includes(e) && statSync(join(dir, e)).isDirectory() && readdirSync(join(dir, e)).length === 0);
}

/** Category of the logos of a folder-layout data dir (that layout has no categories). */
export const FOLDER_CATEGORY = 'folders';

/** The progress key of a logodet3k test image: '<Category>/<Brand>/<stem>' of '<Category>/<Brand>/<stem>.<ext>'. */
export function sourceKeyOfImage(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > filename.lastIndexOf('/') ? filename.slice(0, dot) : filename;
}

/** A database fault as one line naming the database (a LogolabError passes through). */
function dbError(e: unknown, path: string): unknown {
  if (e instanceof LogolabError) return e;
  const line = sqliteErrorLine(e, path) ?? formatFsError(e);
  return line ? new LogolabError(line) : e;
}

export interface ImageRecord {
  filename: string;
  source: string;
  width: number;
  height: number;
  converted: string | null;
  objects: {
    objectIndex: number;
    logoName: string;
    category: string;
    box: Box;
    clipped: boolean;
    cropFile: string;
    cropWidth: number;
    cropHeight: number;
  }[];
}

/** Opens (creating if needed) a data dir for writing; WAL so a killed writer leaves a consistent DB. */
export class DataDbWriter extends DataDb {
  private readonly logoIds = new Map<string, number>();

  static open(dir: string): DataDbWriter {
    const d = resolve(dir);
    mkdirp(join(d, REFERENCE_DIR));
    mkdirp(join(d, TEST_IMAGES_DIR));
    const path = join(d, DB_FILENAME);
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
    return new DataDbWriter(d, db);
  }

  /**
   * Opens `dir` for writing data of `layout`: a dir that holds the other layout is refused before
   * anything in it is touched.
   */
  static openFor(dir: string, layout: DataLayout, source?: { dataset: string; replaceDataset?: boolean }): DataDbWriter {
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
    const w = DataDbWriter.open(dir);
    w.setMeta('layout', layout);
    // until finish(): a kill from here on leaves a data dir that readers refuse as unfinished
    w.setMeta(PREPARE_STATE, 'running');
    return w;
  }

  /** Runs a write (or a read of the progress state), reporting SQLite faults (full disk, locked, read-only) as one line naming the database. */
  private write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw dbError(e, this.dbPath);
    }
  }

  /**
   * Every finished source's output files (absolute paths) by progress key: its test image and the
   * crops cut from it (logodet3k), or its reference/test image (folders).
   */
  sourceOutputs(): Map<string, string[]> {
    return this.write(() => this.sourceOutputsOf());
  }

  private sourceOutputsOf(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (k: string, p: string) => (out.get(k) ?? out.set(k, []).get(k)!).push(p);
    const images = this.db.prepare('SELECT id, filename FROM test_images').all() as Row[];
    if (this.layout() === 'folders') {
      for (const r of images) add(`test:${String(r.filename)}`, join(this.testImagesDir, String(r.filename)));
      for (const r of this.db.prepare('SELECT filename FROM folder_references').all() as Row[]) add(`ref:${String(r.filename)}`, join(this.referenceDir, String(r.filename)));
      return out;
    }
    const keyOf = new Map<number, string>();
    for (const r of images) {
      const f = String(r.filename);
      keyOf.set(Number(r.id), sourceKeyOfImage(f));
      add(sourceKeyOfImage(f), join(this.testImagesDir, f));
    }
    for (const r of this.db.prepare('SELECT test_image_id, filename FROM reference_logos').all() as Row[]) {
      const k = keyOf.get(Number(r.test_image_id));
      if (k) add(k, join(this.referenceDir, String(r.filename)));
    }
    return out;
  }

  /**
   * Forgets a finished source (ingested or skipped): its rows in every table and its progress
   * mark, in one transaction, so the next run processes it again. Returns its output files, which
   * the caller removes. A logo (and category) no row names any more goes too, as in a fresh prepare:
   * its name may return in another category ("Acme" freed by "Acme (Tech)" for a new Food/Acme).
   */
  forgetSource(source: string): string[] {
    return this.write(() =>
      this.db.transaction(() => {
        const files: string[] = [];
        const logos = new Set<number>();
        let imageIds: number[] = [];
        if (source.startsWith('ref:')) {
          const f = source.slice(4);
          for (const r of this.db.prepare('SELECT logo_name_id FROM folder_references WHERE filename = ?').all(f) as Row[]) logos.add(Number(r.logo_name_id));
          if (this.db.prepare('DELETE FROM folder_references WHERE filename = ?').run(f).changes) files.push(join(this.referenceDir, f));
        } else {
          const rows = (
            source.startsWith('test:')
              ? this.db.prepare('SELECT id, filename FROM test_images WHERE filename = ?').all(source.slice(5))
              : // '<Category>/<Brand>/<stem>' ↔ '<Category>/<Brand>/<stem>.<ext>' (range scan on the filename index)
                this.db.prepare('SELECT id, filename FROM test_images WHERE filename > ? AND filename < ?').all(`${source}.`, `${source}/`)
          ) as Row[];
          const mine = rows.filter((r) => source.startsWith('test:') || sourceKeyOfImage(String(r.filename)) === source);
          imageIds = mine.map((r) => Number(r.id));
          for (const r of mine) files.push(join(this.testImagesDir, String(r.filename)));
        }
        for (const id of imageIds) {
          for (const r of this.db.prepare('SELECT filename FROM reference_logos WHERE test_image_id = ?').all(id) as Row[]) files.push(join(this.referenceDir, String(r.filename)));
          // (a crop's logo is its ground-truth object's)
          const labels = `SELECT logo_name_id FROM test_image_logos WHERE test_image_id = @id${this.hasTable('image_labels') ? ' UNION SELECT logo_name_id FROM image_labels WHERE test_image_id = @id' : ''}`;
          for (const r of this.db.prepare(labels).all({ id }) as Row[]) logos.add(Number(r.logo_name_id));
          this.db.prepare('DELETE FROM reference_logos WHERE test_image_id = ?').run(id);
          this.db.prepare('DELETE FROM test_image_logos WHERE test_image_id = ?').run(id);
          if (this.hasTable('image_labels')) this.db.prepare('DELETE FROM image_labels WHERE test_image_id = ?').run(id);
          this.db.prepare('DELETE FROM test_images WHERE id = ?').run(id);
        }
        this.db.prepare('DELETE FROM skipped WHERE source = ?').run(source);
        this.db.prepare('DELETE FROM progress WHERE source = ?').run(source);
        if (logos.size) this.pruneLogos([...logos]);
        return files;
      })(),
    );
  }

  /** Deletes those of `ids` that no row names, and categories left without logos (in forgetSource's transaction). */
  private pruneLogos(ids: number[]): void {
    const unused = ['reference_logos', 'test_image_logos', 'folder_references', 'image_labels'].filter((t) => this.hasTable(t)).map((t) => `NOT EXISTS (SELECT 1 FROM ${t} WHERE logo_name_id = logo_names.id)`);
    const del = this.db.prepare(`DELETE FROM logo_names WHERE id = ? AND ${unused.join(' AND ')}`);
    if (!ids.reduce((n, id) => n + del.run(id).changes, 0)) return;
    this.db.exec('DELETE FROM categories WHERE NOT EXISTS (SELECT 1 FROM logo_names WHERE category_id = categories.id)');
    this.logoIds.clear(); // it may hold a deleted id: names are looked up again
  }

  /** Progress keys of the (logodet3k) sources whose ground truth names logo `name`. */
  sourcesNaming(name: string): string[] {
    const sql = 'SELECT DISTINCT i.filename FROM test_images i JOIN test_image_logos g ON g.test_image_id = i.id JOIN logo_names ln ON ln.id = g.logo_name_id WHERE ln.name = ?';
    return [...new Set(this.write(() => this.db.prepare(sql).all(name) as Row[]).map((r) => sourceKeyOfImage(String(r.filename))))];
  }

  setMeta(key: string, value: string): void {
    this.write(() => this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value));
  }

  /** Sources already finished (ingested or skipped) by an earlier (possibly interrupted) run. */
  doneSources(): Map<string, { status: 'ingested' | 'skipped'; signature: string | null }> {
    // through write(): a fault here (a locked or damaged file) is one line naming the database
    const rows = this.write(() => this.db.prepare('SELECT source, status, signature FROM progress').all() as Row[]);
    return new Map(rows.map((r) => [String(r.source), { status: r.status as 'ingested' | 'skipped', signature: r.signature === null ? null : String(r.signature) }]));
  }

  /** logo names already present (any category), for collision renaming */
  logoCategory(name: string): string | undefined {
    const r = this.db.prepare('SELECT c.name AS c FROM logo_names ln JOIN categories c ON c.id = ln.category_id WHERE ln.name = ?').get(name) as Row | undefined;
    return r ? String(r.c) : undefined;
  }

  private logoId(name: string, category: string): number {
    const key = name;
    const cached = this.logoIds.get(key);
    if (cached !== undefined) return cached;
    this.db.prepare('INSERT OR IGNORE INTO categories(name) VALUES (?)').run(category);
    const cat = Number((this.db.prepare('SELECT id FROM categories WHERE name = ?').get(category) as Row).id);
    this.db.prepare('INSERT OR IGNORE INTO logo_names(name, category_id) VALUES (?, ?)').run(name, cat);
    const id = Number((this.db.prepare('SELECT id FROM logo_names WHERE name = ?').get(name) as Row).id);
    this.logoIds.set(key, id);
    return id;
  }

  /**
   * Records one finished source: its image + objects (or null when the whole source was skipped),
   * its per-object/per-file skips, and the progress mark — all in ONE transaction.
   */
  recordSource(source: string, image: ImageRecord | null, skips: SkippedRow[], signature: string | null = null): void {
    this.write(() => this.recordSourceTx(source, image, skips, signature));
  }

  private recordSourceTx(source: string, image: ImageRecord | null, skips: SkippedRow[], signature: string | null): void {
    const tx = this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM progress WHERE source = ?').get(source)) return;
      for (const s of skips) this.db.prepare('INSERT INTO skipped(source, object_index, kind, detail) VALUES (?, ?, ?, ?)').run(s.source, s.objectIndex, s.kind, s.detail);
      let kind: string | null = null;
      if (image) {
        const info = this.db
          .prepare('INSERT INTO test_images(filename, source, width, height, converted, num_objects) VALUES (?, ?, ?, ?, ?, ?)')
          .run(image.filename, image.source, image.width, image.height, image.converted, image.objects.length);
        const imgId = Number(info.lastInsertRowid);
        for (const o of image.objects) {
          const lid = this.logoId(o.logoName, o.category);
          const [x0, y0, x1, y1] = o.box;
          this.db
            .prepare('INSERT INTO test_image_logos(test_image_id, logo_name_id, object_index, x0, y0, x1, y1, clipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(imgId, lid, o.objectIndex, x0, y0, x1, y1, o.clipped ? 1 : 0);
          this.db
            .prepare('INSERT INTO reference_logos(filename, logo_name_id, test_image_id, object_index, x0, y0, x1, y1, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .run(o.cropFile, lid, imgId, o.objectIndex, x0, y0, x1, y1, o.cropWidth, o.cropHeight);
        }
      } else {
        kind = skips[0]?.kind ?? null;
      }
      this.db.prepare('INSERT INTO progress(source, status, kind, signature) VALUES (?, ?, ?, ?)').run(source, image ? 'ingested' : 'skipped', kind, signature);
    });
    tx();
  }

  /**
   * Records one finished folder-layout source: a reference image ('ref:<logo>/<file>') or a test
   * image with its image-level labels ('test:<file>'), or its skips — with its progress mark, in
   * ONE transaction.
   */
  recordFolderSource(
    source: string,
    item: { kind: 'ref'; filename: string; logoName: string; source: string; width: number; height: number } | { kind: 'test'; filename: string; source: string; width: number; height: number; labels: string[] } | null,
    skips: SkippedRow[],
    signature: string,
  ): void {
    this.write(() =>
      this.db.transaction(() => {
        if (this.db.prepare('SELECT 1 FROM progress WHERE source = ?').get(source)) return;
        for (const s of skips) this.db.prepare('INSERT INTO skipped(source, object_index, kind, detail) VALUES (?, ?, ?, ?)').run(s.source, s.objectIndex, s.kind, s.detail);
        if (item?.kind === 'ref') {
          this.db.prepare('INSERT INTO folder_references(filename, logo_name_id, source, width, height) VALUES (?, ?, ?, ?, ?)').run(item.filename, this.logoId(item.logoName, FOLDER_CATEGORY), item.source, item.width, item.height);
        } else if (item?.kind === 'test') {
          const info = this.db
            .prepare('INSERT INTO test_images(filename, source, width, height, converted, num_objects) VALUES (?, ?, ?, ?, NULL, ?)')
            .run(item.filename, item.source, item.width, item.height, item.labels.length);
          for (const l of item.labels) this.db.prepare('INSERT INTO image_labels(test_image_id, logo_name_id) VALUES (?, ?)').run(Number(info.lastInsertRowid), this.logoId(l, FOLDER_CATEGORY));
        }
        this.db.prepare('INSERT INTO progress(source, status, kind, signature) VALUES (?, ?, ?, ?)').run(source, item ? 'ingested' : 'skipped', item ? null : (skips[0]?.kind ?? null), signature);
      })(),
    );
  }

  /** End of a run: marks the data dir complete, folds the WAL into the main file and leaves
   * rollback-journal mode, so the .db alone is complete and read-only openers need no -wal/-shm files. */
  finish(): void {
    this.setMeta(PREPARE_STATE, 'complete');
    this.write(() => {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('journal_mode = DELETE');
    });
  }
}
