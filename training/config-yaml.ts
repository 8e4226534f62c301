/**
 * A config file's YAML as plain data. The yaml package's default conversion turns a key that is a
 * collection (`? [a]`) into its text with a process warning on stderr (a second, third line beside
 * the error), and a nested `__proto__:` key into the mapping's prototype, so the key checks never
 * saw it and the setting was silently dropped. Mappings are read as Maps here and rebuilt; a key
 * that is a collection, or named __proto__, is an error naming it.
 */
import { parseDocument } from 'yaml';
import { LogolabError, firstLine } from '../src/errors.js';
import { log } from '../src/util/log.js';

function plain(v: unknown, where: string, at: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => plain(x, where, `${at}[${i}]`));
  if (!(v instanceof Map)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of v) {
    if (k !== null && typeof k === 'object') throw new LogolabError(`${where}: ${at ? `under '${at}': ` : ''}a key is a collection (${JSON.stringify(k)}); keys are names`);
    const key = String(k);
    // no config key has this name, and schema parsing (zod records) would turn it into a prototype again
    if (key === '__proto__') throw new LogolabError(`${where}: unknown key '${at ? `${at}.` : ''}__proto__'`);
    out[key] = plain(x, where, at ? `${at}.${key}` : key);
  }
  return out;
}

/** The document in `text` as plain objects, arrays and scalars; YAML errors name `where`. */
export function parseConfigYaml(text: string, where: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new LogolabError(`${where}: invalid YAML: ${firstLine(doc.errors[0])}`);
  for (const w of doc.warnings) log('warn', `${where}: ${firstLine(w)}`);
  return plain(doc.toJS({ mapAsMap: true }), where, '');
}
