/**
 * Numeric command-line options that check their value as typed. yargs' `type: 'number'` turns
 * `-t abc` into NaN before any check could quote it, and accepts `-t 2` for a cosine threshold;
 * these options are parsed here instead, and a bad value is a usage error quoting it:
 *   logolab: usage error: -t/--threshold: 'abc' is not a number
 *   logolab: usage error: --threshold: '2' is out of range: a cosine similarity threshold lies in [-1, 1]
 */
import type { Options } from 'yargs';
import { UsageError } from '../src/errors.js';
import { DECIMAL_TEXT } from '../src/util/finite.js';

export interface NumberSpec {
  describe?: string;
  default?: number;
  alias?: string;
  /** integers only */
  int?: boolean;
  /** inclusive bounds */
  min?: number;
  max?: number;
  /** exclusive lower bound */
  gt?: number;
  /** exclusive upper bound */
  lt?: number;
  /** why the range is what it is (ends the out-of-range message) */
  why?: string;
}

function rangeText(s: NumberSpec): string {
  if (s.min !== undefined && s.lt !== undefined) return `[${s.min}, ${s.lt})`;
  if (s.lt !== undefined) return `< ${s.lt}`;
  if (s.min !== undefined && s.max !== undefined) return `[${s.min}, ${s.max}]`;
  if (s.gt !== undefined) return `> ${s.gt}`;
  if (s.min !== undefined) return `≥ ${s.min}`;
  if (s.max !== undefined) return `≤ ${s.max}`;
  return 'any';
}

/** Parses one value given for `--name` (a string as typed, or a number from a default/config). */
export function parseNumberOption(name: string, raw: unknown, s: NumberSpec): number {
  const label = s.alias ? `-${s.alias}/--${name}` : `--${name}`;
  if (Array.isArray(raw)) throw new UsageError(`${label}: given more than once (${raw.map((v) => `'${String(v)}'`).join(', ')})`);
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (text === '') throw new UsageError(`${label}: needs a value`);
  // Number('') = 0 and Number('0x10') = 16: accept plain decimal notation only
  if (typeof raw === 'string' && !DECIMAL_TEXT.test(text)) throw new UsageError(`${label}: '${String(raw)}' is not a number`);
  const v = Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`${label}: '${String(raw)}' is not a number`);
  if (s.int && !Number.isInteger(v)) throw new UsageError(`${label}: '${String(raw)}' is not an integer`);
  // 9007199254740993 reads as …992: a seed would silently become another
  if (s.int && !Number.isSafeInteger(v)) throw new UsageError(`${label}: '${String(raw)}' is beyond the integers a double holds exactly (±${Number.MAX_SAFE_INTEGER})`);
  const out = (s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max) || (s.gt !== undefined && !(v > s.gt)) || (s.lt !== undefined && !(v < s.lt));
  if (out) throw new UsageError(`${label}: '${String(raw)}' is out of range: ${s.why ?? `must be ${s.int ? 'an integer ' : ''}${rangeText(s)}`}`);
  return v;
}

/** A yargs option (parsed as a string, checked by parseNumberOption) whose value is a number. */
export function numberOption(name: string, s: NumberSpec): Options {
  const range = s.min !== undefined || s.max !== undefined || s.gt !== undefined || s.lt !== undefined ? ` (${s.int ? 'integer ' : ''}${rangeText(s)})` : s.int ? ' (integer)' : '';
  return {
    type: 'string',
    ...(s.alias ? { alias: s.alias } : {}),
    ...(s.default !== undefined ? { default: s.default } : {}),
    describe: `${s.describe ?? ''}${range}`.trim(),
    coerce: (raw: unknown) => (raw === undefined ? undefined : parseNumberOption(name, raw, s)),
  };
}

/** Specs shared by several commands. */
export const COUNT = (describe: string, def?: number): NumberSpec => ({ describe, default: def, int: true, min: 0 });
export const POSITIVE_INT = (describe: string, def?: number): NumberSpec => ({ describe, default: def, int: true, min: 1 });
export const UNIT = (describe: string, def?: number): NumberSpec => ({ describe, default: def, min: 0, max: 1 });

/**
 * For a command (or a mode of one) that does no tensor work: a --backend given on the command
 * line would be ignored, so it is a usage error naming the command. ($LOGOLAB_BACKEND is not:
 * it is set for a whole session, not for this command.)
 */
