/**
 * A sharp failure's own reason. libvips keeps ONE error buffer per process: a failing operation
 * appends its text there and sharp reads-and-clears the whole buffer into its message. Two decodes
 * failing at the same time therefore swap or steal each other's text: one file reads another's
 * reason ("VipsJpeg: premature end…" for a PNG), and the other, its text gone, "Unknown error".
 *
 * So every gated operation runs shared (concurrently, as before); one that fails is run again
 * ALONE — after the running ones finish and before any new one starts — and its error then is the
 * file's own. That costs a second decode per failure only. The lock is per JS thread: sharp calls
 * made outside it (encoders, another worker thread) are not held back; those that succeed leave
 * the buffer alone.
 */

/** Shared operations running now. */
let running = 0;
/** Retries queued or running: new shared operations wait while any is. */
let aloneQueued = 0;
/** Settles when the last queued retry is done: retries run one after another. */
let aloneTail: Promise<void> = Promise.resolve();
/** Resolved when `running` drops to 0 (a retry waiting for the shared ones to finish). */
let drained: (() => void)[] = [];

// read through functions: the loops below wait for other async calls to change these
const retryQueued = () => aloneQueued > 0;
const sharedRunning = () => running > 0;

async function shared<T>(op: () => Promise<T>): Promise<T> {
  // a queued retry goes first: otherwise a steady stream of new decodes would starve it
  while (retryQueued()) await aloneTail;
  running++;
  try {
    return await op();
  } finally {
    if (--running === 0) {
      const w = drained;
      drained = [];
      for (const r of w) r();
    }
  }
}

async function alone<T>(op: () => Promise<T>): Promise<T> {
  aloneQueued++;
  const before = aloneTail;
  let done!: () => void;
  aloneTail = new Promise<void>((r) => (done = r));
  try {
    await before;
    while (sharedRunning()) await new Promise<void>((r) => drained.push(r));
    return await op();
  } finally {
    aloneQueued--;
    done();
  }
}

/**
 * `op()` (a sharp decode or metadata read); on failure, `op()` once more alone, whose outcome is
 * returned or thrown (a success there is kept: the image decodes, whatever failed beside it).
 */
export async function withOwnVipsError<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await shared(op);
  } catch {
    return alone(op);
  }
}
