/**
 * The forms of an option that yargs accepts without a word but that would be silently misread:
 *  - a string option given twice becomes an array (`--json a --json b`): paths ended in an internal
 *    TypeError, `--counting detections --counting detections` passed `choices` and counted as
 *    'logos', `--backend cpu --backend cpu` read as a backend named 'cpu,cpu';
 *  - a string option given without its value is '' (`--config "$UNSET"`, `--out ''`): the commands
 *    test options by truthiness, so the option was dropped and the defaults used;
 *  - a switch given a value (`--skip-export=yes`) is false for any text but 'true', and a switch
 *    given twice (`--x --no-x`) takes the last: the export the user asked to skip was written.
 * Each is a usage error naming the option. (Numeric options check the same in cli/options.ts.)
 */
import { UsageError } from '../src/errors.js';

/** What yargs' getOptions() says about the running command's options (the part read here). */
export interface DeclaredOptions {
  boolean: string[];
  string: string[];
  array: string[];
  alias: Record<string, string[]>;
}

/** String options whose negation means something: --no-cache (no embedding cache). */
const NEGATABLE = new Set(['cache']);

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Every name of an option (key, aliases, their kebab forms) → the option's key. */
function nameIndex(o: DeclaredOptions): Map<string, string> {
  const index = new Map<string, string>();
  const keys = new Set([...o.boolean, ...o.string, ...Object.keys(o.alias)]);
  for (const key of keys) {
    for (const n of [key, ...(o.alias[key] ?? [])]) {
      if (!index.has(n)) index.set(n, key);
      if (!index.has(kebab(n))) index.set(kebab(n), key);
    }
  }
  return index;
}

/** The option name as the user typed it, for messages: `--name` or `-n`. */
const flag = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

/** One option token of the command line: the key it names, as typed, and a value given with `=`. */
interface TypedOption {
  key: string;
  typed: string;
  value?: string;
}

/** The option tokens before `--` that name a declared option (`--x`, `--no-x`, `--x=v`, `-x`). */
function typedOptions(raw: readonly string[], o: DeclaredOptions): TypedOption[] {
  const index = nameIndex(o);
  const out: TypedOption[] = [];
  for (const token of raw) {
    if (token === '--') break; // what follows is positional
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(token);
    if (!m || /^-\d/.test(token)) continue; // a negative number is a value
    const name = kebab(m[1]!);
    if (!token.startsWith('--') && name.length !== 1) continue; // grouped short flags (-abc)
    // `--no-x` negates x, unless an option is itself named no-x (eval's --no-cache)
    const key = index.get(name) ?? (name.startsWith('no-') ? index.get(name.slice(3)) : undefined);
    if (key !== undefined) out.push({ key, typed: token.startsWith('--') ? `--${m[1]!}` : `-${m[1]!}`, ...(m[2] !== undefined ? { value: m[2] } : {}) });
  }
  return out;
}

const GIVEN = Symbol('logolab.givenOptions');

/** The keys of the options typed on the command line (not filled in by a yargs default); see checkOptionForms. */
export function givenOptions(argv: Record<string, unknown>): ReadonlySet<string> {
  const g = (argv as { [GIVEN]?: Set<string> })[GIVEN];
  if (!g) throw new Error('givenOptions: the option-forms middleware did not run');
  return g;
}

/**
 * Refuses a string option given twice or without a value, and a switch given contradicting values or a value
 * other than true/false; `--no-<value option>` becomes not given. `raw` is the command line as given to yargs; `argv` yargs' result.
 */
export function checkOptionForms(argv: Record<string, unknown>, raw: readonly string[], o: DeclaredOptions): void {
  // kept out of sight of yargs and of loops over the options (a symbol, not enumerable); a command
  // with sub-commands (bench <what>) runs the middleware again with the inner options
  const given = typedOptions(raw, o);
  const keys = new Set(given.map((g) => g.key));
  Object.defineProperty(argv, GIVEN, { value: keys, enumerable: false, configurable: true });
  const arrays = new Set(o.array);
  for (const key of o.string) {
    if (arrays.has(key)) continue;
    const v = argv[key];
    // a positional (convert's <hf-dir>) is named as such, not as a flag
    const label = keys.has(key) ? flag(key) : `<${key}>`;
    // `--cache f --no-cache`: yargs records the negation as false beside the value
    if (Array.isArray(v) && v.includes(false)) throw new UsageError(`${label} and --no-${key}: they contradict each other; give one`);
    if (Array.isArray(v)) throw new UsageError(`${label}: given more than once (${v.map((x) => `'${String(x)}'`).join(', ')})`);
    if (typeof v === 'string' && v.trim() === '') throw new UsageError(`${label}: needs a value`);
    // `--no-adapter`: yargs negates any option to false, which the commands read as a value (an
    // internal TypeError for --out, --report): it means "not given", as wrapper scripts use it; the
    // cache alone has a meaning for false (--no-cache); a required option is then reported missing
    if (v === false && !NEGATABLE.has(key)) for (const k of [key, camel(key), ...(o.alias[key] ?? [])]) delete argv[k];
  }
  const switches = new Set(o.boolean.filter((k) => k !== 'help' && k !== 'version'));
  for (const key of switches) {
    const uses = given.filter((g) => g.key === key);
    const bad = uses.find((g) => g.value !== undefined && g.value !== 'true' && g.value !== 'false');
    if (bad) throw new UsageError(`${flag(key)}: a switch takes no value (or =true / =false), got '${bad.value!}'`);
    // the same meaning twice (scripts that append flags) is harmless; --x with --no-x is not
    const meaning = (g: TypedOption) => (g.value !== undefined ? g.value === 'true' : !(g.typed.startsWith('--no-') && !key.startsWith('no-')));
    if (new Set(uses.map(meaning)).size > 1) throw new UsageError(`${flag(key)}: given with contradicting values (${uses.map((g) => g.typed + (g.value !== undefined ? `=${g.value}` : '')).join(', ')})`);
  }
}
