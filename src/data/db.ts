/**
 * The prepared data directory and its SQLite database (better-sqlite3): schema, typed read API,
 * and the small write API `prepare` uses.
 *
 * Data-dir layout (names follow the reference's prepare_test_data.py where it had them):
 *
 *   <data>/
 *     test_data_mapping.db                     this database (DB_FILENAME)
 *     reference_logos/<Category>/<Brand>/<stem>_<k>.jpg
 *                                              one crop per annotated object (k = the object's
 *                                              index in the VOC XML), JPEG q95 4:4:4 of the
 *                                              decoded 8-bit RGB image, box clipped to the image
 *     test_images/<Category>/<Brand>/<stem>.<ext>
 *                                              the full source images, bytes unchanged (hard link
 *                                              when possible, else a copy)
 *
 * Every path stored in the database is relative to its folder (`reference_logos/` or
 * `test_images/`) with '/' separators; the read API also returns the absolute path.
 *
 * Tables (see SCHEMA):
 *   meta(key, value)                 schema_version, dataset path, …
 *   categories(id, name)
 *   logo_names(id, name, category_id)        the reference's table name; name is the brand folder
 *                                            (unique; a brand folder name seen in two categories
 *                                            becomes "Brand (Category)" for the second one)
 *   test_images(id, filename, source, width, height, converted, num_objects)
 *                                            converted: null | 'grayscale' | 'cmyk' | '16bit' |
 *                                            'palette' … (decodable images that needed a
 *                                            conversion to 8-bit RGB are INGESTED and counted)
 *   test_image_logos(id, test_image_id, logo_name_id, object_index, x0, y0, x1, y1, clipped)
 *                                            ground truth: one row per valid object; boxes in
 *                                            pixels, half-open [x0,x1)×[y0,y1), clipped to image
 *   reference_logos(id, filename, logo_name_id, test_image_id, object_index, x0, y0, x1, y1,
 *                   width, height)           one crop per valid object (same box as above)
 *   skipped(id, source, object_index, kind, detail)
 *                                            faults: one row per skipped file or object
 *   progress(source, status, kind, signature) one row per source image/XML processed; written in
 *                                            the same transaction as its rows so an interrupted
 *                                            run resumes exactly where it stopped; signature =
 *                                            sizes + mtimes of its files (a skipped source whose
 *                                            files changed is retried by the next run)
 *
 * A test image with no rows in test_image_logos is a negative (e.g. synth negatives).
 *
 * The Burnley folder layout (src/data/folders.ts, meta layout = 'folders'; prepare-folders.ts)
 * has no boxes: its reference images are whole logo images and its ground truth is per image.
 *   folder_references(id, filename, logo_name_id, source, width, height)
 *                                            reference images, copied/linked to reference_logos/<logo>/
 *   image_labels(test_image_id, logo_name_id)  image-level ground truth (no box)
 * A data dir holds one layout (meta 'layout', absent = logodet3k). Progress keys of the folder
 * layout are 'ref:<logo>/<file>' and 'test:<file>'.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { formatFsError, formatSqliteError } from '../io/fs-errors.js';
import { busyTimeoutMs } from '../io/sqlite.js';
import type { Box } from '../util/box.js';

export const DB_FILENAME = 'test_data_mapping.db';
export const REFERENCE_DIR = 'reference_logos';
export const TEST_IMAGES_DIR = 'test_images';
export const SCHEMA_VERSION = 1;

export const SKIP_KINDS = [
  'malformed_xml', // XML does not parse or lacks required fields → whole image skipped
  'missing_image', // XML without its image → skipped
  'missing_xml', // image without its XML → skipped
  'corrupt_image', // image does not decode → skipped
  'degenerate_box', // box empty after clipping (or non-numeric / inverted) → that object skipped
  'no_valid_objects', // every object of an annotated image was skipped → image skipped (not a negative)
  'special_file', // a FIFO, socket or device named like an image/XML → skipped (reading it would hang)
] as const;

export type DataLayout = 'logodet3k' | 'folders';
export type SkipKind = (typeof SKIP_KINDS)[number];

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS logo_names (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  category_id INTEGER NOT NULL REFERENCES categories(id)
);
CREATE TABLE IF NOT EXISTS test_images (
  id INTEGER PRIMARY KEY,
  filename TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  converted TEXT,
  num_objects INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS test_image_logos (
  id INTEGER PRIMARY KEY,
  test_image_id INTEGER NOT NULL REFERENCES test_images(id),
  logo_name_id INTEGER NOT NULL REFERENCES logo_names(id),
  object_index INTEGER NOT NULL,
  x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
  clipped INTEGER NOT NULL DEFAULT 0,
  UNIQUE (test_image_id, object_index)
);
CREATE TABLE IF NOT EXISTS reference_logos (
  id INTEGER PRIMARY KEY,
  filename TEXT NOT NULL UNIQUE,
  logo_name_id INTEGER NOT NULL REFERENCES logo_names(id),
  test_image_id INTEGER NOT NULL REFERENCES test_images(id),
  object_index INTEGER NOT NULL,
  x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  UNIQUE (test_image_id, object_index)
);
CREATE TABLE IF NOT EXISTS skipped (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  object_index INTEGER,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS progress (
  source TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  kind TEXT,
  signature TEXT
);
CREATE TABLE IF NOT EXISTS folder_references (
  id INTEGER PRIMARY KEY,
  filename TEXT NOT NULL UNIQUE,
  logo_name_id INTEGER NOT NULL REFERENCES logo_names(id),
  source TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_labels (
  test_image_id INTEGER NOT NULL REFERENCES test_images(id),
  logo_name_id INTEGER NOT NULL REFERENCES logo_names(id),
  PRIMARY KEY (test_image_id, logo_name_id)
);
CREATE INDEX IF NOT EXISTS idx_ref_logo ON reference_logos(logo_name_id);
CREATE INDEX IF NOT EXISTS idx_gt_image ON test_image_logos(test_image_id);
CREATE INDEX IF NOT EXISTS idx_gt_logo ON test_image_logos(logo_name_id);
`;

export interface LogoInfo {
  id: number;
  name: string;
  category: string;
  /** number of reference crops */
  numReferences: number;
  /** number of test images whose ground truth contains this logo */
  numImages: number;
}

