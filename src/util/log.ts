/** Leveled stderr logger shared by commands (results never go here: stdout/files only). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let level: LogLevel = (process.env.LOGOLAB_LOG_LEVEL as LogLevel) ?? 'info';
export function setLogLevel(l: LogLevel): void {
  level = l;
}
export function log(l: LogLevel, msg: string): void {
  if (ORDER[l] >= ORDER[level] && process.env.LOGOLAB_QUIET !== '1') process.stderr.write(`[logolab] ${l === 'info' ? '' : l + ': '}${msg}\n`);
}
