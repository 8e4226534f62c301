/**
 * Folder listings whose names are all valid UTF-8. Node decodes a name as UTF-8 and turns invalid
 * bytes (a Latin-1 'lat\xe9n.png' made on another system) into U+FFFD, so the listed path names no
 * file: a false "no such file" for a file that exists, or a folder whose stat fails and that was
 * silently passed over. Such a name is refused, naming the folder and the bytes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';

/** The name with each byte that is not part of valid UTF-8 as \xNN. */
function showBytes(raw: Buffer): string {
  let s = '';
  for (let i = 0; i < raw.length; ) {
    // the longest valid UTF-8 sequence starting here (1–4 bytes)
    let n = 0;
    for (let k = 4; k >= 1 && !n; k--) {
      const part = raw.subarray(i, i + k);
      if (part.length === k && Buffer.from(part.toString('utf8'), 'utf8').equals(part)) n = k;
    }
    s += n ? raw.subarray(i, i + n).toString('utf8') : `\\x${raw[i]!.toString(16).padStart(2, '0')}`;
    i += n || 1;
  }
  return s;
}

/**
 * readdirSync(dir) as strings; a name that is not valid UTF-8 is a LogolabError naming it, unless it
 * is a plain file that `uses` says the caller skips.
 */
export function readdirUtf8(dir: string, uses?: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { encoding: 'buffer', withFileTypes: true })) {
    const raw = e.name as unknown as Buffer;
    const name = raw.toString('utf8');
    if (Buffer.from(name, 'utf8').equals(raw)) {
      out.push(name);
      continue;
    }
    // a file the caller would pass over (`uses`: its name with U+FFFD for the bad bytes) is left
    // out, as before: a stray Thumbs-\xe9.db must not stop a folder of images; a folder or a link
    // (it may hold or be an image) and a file the caller reads are refused
    if (uses && !e.isDirectory() && !e.isSymbolicLink() && !uses(name)) continue;
    throw new LogolabError(`${join(dir, showBytes(raw))}: the file name is not valid UTF-8 (bytes shown as \\xNN); rename it, e.g. with convmv -f latin1 -t utf8`);
  }
  return out;
}
