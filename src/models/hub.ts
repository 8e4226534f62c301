/**
 * Model references by Hugging Face repo id — `openai/clip-vit-large-patch14[@revision]` — resolved
 * through the local HF cache, exactly as huggingface_hub lays it out (never a download):
 *   <cache>/models--<org>--<name>/refs/<revision>        the commit a branch or tag points to
 *   <cache>/models--<org>--<name>/snapshots/<commit>/…   the files (symlinks into ../../blobs/)
 * <cache> = $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (huggingface_hub's constants).
 * A revision is a branch, a tag or a full commit hash; none = main.
 *
 * An existing local path always wins (as in transformers), so folders keep working unchanged; a
 * string that is neither a local path nor a repo id is returned as given for the caller's own
 * error. Every place that accepts a model folder calls resolveModelPath() first.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import { log } from '../util/log.js';

export interface RepoRef {
  repoId: string;
  revision: string;
}

// huggingface_hub's repo id rule: [org/]name of letters, digits, '-', '_', '.', no '--' or '..' runs
const PART = '[A-Za-z0-9](?:[\\w.-]{0,94}[A-Za-z0-9_])?';
const REPO_REF = new RegExp(`^(${PART}/${PART})(?:@([\\w./-]+))?$`);

/** 'org/name' or 'org/name@rev' → RepoRef; anything else (paths, presets) → null. */
export function parseRepoRef(ref: string): RepoRef | null {
  const m = REPO_REF.exec(ref);
  if (!m || /--|\.\./.test(m[1]!) || (m[2] !== undefined && /(^|\/)\.\.?(\/|$)/.test(m[2]))) return null;
  return { repoId: m[1]!, revision: m[2] ?? 'main' };
}

/** The hub cache folder and which setting chose it. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): { dir: string; from: string } {
  const home = (p: string) => (p.startsWith('~') ? join(homedir(), p.slice(1)) : p);
  if (env.HF_HUB_CACHE) return { dir: home(env.HF_HUB_CACHE), from: '$HF_HUB_CACHE' };
  if (env.HUGGINGFACE_HUB_CACHE) return { dir: home(env.HUGGINGFACE_HUB_CACHE), from: '$HUGGINGFACE_HUB_CACHE' };
  if (env.HF_HOME) return { dir: join(home(env.HF_HOME), 'hub'), from: '$HF_HOME/hub' };
  if (env.XDG_CACHE_HOME) return { dir: join(home(env.XDG_CACHE_HOME), 'huggingface', 'hub'), from: '$XDG_CACHE_HOME/huggingface/hub' };
  return { dir: join(homedir(), '.cache', 'huggingface', 'hub'), from: 'the default ~/.cache/huggingface/hub' };
}

export function downloadCommand(r: RepoRef): string {
  return `huggingface-cli download ${r.repoId}${r.revision !== 'main' ? ` --revision ${r.revision}` : ''}`;
}

/**
 * A model folder for `ref`: `ref` itself when it exists (or is not a repo id), else the cached
 * snapshot of the repo at the revision. Errors say where it looked and how to fetch the model.
 */
export function resolveModelPath(ref: string, opts: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): string {
  if (existsSync(ref)) return ref;
  const r = parseRepoRef(ref);
  if (!r) return ref;
  const { dir: cache, from } = hubCacheDir(opts.env);
  const repoDir = join(cache, `models--${r.repoId.replace('/', '--')}`);
  const fetch = `logolab never downloads; fetch it with: ${downloadCommand(r)}`;
  if (!existsSync(repoDir)) throw new LogolabError(`${ref}: no such folder, and not in the Hugging Face cache (looked for ${repoDir}; cache from ${from}); ${fetch}`);
  let commit: string;
  const refFile = join(repoDir, 'refs', r.revision);
  if (existsSync(refFile) && statSync(refFile).isFile()) commit = readFileSync(refFile, 'utf8').trim();
  else if (/^[0-9a-f]{40}$/.test(r.revision)) commit = r.revision;
  else throw new LogolabError(`${ref}: revision '${r.revision}' is not in the Hugging Face cache (${repoDir} has refs: ${listRefs(repoDir).join(', ') || 'none'}); ${fetch}`);
  const snap = join(repoDir, 'snapshots', commit);
  if (!existsSync(snap)) throw new LogolabError(`${ref}: ${r.revision === commit ? 'commit' : `refs/${r.revision} → commit`} ${commit} has no snapshot folder ${snap} (incomplete download?); ${fetch}`);
  // snapshot files are symlinks into ../../blobs; an interrupted download leaves them dangling
  for (const f of readdirSync(snap)) {
    const p = join(snap, f);
    if (lstatSync(p).isSymbolicLink() && !existsSync(p)) throw new LogolabError(`${ref}: ${p} links to a missing blob (interrupted download?); ${fetch}`);
  }
  if (!opts.quiet) log('info', `${ref}: Hugging Face cache snapshot ${snap}${r.revision !== commit ? ` (${r.revision} = ${commit.slice(0, 12)})` : ''}`);
  return snap;
}

function listRefs(repoDir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, pre: string) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p, `${pre}${f}/`);
      else out.push(`${pre}${f}`);
    }
  };
  walk(join(repoDir, 'refs'), '');
  const snaps = existsSync(join(repoDir, 'snapshots')) ? readdirSync(join(repoDir, 'snapshots')) : [];
  return [...out.sort(), ...snaps.map((s) => `snapshot ${s.slice(0, 12)}`)];
}
