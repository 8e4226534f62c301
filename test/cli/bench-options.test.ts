/**
 * bench's numeric and list options are checked as typed (they were yargs 'number's: `--iters abc` ran with
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
  // below the detector's minimum: refused as typed, not after the backend has started
  [['bench', 'detect', '--size', '16', '--backend', 'wasm'], /--size: '16' is out of range: must be ≥ 32/],
  // --model's processor decides the size: --image-size beside it would be ignored
  [['bench', 'loader', '--data', 'x', '--model', 'models/logolab-tiny-clip', '--image-size', '128'], /--image-size 128 and --model models\/logolab-tiny-clip: the model's preprocessor_config\.json sets the image size/],
  [['bench', 'backends', '--reps', 'abc'], /--reps: 'abc' is not a number/],
  [['bench', 'backends', '--budget', '0'], /--budget: '0' is out of range: must be > 0/],
  [['bench', 'gpu', '--iters', ''], /--iters: needs a value/],
  [['bench', 'loader', '--data', 'x', '--seconds', 'soon'], /--seconds: 'soon' is not a number/],
  [['bench', 'loader', '--data', 'x', '--image-size', '4'], /--image-size: '4' is out of range/],
  [['bench', 'train', '--r', 'abc'], /--r: 'abc' is not a number/],
  [['bench', 'train', '--alpha', '-2'], /--alpha: '-2' is out of range/],
  // list options: checked before any cell runs (--backends foo gave a table of error cells and
  // exit 0, --recompute maybe ran as off, bench train printed the step's stack trace and a 2nd line)
  [['bench', 'backends', '--backends', 'cpu,foo'], /--backends: 'foo' is not one of cpu, native/],
  [['bench', 'backends', '--models', 'foo'], /--models: 'foo' is not one of tiny, vit-b16, vit-l14/],
  [['bench', 'backends', '--modes', 'infer,bogus'], /--modes: 'bogus' is not one of infer, train/],
  [['bench', 'backends', '--section', 'matmul,'], /--section: 'matmul,' has an empty item/],
  [['bench', 'gpu', '--recompute', 'maybe'], /--recompute: 'maybe' is not one of on, off/],
  [['bench', 'gpu', '--train-batches', ''], /--train-batches: needs a value/],
  [['bench', 'gpu', '--embed-batches', '0,abc'], /--embed-batches: '0' is not an integer ≥ 1/],
  [['bench', 'gpu', '--backends', 'webgpu,bogus'], /--backends: 'bogus' is not one of tensorflow-gpu, webgpu/],
  [['bench', 'gpu', '--backends', 'webgpu,webgpu'], /--backends: 'webgpu' is listed twice/],
  [['bench', 'train', '--targets', 'bogus'], /--targets: 'bogus' is not one of q_proj/],
  [['bench', 'train', '--freeze-layers', '99'], /--freeze-layers: 99 leaves no layer of the tiny preset's 4/],
];

for (const [args, msg] of cases) {
  test(`${args.join(' ')}: one usage error line`, async () => {
    expectFailure(await runCli(args), 2, msg);
  });
}
