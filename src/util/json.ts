/**
 * Reading a JSON file the one way every loader needs: an unreadable file or bad JSON is one
 * LogolabError naming the path (no stack trace for an expected fault).
 */
import { readFileSync } from 'node:fs';
import { LogolabError, firstLine } from '../errors.js';

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LogolabError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LogolabError(`${path}: invalid JSON (${firstLine(e)})`);
  }
}

/** readJsonFile for files whose top level must be an object (configs, metadata). */
export function readJsonObject(path: string): Record<string, unknown> {
  const v = readJsonFile(path);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LogolabError(`${path}: must be a JSON object`);
  return v as Record<string, unknown>;
}
