#!/usr/bin/env node
// The `logolab` command. Installed from npm (or from a packed tarball), it runs the built CLI in
// dist/ with plain Node. In a source checkout (tsconfig.json is there; the package does not ship
// it) it runs the TypeScript sources through tsx, so what runs is always what is in the tree,
// never a stale build.
import { existsSync } from 'node:fs';

// `logolab synth --list-brands | head`: the reader closed the pipe. Stop quietly with the status of
// a process that SIGPIPE ended (128 + 13), as `yes | head` does, instead of a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});

let main;
if (existsSync(new URL('../tsconfig.json', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
