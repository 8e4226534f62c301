/**
 * `mkdir -p` that reports why it failed. Node's `mkdirSync(p, { recursive: true })` answers ENOENT
 * ("no such file or directory") when making a missing folder fails for another reason — a read-only
 * mount (EROFS), a folder without write permission (EACCES), a full disk — so the user is told a
 * folder is missing whose parent exists. On that ENOENT the missing folders are made one at a time
 * (non-recursive mkdir reports the real code), which either succeeds or throws the real error.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function mkdirp(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // the missing folders, outermost first
    const missing: string[] = [];
    for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
      missing.unshift(p);
      if (dirname(p) === p) break;
    }
    for (const m of missing) {
      try {
        mkdirSync(m);
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2; // made meanwhile by another process
      }
    }
  }
}
