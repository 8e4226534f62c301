/**
 * CLI entry. Each sub-command lives in cli/commands/<name>.ts and exports `command`
 * (a yargs CommandModule); they are discovered from that folder so adding one touches no
 * shared file. Only the CLI ties `src/` and `training/` together.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { LogolabError, UsageError, firstLine } from '../src/errors.js';
import { describeCode, formatFsError, sqliteCode } from '../src/io/fs-errors.js';
import { BACKEND_CHOICES } from '../src/backend/index.js';
import { envLogLevel, envLogLevelError, LOG_LEVELS, setLogLevel, type LogLevel } from '../src/util/log.js';
import { envBusyTimeoutError } from '../src/io/sqlite.js';
import { checkOptionForms, type DeclaredOptions } from './option-forms.js';
import { yargsMessageLine } from './options.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

async function loadCommands(): Promise<CommandModule[]> {
  const files = readdirSync(commandsDir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_')).sort();
  const mods: CommandModule[] = [];
  for (const f of files) {
    const m = (await import(pathToFileURL(join(commandsDir, f)).href)) as { command?: CommandModule };
    if (m.command) mods.push(m.command);
  }
  return mods;
}

/** Why $LOGOLAB_BACKEND is unusable, or null (unset). */
function envBackendError(): string | null {
  const v = process.env.LOGOLAB_BACKEND;
  // (empty is no backend either: initBackend refuses it, so every command refuses it alike)
  return v === undefined || (BACKEND_CHOICES as readonly string[]).includes(v) ? null : `LOGOLAB_BACKEND: expected one of ${BACKEND_CHOICES.join(', ')}, got '${v}'`;
}

/** Adds the options every command shares. */
export function withGlobalOptions<T>(y: Argv<T>) {
  return y
    // no yargs default: without the flag $LOGOLAB_BACKEND (read by initBackend) still applies, and
    // a command that does no tensor work can tell that the flag was given (refuseBackendFlag)
    .option('backend', { type: 'string', choices: BACKEND_CHOICES as unknown as string[], describe: 'tfjs backend (default $LOGOLAB_BACKEND or auto); an error for commands that do no tensor work' })
    // no yargs default: without the flag $LOGOLAB_LOG_LEVEL (read by util/log) still applies
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'stderr verbosity, also of the logolab processes a command runs (default $LOGOLAB_LOG_LEVEL or info)' })
    .middleware((argv) => {
      // every command logs through util/log: the flag (else the env, else info) applies to all of
      // them, and to each run of main in one process alike
      const bad = envLogLevelError();
      if (bad && argv['log-level'] === undefined) throw new UsageError(bad);
      setLogLevel((argv['log-level'] as LogLevel | undefined) ?? envLogLevel());
      // the logolab processes a command starts (the demo's stages, bench train) read the level from
      // the env: the flag goes there too (main restores the env when the command ends)
      if (argv['log-level'] !== undefined) process.env.LOGOLAB_LOG_LEVEL = argv['log-level'] as string;
      // $LOGOLAB_BACKEND is set for whole sessions and stays allowed for every command, but a bad
      // value is refused by all alike (it used to fail only the commands that start a backend)
      const badBackend = envBackendError();
      if (badBackend && argv.backend === undefined) throw new UsageError(badBackend);
      // checked here, not only when a database opens: a typo used to mean 30 s without a word
      const badBusy = envBusyTimeoutError();
      if (badBusy) throw new UsageError(badBusy);
    });
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const commands = await loadCommands();
  let y = withGlobalOptions(yargs(argv).scriptName('logolab'))
    // `--data.x d` would make --data an object (internal TypeErrors); with dot-notation off it is an unknown option
    .parserConfiguration({ 'dot-notation': false })
    .strict()
    // logolab speaks English; so must yargs, whose messages .fail rewrites (yargsMessageLine)
    .locale('en')
    .demandCommand(1, 'name a command (see --help)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      // yargs wraps errors thrown while parsing (an option's coerce: a bad value) in a YError
      if (err && err.name === 'YError') throw new UsageError(yargsMessageLine(err.message));
      if (err) throw err;
      throw new UsageError(yargsMessageLine(msg));
    });
  // before validation: an option given twice must be refused before yargs' `choices` reads the array
  // (yargs passes its instance as a second argument, which its typings leave out)
  const checkForms = (a: Record<string, unknown>, yi: { getOptions(): DeclaredOptions }) => checkOptionForms(a, argv, yi.getOptions());
  y = y.middleware(checkForms as unknown as (a: Record<string, unknown>) => void, true);
  for (const c of commands) y = y.command(c);
  // the middleware puts --log-level into the env for child processes: this run's flag must not
  // become the next in-process run's default
  const envLevel = process.env.LOGOLAB_LOG_LEVEL;
  try {
    await y.parseAsync();
  } catch (e) {
    code = reportError(e);
  } finally {
    if (envLevel === undefined) delete process.env.LOGOLAB_LOG_LEVEL;
    else process.env.LOGOLAB_LOG_LEVEL = envLevel;
  }
  return process.exitCode && process.exitCode !== 0 ? Number(process.exitCode) : code;
}

/**
 * One line per expected failure: usage errors (exit 2), LogolabErrors and filesystem/database
 * faults (ENOSPC, EROFS, EACCES, a locked database …: exit 1, naming the path); a stack only for
 * a bug.
 */
function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`logolab: usage error: ${e.message}\n`);
    return 2;
  }
  if (e instanceof LogolabError) {
    process.stderr.write(`logolab: error: ${e.message}\n`);
    return 1;
  }
  const line = formatFsError(e) ?? sqliteFallbackLine(e);
  if (line) {
    process.stderr.write(`logolab: error: ${line}\n`);
    return 1;
  }
  process.stderr.write(`logolab: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

/**
 * One line for an SQLite fault that no database wrapper turned into a LogolabError: the file (a
 * data dir's statements tag their errors with it, src/data/db.ts; else it is said to be unknown
 * rather than printing a made-up name) and SQLite's own message where the code has no words of
 * its own ("no such column: signature (SQLITE_ERROR)", not a bare "SQLITE_ERROR").
 */
function sqliteFallbackLine(e: unknown): string | null {
  const code = sqliteCode(e);
  if (!code) return null;
  const file = (e as { dbPath?: unknown }).dbPath;
  const where = typeof file === 'string' && file ? file : 'an SQLite database (file not known here)';
  const words = describeCode(code);
  return `${where}: ${words !== code ? words : `${firstLine(e)} (${code})`}`;
}
