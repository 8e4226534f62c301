/** Runs the CLI in-process (main(argv)), capturing stdout/stderr: fast, no tfjs reload per call. */
import assert from 'node:assert/strict';
import { main } from '../../cli/main.js';

export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // Only string writes are the CLI's; node's test runner reports to the parent through binary
  // writes on stdout, which must pass through untouched.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? ((stdout += c), true) : (ow as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? ((stderr += c), true) : (ew as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stderr.write;
  const prevExit = process.exitCode;
  // main() reads process.exitCode (a command may set 130/143); the test runner sets it to 1 once a
  // test has failed, which must not leak into the next command's exit code
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = prevExit;
  }
}

/** The failure is one `logolab: error:` (or usage error) line matching `message`, exit `code`, no stack. */
export function expectFailure(r: { code: number; stderr: string }, code: number, message: RegExp): string {
  const lines = r.stderr.split('\n').filter((l) => /^logolab: /.test(l));
  assert.equal(r.code, code, `exit code ${r.code}, expected ${code}; stderr:\n${r.stderr}`);
  assert.equal(lines.length, 1, `expected exactly one 'logolab:' line, got ${lines.length}; stderr:\n${r.stderr}`);
  const line = lines[0]!;
  assert.match(line, /^logolab: (usage )?error: /, `not an error line: ${line}`);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace on stderr:\n${r.stderr}`);
  assert.doesNotMatch(line, /internal error/);
  assert.match(line, message, `message does not match ${message}: ${line}`);
  return line;
}
