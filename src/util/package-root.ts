/**
 * The logolab package's own folder (the one holding its package.json), for the files that ship
 * beside the code: the native addon, the selftest fixtures, the benchmark scripts. Found by walking
 * up from this module, so it is the same from the sources (src/util/) and from the build
 * (dist/src/util/), in a checkout and under node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogolabError } from '../errors.js';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: unknown }).name === 'logolab') return dir;
      } catch {
        // an unreadable package.json on the way up is not ours
      }
    }
    if (dirname(dir) === dir) throw new Error(`logolab: no package.json named "logolab" above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the logolab package: packagePath('native', 'build') */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

/**
 * `node --import <this>` for child processes that run TypeScript sources (benchmarks): tsx resolved
 * from this package, so the child starts from any working directory (a bare `--import tsx` is
 * resolved from the cwd). Resolved when asked for: the library itself never needs tsx.
 */
export function tsxImport(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    throw new LogolabError('this command runs TypeScript sources and needs the tsx package, which is not installed beside logolab (npm install tsx)');
  }
}
