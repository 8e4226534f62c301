/**
 * bench's numeric options are checked as typed (they were yargs 'number's: `--iters abc` ran with
 * NaN and wrote null into the results): one usage error line quoting the value, before any work.
 */
import { test } from 'node:test';
import { expectFailure, runCli } from './run.js';

const cases: [string[], RegExp][] = [
  [['bench', 'embed', '--model', 'tiny', '--iters', 'abc'], /--iters: 'abc' is not a number/],
  [['bench', 'embed', '--model', 'tiny', '--batch', '0'], /--batch: '0' is out of range/],
  [['bench', 'embed', '--model', 'tiny', '--warmup', '-1'], /--warmup: '-1' is out of range/],
  [['bench', 'detect', '--images', '1.5'], /--images: '1\.5' is not an integer/],
  [['bench', 'detect', '--size', '0x20'], /--size: '0x20' is not a number/],
  [['bench', 'backends', '--reps', 'abc'], /--reps: 'abc' is not a number/],
  [['bench', 'backends', '--budget', '0'], /--budget: '0' is out of range: must be > 0/],
  [['bench', 'gpu', '--iters', ''], /--iters: needs a value/],
  [['bench', 'loader', '--data', 'x', '--seconds', 'soon'], /--seconds: 'soon' is not a number/],
  [['bench', 'loader', '--data', 'x', '--image-size', '4'], /--image-size: '4' is out of range/],
  [['bench', 'train', '--r', 'abc'], /--r: 'abc' is not a number/],
  [['bench', 'train', '--alpha', '-2'], /--alpha: '-2' is out of range/],
];

for (const [args, msg] of cases) {
  test(`${args.join(' ')}: one usage error line`, async () => {
    expectFailure(await runCli(args), 2, msg);
  });
}