export function refuseBackendFlag(argv: Record<string, unknown>, command: string, why: string): void {
  if (argv.backend !== undefined) throw new UsageError(`--backend: \`logolab ${command}\` ${why}; leave the flag out`);
}

/**
 * A comma-separated list option (bench's --backends, --embed-batches …), checked before anything
 * runs: every item one of `allowed` (or, with `int`, an integer ≥ 1 as typed), none empty, none
 * twice. The benchmark scripts read such lists themselves, after minutes of other cells, or not at
 * all: `--backends foo` gave a table of error cells and exit 0, `--recompute maybe` ran as off.
 */
export function checkListOption(name: string, raw: unknown, spec: { allowed?: readonly string[]; int?: boolean }): string[] {
  if (raw === undefined) return [];
  const items = String(raw).split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${name}: '${String(raw)}' has an empty item; give a comma-separated list`);
  for (const s of items) {
    if (spec.allowed && !spec.allowed.includes(s)) throw new UsageError(`--${name}: '${s}' is not one of ${spec.allowed.join(', ')}`);
    if (spec.int && !(DECIMAL_TEXT.test(s) && Number.isInteger(Number(s)) && Number(s) >= 1)) throw new UsageError(`--${name}: '${s}' is not an integer ≥ 1`);
  }
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) throw new UsageError(`--${name}: '${twice}' is listed twice`);
  return items;
}

/** A JSON string, or a bare number or boolean: one item of the value lists in yargs' `choices` message. */
const CHOICE_ITEM = /"(?:[^"\\]|\\.)*"|[^,"]+/y;

/** Reads the ', '-separated JSON items at `at` up to `stop` (or the end); null when the text is not such a list. */
function choiceList(s: string, at: number, stop: string | null): { values: string[]; end: number } | null {
  const values: string[] = [];
  for (;;) {
    CHOICE_ITEM.lastIndex = at;
    const m = CHOICE_ITEM.exec(s);
    if (!m) return null;
    values.push(m[0].startsWith('"') ? (JSON.parse(m[0]) as string) : m[0]);
    at = CHOICE_ITEM.lastIndex;
    if (stop !== null && s.startsWith(stop, at)) return { values, end: at };
    if (at === s.length) return stop === null ? { values, end: at } : null;
    if (!s.startsWith(', ', at)) return null;
    at += 2;
  }
}

/** `  Argument: dtype, Given: "bfloat16", Choices: "float32", "float16"` → `--dtype: 'bfloat16' is not one of float32, float16`. */
function choiceLine(line: string): string | null {
  const head = /^\s*Argument: (.+?), Given: /.exec(line);
  if (!head) return null;
  const given = choiceList(line, head[0].length, ', Choices: ');
  if (!given) return null;
  const choices = choiceList(line, given.end + ', Choices: '.length, null);
  if (!choices) return null;
  const flag = `${head[1]!.length === 1 ? '-' : '--'}${head[1]}`;
  // a control character (a newline typed into a quoted value) is shown escaped: the message stays one line
  const shown = (v: string) => [...v].map((c) => (c < ' ' ? JSON.stringify(c).slice(1, -1) : c)).join('');
  const values = given.values.map((v) => `'${shown(v)}'`).join(', ');
  return `${flag}: ${values} ${given.values.length === 1 ? 'is' : 'are'} not one of ${choices.values.join(', ')}`;
}

/**
 * A yargs validation message as one line, for the one `logolab: usage error:` line. A `choices`
 * failure reads "Invalid values:" followed by one indented line per option, so the logolab line
 * named neither the flag nor the value: it becomes `--dtype: 'bfloat16' is not one of float32,
 * float16` (several options joined by '; '). Other messages that go on over lines (a required
 * option's own text, "Missing dependent arguments:" of implies) are joined with spaces.
 */
export function yargsMessageLine(msg: string): string {
  const lines = msg.split('\n');
  if (lines[0]!.trim() === 'Invalid values:' && lines.length > 1) {
    const parts = lines.slice(1).filter((l) => l.trim() !== '').map(choiceLine);
    if (parts.length && parts.every((p) => p !== null)) return parts.join('; ');
  }
  return msg.trim().replace(/\s*\n\s*/g, ' ');
}
