// Worker-thread entry of training/data/loader.ts (plain .mjs so it starts the same way under the
// tsx CLI, `node --import tsx`, bin/logolab.mjs and the build). In the build (dist/) the compiled
// worker sits beside this file; in a source checkout tsx is registered and the TS worker runs.
import { existsSync } from 'node:fs';

const built = new URL('./loader-worker-impl.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./loader-worker-impl.ts');
}
