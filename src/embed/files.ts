/** Image paths from the command line: files as given, folders walked recursively (sorted). */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { LogolabError } from '../errors.js';
import { readdirUtf8 } from '../io/utf8-names.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif'];

/**
 * Appends the images under `dir`, in name order. `seen` holds the real paths of the folders walked:
 * a link back up the tree (`loop -> .`) is walked once, not until the kernel's ELOOP after 40
 * levels with every image listed again at each.
 */
function walk(dir: string, out: string[], seen: Set<string>): void {
  const real = realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  for (const name of readdirUtf8(dir, (n) => !n.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(n).toLowerCase())).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const isImage = IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      // a dangling link, a link to itself (ELOOP) or an unreadable entry named like an image is
      // listed: its decode fails with a line naming it, which --skip-bad skips; one bad entry must
      // not hide the folder's good images
      const code = (e as NodeJS.ErrnoException).code;
      if (isImage) out.push(p);
      else if (code !== 'ENOENT' && code !== 'ELOOP') throw e;
      continue;
    }
    if (st.isDirectory()) walk(p, out, seen);
    else if (isImage) out.push(p);
  }
}

/** Expands files and folders into image files; a missing path or a folder without images is an error. */
export function listImages(inputs: string[]): string[] {
  if (inputs.length === 0) throw new LogolabError('no images or folders given');
  const out: string[] = [];
  for (const p of inputs) {
    if (!existsSync(p)) throw new LogolabError(`${p}: no such file or folder`);
    if (statSync(p).isDirectory()) {
      const found: string[] = [];
      walk(p, found, new Set());
      if (found.length === 0) throw new LogolabError(`${p}: folder holds no images (${IMAGE_EXTENSIONS.join(' ')})`);
      out.push(...found);
    } else out.push(p);
  }
  return out;
}
