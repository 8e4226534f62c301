/**
 * The prepared data directory and its SQLite database (better-sqlite3): the layout, the schema and
 * the row types. The read API is src/data/db.ts; the write API only `prepare` uses is db-writer.ts.
 *
 * Data-dir layout (names follow the Python original's prepare_test_data.py where it had them):
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
 *   logo_names(id, name, category_id)        the Python original's table name; name is the brand folder
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
 *                                            content hashes of its files (sync.ts; a source whose
 *                                            files changed is re-ingested by the next run; NULL in
 *                                            a data dir from an older logolab, whose table lacked
 *                                            the column: DataDbWriter.open adds it, and those
 *                                            sources are re-ingested as changed)
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
import { join } from 'node:path';
import type { Box } from '../util/box.js';

export const DB_FILENAME = 'test_data_mapping.db';
export const REFERENCE_DIR = 'reference_logos';
export const TEST_IMAGES_DIR = 'test_images';
export const SCHEMA_VERSION = 1;

/**
 * meta key: 'running' from the start of a `prepare` until it has recorded every source, then
 * 'complete'. A data dir left 'running' (a prepare killed or failed mid-way, or still at work)
 * holds only part of its dataset and is refused by its readers (db.ts openDataDb). Absent in data
 * dirs written before it and in ones written without `prepare`.
 */
export const PREPARE_STATE = 'prepare_state';

/**
 * The files of a data dir that commands read, which no output may replace (eval --json, embed
 * --out …): the database with SQLite's side files, the crops and the test images. Other files
 * there (results a user keeps beside the data) may be rewritten.
 */
export function dataDirInputs(dir: string, what = 'data dir'): { path: string; what: string; folder?: boolean }[] {
  const db = join(dir, DB_FILENAME);
  return [
    ...['', '-wal', '-shm', '-journal'].map((s) => ({ path: db + s, what: `${what}'s database` })),
    { path: join(dir, REFERENCE_DIR), what: `${what}'s ${REFERENCE_DIR}`, folder: true },
    { path: join(dir, TEST_IMAGES_DIR), what: `${what}'s ${TEST_IMAGES_DIR}`, folder: true },
  ];
}

export const SKIP_KINDS = [
  'malformed_xml', // XML does not parse or lacks required fields → whole image skipped
  'missing_image', // XML without its image → skipped
  'missing_xml', // image without its XML → skipped
  'corrupt_image', // image does not decode → skipped
  'degenerate_box', // box empty after clipping (or non-numeric / inverted) → that object skipped
  'no_valid_objects', // every object of an annotated image was skipped → image skipped (not a negative)
  'size_mismatch', // the XML's <size> is neither the image's size nor its stored (pre-EXIF-rotation) size → skipped
  'special_file', // a FIFO, socket or device named like an image/XML → skipped (reading it would hang)
  'duplicate_object', // an object repeating an earlier one of its XML (same logo, same box) → that copy skipped
  'image_too_large', // an image over the decoder's pixel limit → skipped
  'duplicate_image', // the same image bytes as an earlier source (a copy) → the copy skipped, so a split cannot put one photo on both sides
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
-- a re-run forgets a changed source's skipped rows by source: without it, each forget scans the table
CREATE INDEX IF NOT EXISTS idx_skipped_source ON skipped(source);
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

/** A result row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;
