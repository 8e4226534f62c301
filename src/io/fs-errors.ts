/**
 * Filesystem and database errors as the one line a user should see: the path (the target file,
 * not the temp file we were writing through) and the cause in words, e.g.
 *   /data/run/checkpoints/last.ckpt: no space left on device (ENOSPC)
 * The CLI's error reporter uses this for every errno error that escapes a command, so an expected
 * fault (full disk, read-only mount, missing permission, locked database) never prints a stack.
 */

const CAUSES: Record<string, string> = {
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory (a part of the path is a file)',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  ETXTBSY: 'file busy',
  EXDEV: 'cross-device link',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EFBIG: 'file too large',
};

const SQLITE: Record<string, string> = {
  SQLITE_BUSY: 'database is locked by another process (retry when it has finished)',
  SQLITE_LOCKED: 'database is locked (retry when the other user has finished)',
  SQLITE_READONLY: 'database is read-only (read-only file system or file)',
  SQLITE_FULL: 'no space left on device (database full)',
  SQLITE_CANTOPEN: 'cannot open the database file',
  SQLITE_CORRUPT: 'database file is corrupt',
  SQLITE_NOTADB: 'not an SQLite database',
  SQLITE_IOERR: 'input/output error',
  SQLITE_PERM: 'permission denied',
};

/**
 * `.last.ckpt.1234.5.tmp` (io/atomic's temp names, of files and of folders being built) →
 * `last.ckpt` in every path segment, so the message names the target, e.g.
 * `out/.model.1234.1.tmp/model.safetensors` → `out/model/model.safetensors`.
 */
export function targetOfTemp(path: string): string {
  return path
    .split('/')
    .map((seg) => /^\.(.+)\.\d+\.\d+\.tmp$/.exec(seg)?.[1] ?? seg)
    .join('/');
}

/** The errno code of a Node error (ENOSPC …), or null. */
export function errnoCode(e: unknown): string | null {
  const c = (e as NodeJS.ErrnoException | null)?.code;
  return typeof c === 'string' && /^E[A-Z0-9]+$/.test(c) ? c : null;
}

/** The SQLite result code of a better-sqlite3 error (SQLITE_BUSY, SQLITE_IOERR_WRITE …), or null. */
export function sqliteCode(e: unknown): string | null {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith('SQLITE_') ? c : null;
}

/** The cause in words for an errno or SQLite code. */
export function describeCode(code: string): string {
  if (CAUSES[code]) return `${CAUSES[code]} (${code})`;
  const base = Object.keys(SQLITE).find((k) => code === k || code.startsWith(k + '_'));
  if (base) return `${SQLITE[base]} (${code})`;
  return code;
}

/**
 * One line for an errno error (`path: cause (CODE)`), or null when `e` is not one. `path` overrides
 * the error's own path (errors from writeSync carry none).
 */
export function formatFsError(e: unknown, path?: string): string | null {
  const code = errnoCode(e);
  if (!code) return null;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const where = path ?? err.dest ?? err.path;
  // mkdir -p over a path whose component is a file reports EEXIST
  const cause = code === 'EEXIST' && err.syscall === 'mkdir' ? 'is a file where a folder is needed (EEXIST)' : describeCode(code);
  return where ? `${targetOfTemp(where)}: ${cause}` : `${err.syscall ? `${err.syscall}: ` : ''}${cause}`;
}

/** One line for an SQLite error on the database at `path`. */
export function formatSqliteError(e: unknown, path: string): string | null {
  const code = sqliteCode(e);
  if (!code) return null;
  return `${path}: ${describeCode(code)}`;
}
