/** Read API over a prepared data dir (schema and row types: db-schema.ts; writing: db-writer.ts). */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError, firstLine } from '../errors.js';
import { describeCode, sqliteCode } from '../io/fs-errors.js';
import { busyTimeoutMs } from '../io/sqlite.js';
import { DB_FILENAME, PREPARE_STATE, REFERENCE_DIR, SCHEMA_VERSION, TEST_IMAGES_DIR, type DataLayout, type DataStats, type GroundTruthObject, type LogoInfo, type ReferenceCrop, type Row, type SkipKind, type SkippedRow, type TestImage } from './db-schema.js';

/** Read API over a prepared data dir. Cheap to open; call close() when done. */
export class DataDb {
  readonly dir: string;
  readonly dbPath: string;
  readonly db: Database.Database;

  constructor(dir: string, db: Database.Database) {
    this.dir = resolve(dir);
    this.dbPath = join(this.dir, DB_FILENAME);
    this.db = db;
    tagErrorsWithPath(db, this.dbPath);
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

  /** Reference crops, ORDER BY logo name then id (the Python original's `_load_logo_mappings` order). */
  referenceCrops(logoId?: number): ReferenceCrop[] {
    // the folder layout's reference images are whole logo images: the whole image is the crop
    const folders = this.layout() === 'folders';
    const where = logoId === undefined ? '' : 'WHERE r.logo_name_id = ?';
    const rows = this.db
      .prepare(
        `SELECT r.*, ln.name AS logo_name, c.name AS category FROM ${folders ? 'folder_references' : 'reference_logos'} r
         JOIN logo_names ln ON r.logo_name_id = ln.id JOIN categories c ON c.id = ln.category_id
         ${where} ORDER BY ln.name, r.id`,
      )
      .all(...(logoId === undefined ? [] : [logoId])) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      logoId: Number(r.logo_name_id),
      logoName: String(r.logo_name),
      category: String(r.category),
      file: String(r.filename),
      path: join(this.referenceDir, String(r.filename)),
      box: folders ? [0, 0, Number(r.width), Number(r.height)] : [Number(r.x0), Number(r.y0), Number(r.x1), Number(r.y1)],
      width: Number(r.width),
      height: Number(r.height),
      sourceImageId: folders ? null : Number(r.test_image_id),
      objectIndex: folders ? 0 : Number(r.object_index),
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

/**
 * One line for an SQLite fault on the database at `path`, or null when `e` is none: the cause in
 * words where fs-errors has them, else SQLite's own message — SQLITE_ERROR alone says nothing
 * ("no such column: signature" does).
 */
export function sqliteErrorLine(e: unknown, path: string): string | null {
  const code = sqliteCode(e);
  if (!code) return null;
  const words = describeCode(code);
  return `${path}: ${words !== code ? words : `${firstLine(e)} (${code})`}`;
}

/**
 * Marks the SQLite errors of `db`'s statements with the database's file (`dbPath`): better-sqlite3's
 * errors name none, and one that escapes to the CLI's last-resort reporter (a lock outlasting the
 * busy timeout mid-eval, a damaged page) should still name the file, not "a database".
 */
function tagErrorsWithPath(db: Database.Database, path: string): void {
  const tagged = <A extends unknown[], R>(call: (...a: A) => R) => (...a: A): R => {
    try {
      return call(...a);
    } catch (e) {
      if (sqliteCode(e) && e instanceof Error) (e as Error & { dbPath?: string }).dbPath ??= path;
      throw e;
    }
  };
  // compiling a statement fails too (a table or column the file lacks)
  const prepare = tagged(db.prepare.bind(db) as (sql: string) => Database.Statement);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    for (const m of ['run', 'get', 'all'] as const) (st as unknown as Record<string, unknown>)[m] = tagged(st[m].bind(st) as (...a: unknown[]) => unknown);
    return st;
  }) as typeof db.prepare;
}

// faults of access, not of content: the file may well be a logolab data database
const ACCESS_FAULT = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|PERM|NOMEM)/;

/** Opens a prepared data dir read-only. Errors name the missing file. */
export function openDataDb(dir: string): DataDb {
  const p = join(resolve(dir), DB_FILENAME);
  if (!existsSync(p)) throw new LogolabError(`${p}: no prepared database (run \`logolab prepare\` or \`logolab synth\` + \`prepare\` first)`);
  // before opening: a bad $LOGOLAB_DB_BUSY_TIMEOUT_MS is its own error, not a fault of the file
  const busyMs = busyTimeoutMs();
  let db: Database.Database | null = null;
  let state: Row | undefined;
  let done = 0;
  try {
    db = new Database(p, { readonly: true, fileMustExist: true });
    // a prepare writing this dir holds its lock for a while: wait as long as for logolab's other
    // databases (better-sqlite3's own default is 5 s, whatever the env says)
    db.pragma(`busy_timeout = ${busyMs}`);
    const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined;
    if (!v) throw new Error('no schema_version in meta');
    if (Number(v.value) !== SCHEMA_VERSION) throw new Error(`schema_version ${String(v.value)}, this logolab reads ${SCHEMA_VERSION}`);
    state = db.prepare('SELECT value FROM meta WHERE key = ?').get(PREPARE_STATE) as Row | undefined;
    if (state?.value === 'running') done = Number((db.prepare('SELECT COUNT(*) AS n FROM progress').get() as Row).n);
  } catch (e) {
    db?.close();
    const code = sqliteCode(e);
    // a locked or unreadable file is reported as such: "not a logolab data database" would send
    // the user after the wrong cause
    if (code && ACCESS_FAULT.test(code)) {
      const hint = /^SQLITE_(BUSY|LOCKED)/.test(code) ? `; waited ${busyMs} ms (LOGOLAB_DB_BUSY_TIMEOUT_MS)` : '';
      throw new LogolabError(`${sqliteErrorLine(e, p)!}${hint}`);
    }
    throw new LogolabError(`${p}: not a logolab data database (${firstLine(e)})`);
  }
  // a part of the dataset, evaluated or trained on as if it were all of it: wrong numbers, silently
  if (state?.value === 'running') {
    db.close();
    throw new LogolabError(`${resolve(dir)}: an unfinished \`logolab prepare\` (killed or failed mid-way, or still running; ${done} sources recorded): run prepare again with the same --dataset to finish it`);
  }
  return new DataDb(dir, db);
}

/** The data dir's reference crops grouped by logo name (in the database's order). */
export function referenceCropsByLogo(dir: string): Map<string, ReferenceCrop[]> {
  const db = openDataDb(dir);
  let crops: ReferenceCrop[];
  try {
    crops = db.referenceCrops();
  } finally {
    db.close?.();
  }
  const byLogo = new Map<string, ReferenceCrop[]>();
  for (const c of crops) {
    const a = byLogo.get(c.logoName);
    if (a) a.push(c);
    else byLogo.set(c.logoName, [c]);
  }
  return byLogo;
}
