/** Leveled stderr logger shared by commands (results never go here: stdout/files only). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];
/** $LOGOLAB_LOG_LEVEL, or info; an unknown value would silence every line (checked by the CLI: envLogLevelError) */
export function envLogLevel(): LogLevel {
  const v = process.env.LOGOLAB_LOG_LEVEL;
  return v !== undefined && v in ORDER ? (v as LogLevel) : 'info';
}
/** Why $LOGOLAB_LOG_LEVEL is unusable, or null. */
export function envLogLevelError(): string | null {
  const v = process.env.LOGOLAB_LOG_LEVEL;
  return v === undefined || v === '' || v in ORDER ? null : `LOGOLAB_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got '${v}'`;
}
let level: LogLevel = envLogLevel();
export function setLogLevel(l: LogLevel): void {
  level = l;
}
/** Whether a line of level `l` is printed now (progress lines are 'info'). */
export function logEnabled(l: LogLevel): boolean {
  return ORDER[l] >= ORDER[level] && process.env.LOGOLAB_QUIET !== '1';
}
export function log(l: LogLevel, msg: string): void {
  if (logEnabled(l)) process.stderr.write(`[logolab] ${l === 'info' ? '' : l + ': '}${msg}\n`);
}