export interface ReferenceCrop {
  id: number;
  logoId: number;
  logoName: string;
  category: string;
  /** relative to <data>/reference_logos */
  file: string;
  /** absolute path */
  path: string;
  /** box in the source image (folder layout: the whole reference image) */
  box: Box;
  width: number;
  height: number;
  /** the test image it was cut from; null for a folder-layout reference image */
  sourceImageId: number | null;
  objectIndex: number;
}

export interface TestImage {
  id: number;
  /** relative to <data>/test_images */
  file: string;
  path: string;
  /** path inside the source dataset */
  source: string;
  width: number;
  height: number;
  converted: string | null;
  /** number of valid ground-truth objects (0 = negative) */
  numObjects: number;
}

export interface GroundTruthObject {
  testImageId: number;
  logoId: number;
  logoName: string;
  objectIndex: number;
  /** absent for image-level labels (folder layout) */
  box?: Box;
  clipped: boolean;
}

export interface SkippedRow {
  source: string;
  objectIndex: number | null;
  kind: SkipKind;
  detail: string;
}

export interface DataStats {
  categories: number;
  logos: number;
  referenceCrops: number;
  testImages: number;
  negativeImages: number;
  groundTruthObjects: number;
  clippedBoxes: number;
  converted: Record<string, number>;
  skipped: Record<string, number>;
}

type Row = Record<string, unknown>;

/** Read API over a prepared data dir. Cheap to open; call close() when done. */
export class DataDb {
  readonly dir: string;
  readonly dbPath: string;
  readonly db: Database.Database;

  constructor(dir: string, db: Database.Database) {
    this.dir = resolve(dir);
    this.dbPath = join(this.dir, DB_FILENAME);
    this.db = db;
  }

  get referenceDir(): string {
    return join(this.dir, REFERENCE_DIR);
  }
  get testImagesDir(): string {
    return join(this.dir, TEST_IMAGES_DIR);
  }

  meta(key: string): string | undefined {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : undefined;
  }

  /** Which dataset layout was prepared into this dir. */
  layout(): DataLayout {
    return this.meta('layout') === 'folders' ? 'folders' : 'logodet3k';
  }

