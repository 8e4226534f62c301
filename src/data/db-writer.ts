/** The write side of a prepared data dir, used only by `prepare` (schema: db-schema.ts; opening and its checks: db-writer-open.ts). */
import { join, resolve } from 'node:path';
import type { Box } from '../util/box.js';
import { DataDb } from './db.js';
import { DB_FILENAME, PREPARE_STATE, REFERENCE_DIR, TEST_IMAGES_DIR, type DataLayout, type Row, type SkippedRow } from './db-schema.js';
import { checkDataDirFor, dbError, openWritableDb } from './db-writer-open.js';
import { mkdirp } from '../io/mkdirp.js';

/** Category of the logos of a folder-layout data dir (that layout has no categories). */
export const FOLDER_CATEGORY = 'folders';

/** The progress key of a logodet3k test image: '<Category>/<Brand>/<stem>' of '<Category>/<Brand>/<stem>.<ext>'. */
export function sourceKeyOfImage(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > filename.lastIndexOf('/') ? filename.slice(0, dot) : filename;
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
    return new DataDbWriter(d, openWritableDb(path));
  }

  /**
   * Opens `dir` for writing data of `layout`: a dir that holds the other layout is refused before
   * anything in it is touched.
   */
  static openFor(dir: string, layout: DataLayout, source?: { dataset: string; replaceDataset?: boolean }): DataDbWriter {
    checkDataDirFor(dir, layout, source);
    const w = DataDbWriter.open(dir);
    w.setMeta('layout', layout);
    w.unfinishedBefore = w.meta(PREPARE_STATE) === 'running';
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

  /**
   * True when openFor found the data dir left unfinished by an earlier prepare (killed or failed):
   * a run that covers only part of the dataset (--limit-brands) cannot finish it.
   */
  unfinishedBefore = false;

  /** End of a run: marks the data dir complete (or leaves it unfinished: `complete` false), folds
   * the WAL into the main file and leaves rollback-journal mode, so the .db alone is complete and
   * read-only openers need no -wal/-shm files. */
  finish(complete = true): void {
    if (complete) this.setMeta(PREPARE_STATE, 'complete');
    this.write(() => {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('journal_mode = DELETE');
    });
  }
}
