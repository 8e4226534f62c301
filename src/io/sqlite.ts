/** Settings shared by logolab's SQLite databases (the prepared data dir, the embedding cache). */
import { LogolabError } from '../errors.js';

const DEFAULT_BUSY_TIMEOUT_MS = 30000;
// SQLite's busy_timeout is a C int: a larger value would wrap around
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Why $LOGOLAB_DB_BUSY_TIMEOUT_MS is unusable, or null (unset or empty: the default). Checked by
 * the CLI at start, like $LOGOLAB_LOG_LEVEL: a typo used to fall back to 30 s without a word, and
 * Number('') = 0 turned an empty value into no waiting at all.
 */
export function envBusyTimeoutError(): string | null {
  const v = process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS;
  if (v === undefined || v === '') return null;
  // digits only: Number() would also take '1e3', '0x10' and ' 5 '
  if (/^\d+$/.test(v) && Number(v) <= MAX_BUSY_TIMEOUT_MS) return null;
  return `LOGOLAB_DB_BUSY_TIMEOUT_MS: expected a whole number of milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS}, got '${v}'`;
}

/**
 * How long a database locked by another process is waited for before SQLITE_BUSY:
 * $LOGOLAB_DB_BUSY_TIMEOUT_MS, default 30 s (two runs may share a cache or a data dir).
 */
export function busyTimeoutMs(): number {
  const bad = envBusyTimeoutError();
  if (bad) throw new LogolabError(bad);
  const v = process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS;
  return v === undefined || v === '' ? DEFAULT_BUSY_TIMEOUT_MS : Number(v);
}
