/** Settings shared by logolab's SQLite databases (the prepared data dir, the embedding cache). */

/**
 * How long a database locked by another process is waited for before SQLITE_BUSY:
 * $LOGOLAB_DB_BUSY_TIMEOUT_MS, default 30 s (two runs may share a cache or a data dir).
 */
export function busyTimeoutMs(): number {
  const v = Number(process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS);
  return process.env.LOGOLAB_DB_BUSY_TIMEOUT_MS !== undefined && Number.isInteger(v) && v >= 0 ? v : 30000;
}
