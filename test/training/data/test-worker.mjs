// A stand-in loader worker for test/training/data/worker-pool.test.ts (same message protocol as
// training/data/loader-worker-impl.ts): crashes at start when workerData.crashAtStart, exits
// (as a crash would) on a job whose path contains "poison", else replies with 4 zeros.
import { parentPort, workerData } from 'node:worker_threads';

if (workerData.crashAtStart) throw new Error('boom at start');
parentPort.on('message', (job) => {
  if (job.path.includes('poison')) process.exit(7);
  const pixels = new Float32Array(4);
  parentPort.postMessage({ id: job.id, pixels }, [pixels.buffer]);
});
