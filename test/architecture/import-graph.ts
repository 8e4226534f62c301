/**
 * The project's own import graph, read with TypeScript's pre-processor (static `import`/`export …
 * from` and dynamic `import('literal')`; `import(variable)` cannot be followed and is not counted).
 * Relative specifiers are resolved the way NodeNext resolves our sources: `./x.js` → `./x.ts`.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export type Graph = Map<string, string[]>;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null; // a package or node: builtin
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? base;
}

/** Edges between files under `dirs` (paths relative to `root`, '/'-separated). */
export function importGraph(root: string, dirs: string[]): Graph {
  const g: Graph = new Map();
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  for (const d of dirs.filter((d) => existsSync(join(root, d)))) {
    for (const file of walk(join(root, d))) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = new Set<string>();
      for (const f of info.importedFiles) {
        const t = resolveSpecifier(file, f.fileName);
        if (t) targets.add(rel(t));
      }
      g.set(rel(file), [...targets].sort());
    }
  }
  return g;
}

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
export function cycles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!idx.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One import path around a cycle, for the message: a.ts → b.ts → a.ts. */
export function cyclePath(g: Graph, scc: string[]): string {
  const inScc = new Set(scc);
  const start = scc[0]!;
  // breadth-first from start back to start inside the component
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = prev.get(u)) path.unshift(u);
        path.unshift(start);
        return path.join(' → ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(' ↔ ');
}
