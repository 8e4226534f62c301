// Worker-thread entry of training/data/loader.ts (plain .mjs so it starts the same way under the
// tsx CLI, `node --import tsx`, and bin/logolab.mjs): registers tsx, then runs the TS worker.
import { register } from 'tsx/esm/api';
register();
await import('./loader-worker-impl.ts');
