/**
 * Runs several CLI invocations in ONE process (one tsx/tfjs start) and writes each one's stdout,
 * stderr and exit code to <prefix>.out/.err/.code. Used by cli.test.ts through a child process,
 * because capturing stdout inside a node:test worker would swallow the reporter's own messages.
 * argv[2] = JSON [[prefix, [args...]], ...]
 */
import { writeFileSync } from 'node:fs';
import { main } from '../../cli/main.js';

const jobs = JSON.parse(process.argv[2]!) as [string, string[]][];
process.env.LOGOLAB_QUIET = '1';
for (const [prefix, args] of jobs) {
  let out = '';
  let err = '';
  const [ow, ew] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  let code = 1;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  writeFileSync(`${prefix}.out`, out);
  writeFileSync(`${prefix}.err`, err);
  writeFileSync(`${prefix}.code`, String(code));
  if (code !== 0) break;
}
