/**
 * `logolab bench <what>`: throughput benchmarks. Each sub-command is its own file
 * cli/commands/bench/<name>.ts exporting `command` (a yargs CommandModule), discovered here the
 * way main.ts discovers top-level commands — adding `bench detect` or `bench train` touches no
 * shared file. Results go to stdout as one JSON line; progress and notes to stderr.
 */
import type { CommandModule } from 'yargs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const files = readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_')).sort();
const subcommands: CommandModule[] = [];
for (const f of files) {
  const m = (await import(pathToFileURL(join(dir, f)).href)) as { command?: CommandModule };
  if (m.command) subcommands.push(m.command);
}

export const command: CommandModule = {
  command: 'bench <what>',
  describe: `benchmarks (${subcommands.map((c) => String(c.command).split(' ')[0]).join(', ')})`,
  builder: (y) => {
    for (const c of subcommands) y = y.command(c);
    return y.demandCommand(1, 'name a benchmark');
  },
  handler: () => {},
};
