/**
 * A user-facing error: one line naming the file/key/field at fault. The CLI prints its message
 * alone (no stack) and exits non-zero; anything else is a bug and is printed with its stack.
 */
export class LogolabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogolabError';
  }
}

export function fail(message: string): never {
  throw new LogolabError(message);
}

/**
 * A command line that cannot be run as typed (a bad option value, conflicting options): printed as
 * `logolab: usage error: …`, exit 2, like yargs' own usage errors.
 */
export class UsageError extends LogolabError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The first line of a caught value's message (library errors often append a multi-line dump). */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg ?? String(e)).split('\n')[0] ?? '';
}

/**
 * `fn()`, with an expected error's message prefixed by `name` (the file or input it concerns):
 * steps that see only pixels (a processor, a detector) say what is wrong, their caller which image.
 */
export function namingErrors<T>(name: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (name === undefined || !(e instanceof LogolabError) || e.message.startsWith(`${name}: `)) throw e;
    throw new LogolabError(`${name}: ${e.message}`);
  }
}
