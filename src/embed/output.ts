/**
 * What `embed --out` and `merge-embeddings --out` may replace without --overwrite: a file logolab
 * wrote as embeddings. An existing file at that path is otherwise someone else's (another model's
 * model.safetensors, a user's notes.jsonl), and an atomic rename over it destroys it silently.
 * Recognised by content, not by name:
 *   .safetensors  header metadata `model_fingerprint` (embed of images or --pixels) or
 *                 `logolab_embeddings` (the exchange file of embed --data, a shard, a merge)
 *   .jsonl        a first line that is an embed record {path, embedding[, model_fingerprint, normalized]}
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { SafetensorsFile } from '../io/safetensors.js';
import type { ExistingOutput } from '../io/file-kind.js';

/** The keys of an embed .jsonl record (model_fingerprint and normalized are absent from older files). */
const RECORD_KEYS = ['path', 'model_fingerprint', 'normalized', 'embedding'];

/** The first line of a file (without its newline), read up to `max` bytes: a record of a large embedding is long. */
function firstLine(path: string, max = 8 << 20): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1 << 16, max - total));
      const n = buf.length ? readSync(fd, buf, 0, buf.length, total) : 0;
      const nl = buf.subarray(0, n).indexOf(0x0a);
      chunks.push(buf.subarray(0, nl >= 0 ? nl : n));
      total += n;
      if (nl >= 0 || n === 0) return Buffer.concat(chunks).toString('utf8');
    }
  } finally {
    closeSync(fd);
  }
}

function notEmbedRecord(line: string): string | null {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return 'its first line is not JSON';
  }
  const isRecord =
    typeof rec === 'object' &&
    rec !== null &&
    !Array.isArray(rec) &&
    Object.keys(rec).every((k) => RECORD_KEYS.includes(k)) &&
    typeof (rec as { path?: unknown }).path === 'string' &&
    Array.isArray((rec as { embedding?: unknown }).embedding) &&
    (rec as { embedding: unknown[] }).embedding.every((x) => typeof x === 'number');
  return isRecord ? null : 'its first line is not an embed record {"path", "embedding", …}';
}

function notEmbeddingsSafetensors(path: string): string | null {
  let f: SafetensorsFile;
  try {
    f = SafetensorsFile.open(path);
  } catch {
    return 'not a readable safetensors file';
  }
  try {
    const md = f.metadata;
    return typeof md.model_fingerprint === 'string' || typeof md.logolab_embeddings === 'string' ? null : 'a safetensors file without logolab embeddings metadata';
  } finally {
    f.close();
  }
}

/**
 * Why the existing regular file `path` is not a logolab embeddings output, or null when it is one.
 * An empty file is replaced: it holds nothing to lose (a `mktemp` name, a `touch`ed path).
 */
export function notEmbeddingsOutput(path: string): string | null {
  if (statSync(path).size === 0) return null;
  const ext = extname(path);
  if (ext === '.safetensors') return notEmbeddingsSafetensors(path);
  if (ext === '.jsonl') return notEmbedRecord(firstLine(path));
  return 'not a .jsonl or .safetensors file';
}

/** assertOutputFile's `existing` for embed and merge-embeddings: replace only embeddings logolab wrote, unless --overwrite. */
export function embeddingsOutput(overwrite: boolean): ExistingOutput {
  return { what: 'a logolab embeddings file', notOurs: notEmbeddingsOutput, overwrite };
}
