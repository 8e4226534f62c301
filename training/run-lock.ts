/**
 * One training process per checkpoint_dir: two runs writing last.ckpt/best.ckpt into the same
 * folder would interleave their checkpoints silently. `train` holds `<checkpoint_dir>/.lock`
 * (the pid) while it runs; a lock whose process is gone (a killed run) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { log } from '../src/util/log.js';
import { processAlive } from '../src/util/process.js';

export const LOCK_FILE = '.lock';


/** Takes the lock of `dir` (which must exist); returns its release. */
export function acquireRunLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx'); // fails if it exists: no two runs can both take it
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      const release = () => {
        process.off('exit', release);
        try {
          if (Number(readFileSync(path, 'utf8')) === process.pid) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', release); // also on process.exit (a second Ctrl-C)
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // removed meanwhile: retry
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
        throw new LogolabError(`checkpoint_dir ${dir}: in use by another training run (process ${pid}); wait for it, or use another checkpoint_dir`);
      log('warn', `checkpoint_dir ${dir}: removing the lock of a run that is no longer running (process ${Number.isNaN(pid) ? '?' : pid})`);
      rmSync(path, { force: true });
    }
  }
  throw new LogolabError(`checkpoint_dir ${dir}: cannot take ${path}`);
}