  /** Whether the (folder-layout) tables exist: a database written before them has neither. */
  protected hasTable(name: string): boolean {
    return !!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
  }

  /** All logos with at least one reference crop or ground-truth object, ORDER BY name. */
  listLogos(): LogoInfo[] {
    const rows = this.db
      .prepare(
        `SELECT ln.id, ln.name, c.name AS category,
           (SELECT COUNT(*) FROM reference_logos rl WHERE rl.logo_name_id = ln.id)${this.hasTable('folder_references') ? ' + (SELECT COUNT(*) FROM folder_references fr WHERE fr.logo_name_id = ln.id)' : ''} AS nref,
           (SELECT COUNT(DISTINCT g.test_image_id) FROM test_image_logos g WHERE g.logo_name_id = ln.id)${this.hasTable('image_labels') ? ' + (SELECT COUNT(*) FROM image_labels il WHERE il.logo_name_id = ln.id)' : ''} AS nimg
         FROM logo_names ln JOIN categories c ON c.id = ln.category_id
         ORDER BY ln.name`,
      )
      .all() as Row[];
    return rows.map((r) => ({ id: Number(r.id), name: String(r.name), category: String(r.category), numReferences: Number(r.nref), numImages: Number(r.nimg) }));
  }

  /** Reference crops, ORDER BY logo name then id (the reference's `_load_logo_mappings` order). */
  referenceCrops(logoId?: number): ReferenceCrop[] {
    if (this.layout() === 'folders') return this.folderReferences(logoId);
    const where = logoId === undefined ? '' : 'WHERE rl.logo_name_id = ?';
    const rows = this.db
      .prepare(
        `SELECT rl.*, ln.name AS logo_name, c.name AS category FROM reference_logos rl
         JOIN logo_names ln ON rl.logo_name_id = ln.id JOIN categories c ON c.id = ln.category_id
         ${where} ORDER BY ln.name, rl.id`,
      )
      .all(...(logoId === undefined ? [] : [logoId])) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      logoId: Number(r.logo_name_id),
      logoName: String(r.logo_name),
      category: String(r.category),
      file: String(r.filename),
      path: join(this.referenceDir, String(r.filename)),
      box: [Number(r.x0), Number(r.y0), Number(r.x1), Number(r.y1)],
      width: Number(r.width),
      height: Number(r.height),
      sourceImageId: Number(r.test_image_id),
      objectIndex: Number(r.object_index),
    }));
  }

  /** Folder-layout reference images as ReferenceCrops (the whole image is the crop). */
  private folderReferences(logoId?: number): ReferenceCrop[] {
    const where = logoId === undefined ? '' : 'WHERE fr.logo_name_id = ?';
    const rows = this.db
      .prepare(
        `SELECT fr.*, ln.name AS logo_name, c.name AS category FROM folder_references fr
         JOIN logo_names ln ON fr.logo_name_id = ln.id JOIN categories c ON c.id = ln.category_id
         ${where} ORDER BY ln.name, fr.id`,
      )
      .all(...(logoId === undefined ? [] : [logoId])) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      logoId: Number(r.logo_name_id),
      logoName: String(r.logo_name),
      category: String(r.category),
      file: String(r.filename),
      path: join(this.referenceDir, String(r.filename)),
      box: [0, 0, Number(r.width), Number(r.height)],
      width: Number(r.width),
      height: Number(r.height),
      sourceImageId: null,
      objectIndex: 0,
    }));
  }

  /** Image-level labels (folder layout) of one image or all images, as box-less ground truth. */
  private imageLabels(imageId?: number): GroundTruthObject[] {
    if (!this.hasTable('image_labels')) return [];
    const rows = this.db
      .prepare(
        `SELECT il.test_image_id, il.logo_name_id, ln.name AS logo_name FROM image_labels il JOIN logo_names ln ON ln.id = il.logo_name_id
         ${imageId === undefined ? '' : 'WHERE il.test_image_id = ?'} ORDER BY il.test_image_id, ln.name`,
      )
      .all(...(imageId === undefined ? [] : [imageId])) as Row[];
    return rows.map((r, i) => ({ testImageId: Number(r.test_image_id), logoId: Number(r.logo_name_id), logoName: String(r.logo_name), objectIndex: i, clipped: false }));
  }

  /** logo name → absolute crop paths, names in ORDER BY name — what splits.ts takes. */
  logoToImages(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const c of this.referenceCrops()) {
      let a = m.get(c.logoName);
      if (!a) m.set(c.logoName, (a = []));
      a.push(c.path);
    }
    return m;
  }

  testImages(): TestImage[] {
    const rows = this.db.prepare('SELECT * FROM test_images ORDER BY id').all() as Row[];
    return rows.map((r) => this.toTestImage(r));
  }

  testImage(id: number): TestImage {
    const r = this.db.prepare('SELECT * FROM test_images WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new LogolabError(`${this.dbPath}: no test image with id ${id}`);
    return this.toTestImage(r);
  }

  /** Ground-truth objects of one image (empty for a negative), ORDER BY object_index. */
  groundTruth(imageId: number): GroundTruthObject[] {
    const rows = this.db
      .prepare(
        `SELECT g.*, ln.name AS logo_name FROM test_image_logos g JOIN logo_names ln ON ln.id = g.logo_name_id
         WHERE g.test_image_id = ? ORDER BY g.object_index`,
      )
      .all(imageId) as Row[];
    return [...rows.map(toGt), ...this.imageLabels(imageId)];
  }

  /** Ground truth of every image in one query: image id → objects (negatives map to []). */
  groundTruthAll(): Map<number, GroundTruthObject[]> {
    const m = new Map<number, GroundTruthObject[]>();
    for (const r of this.db.prepare('SELECT id FROM test_images ORDER BY id').all() as Row[]) m.set(Number(r.id), []);
    const rows = this.db
      .prepare(
        `SELECT g.*, ln.name AS logo_name FROM test_image_logos g JOIN logo_names ln ON ln.id = g.logo_name_id
         ORDER BY g.test_image_id, g.object_index`,
      )
      .all() as Row[];
    for (const r of rows) m.get(Number(r.test_image_id))!.push(toGt(r));
    for (const g of this.imageLabels()) m.get(g.testImageId)?.push(g);
    return m;
  }

  /** Set of logo names present in an image (the image-level ground truth the reference scored). */
  expectedLogos(imageId: number): Set<string> {
    return new Set(this.groundTruth(imageId).map((g) => g.logoName));
  }

  skipped(): SkippedRow[] {
    const rows = this.db.prepare('SELECT * FROM skipped ORDER BY id').all() as Row[];
    return rows.map((r) => ({ source: String(r.source), objectIndex: r.object_index === null ? null : Number(r.object_index), kind: r.kind as SkipKind, detail: String(r.detail) }));
  }

  stats(): DataStats {
    const one = (sql: string) => Number((this.db.prepare(sql).get() as Row).n);
    const converted: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT converted AS k, COUNT(*) AS n FROM test_images WHERE converted IS NOT NULL GROUP BY converted ORDER BY converted').all() as Row[]) converted[String(r.k)] = Number(r.n);
    const skipped: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT kind AS k, COUNT(*) AS n FROM skipped GROUP BY kind ORDER BY kind').all() as Row[]) skipped[String(r.k)] = Number(r.n);
    const folders = this.hasTable('folder_references');
    return {
      categories: one('SELECT COUNT(*) AS n FROM categories'),
      logos: one('SELECT COUNT(*) AS n FROM logo_names'),
      referenceCrops: one('SELECT COUNT(*) AS n FROM reference_logos') + (folders ? one('SELECT COUNT(*) AS n FROM folder_references') : 0),
      testImages: one('SELECT COUNT(*) AS n FROM test_images'),
      negativeImages: one('SELECT COUNT(*) AS n FROM test_images WHERE num_objects = 0'),
      groundTruthObjects: one('SELECT COUNT(*) AS n FROM test_image_logos') + (this.hasTable('image_labels') ? one('SELECT COUNT(*) AS n FROM image_labels') : 0),
      clippedBoxes: one('SELECT COUNT(*) AS n FROM test_image_logos WHERE clipped = 1'),
      converted,
      skipped,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private toTestImage(r: Row): TestImage {
    return {
      id: Number(r.id),
      file: String(r.filename),
      path: join(this.testImagesDir, String(r.filename)),
      source: String(r.source),
      width: Number(r.width),
      height: Number(r.height),
      converted: r.converted === null ? null : String(r.converted),
      numObjects: Number(r.num_objects),
    };
  }
}

function toGt(r: Row): GroundTruthObject {
  return {
    testImageId: Number(r.test_image_id),
    logoId: Number(r.logo_name_id),
    logoName: String(r.logo_name),
    objectIndex: Number(r.object_index),
    box: [Number(r.x0), Number(r.y0), Number(r.x1), Number(r.y1)],
    clipped: Number(r.clipped) === 1,
  };
}

/** Opens a prepared data dir read-only. Errors name the missing file. */
export function openDataDb(dir: string): DataDb {
  const p = join(resolve(dir), DB_FILENAME);
  if (!existsSync(p)) throw new LogolabError(`${p}: no prepared database (run \`logolab prepare\` or \`logolab synth\` + \`prepare\` first)`);
  let db: Database.Database;
  try {
    db = new Database(p, { readonly: true, fileMustExist: true });
    const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined;
    if (!v) throw new Error('no schema_version in meta');
    if (Number(v.value) !== SCHEMA_VERSION) throw new Error(`schema_version ${String(v.value)}, this logolab reads ${SCHEMA_VERSION}`);
  } catch (e) {
    throw new LogolabError(`${p}: not a logolab data database (${(e as Error).message})`);
  }
  return new DataDb(dir, db);
}

// ---------------------------------------------------------------------------------------------
// Write side (used by prepare.ts; kept here so the schema has one owner).

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
  const line = formatSqliteError(e, path) ?? formatFsError(e);
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
    mkdirSync(join(d, REFERENCE_DIR), { recursive: true });
    mkdirSync(join(d, TEST_IMAGES_DIR), { recursive: true });
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
  static openFor(dir: string, layout: DataLayout): DataDbWriter {
    const path = join(resolve(dir), DB_FILENAME);
    if (existsSync(path)) {
      let had: DataLayout | null = null;
      try {
        const ro = new DataDb(dir, new Database(path, { readonly: true, fileMustExist: true }));
        try {
          had = ro.meta('layout') === 'folders' ? 'folders' : ro.db.prepare('SELECT 1 FROM test_images LIMIT 1').get() ? 'logodet3k' : null;
        } finally {
          ro.close();
        }
      } catch (e) {
        throw dbError(e, path);
      }
      if (had && had !== layout) throw new LogolabError(`--out ${dir}: holds a ${had}-layout data dir; prepare the ${layout}-layout dataset into another folder`);
    }
    const w = DataDbWriter.open(dir);
    w.setMeta('layout', layout);
    return w;
  }

  /** Runs a write, reporting SQLite faults (full disk, locked, read-only) as one line naming the database. */
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
   * the caller removes.
   */
  forgetSource(source: string): string[] {
    return this.write(() =>
      this.db.transaction(() => {
        const files: string[] = [];
        let imageIds: number[] = [];
        if (source.startsWith('ref:')) {
          const f = source.slice(4);
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
          this.db.prepare('DELETE FROM reference_logos WHERE test_image_id = ?').run(id);
          this.db.prepare('DELETE FROM test_image_logos WHERE test_image_id = ?').run(id);
          if (this.hasTable('image_labels')) this.db.prepare('DELETE FROM image_labels WHERE test_image_id = ?').run(id);
          this.db.prepare('DELETE FROM test_images WHERE id = ?').run(id);
        }
        this.db.prepare('DELETE FROM skipped WHERE source = ?').run(source);
        this.db.prepare('DELETE FROM progress WHERE source = ?').run(source);
        return files;
      })(),
    );
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Sources already finished (ingested or skipped) by an earlier (possibly interrupted) run. */
  doneSources(): Map<string, { status: 'ingested' | 'skipped'; signature: string | null }> {
    const rows = this.db.prepare('SELECT source, status, signature FROM progress').all() as Row[];
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

  /** End of a run: fold the WAL into the main file and leave rollback-journal mode, so the .db
   * alone is complete and read-only openers need no -wal/-shm files. */
  finish(): void {
    this.write(() => {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('journal_mode = DELETE');
    });
  }
}
