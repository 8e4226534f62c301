/**
 * `logolab bench gpu [--backends tensorflow-gpu,webgpu] [--model vit-l14|vit-b16|tiny] [--embed-batches 1,32,128]
 *   [--train-batches 32,128] [--recompute on,off] [--iters 3] [--warmup 1] [--allow-software] [--format md|json]
 *   [--json FILE] [--md FILE]`: embed and LoRA-training images/s of ViT-L/14 shapes (random weights, offline)
 * on every GPU backend present, as markdown and JSON. scripts/bench-gpu.ts does the work (each cell in
 * its own process); this command only forwards the options.
 */
import type { CommandModule } from 'yargs';
import { checkListOption, numberOption, POSITIVE_INT, COUNT, refuseBackendFlag } from '../../options.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LogolabError } from '../../../src/errors.js';
import { packagePath, tsxImport } from '../../../src/util/package-root.js';

/** exported: the GPU image (examples/Dockerfile.gpu) must ship it, and a test checks that it does */
export const SCRIPT = packagePath('scripts', 'bench-gpu.ts');
const OPTS = ['backends', 'model', 'embed-batches', 'train-batches', 'recompute', 'iters', 'warmup', 'format', 'json', 'md'] as const;

export const command: CommandModule = {
  command: 'gpu',
  describe: 'ViT-L/14 embed / LoRA-train images/s on every GPU backend present (tensorflow-gpu, webgpu)',
  builder: (y) =>
    y
      .option('backends', { type: 'string', default: 'tensorflow-gpu,webgpu', describe: 'GPU backends to try (absent ones are listed as such)' })
      .option('model', { type: 'string', choices: ['vit-l14', 'vit-b16', 'tiny'], default: 'vit-l14', describe: 'model shape (random weights)' })
      .option('embed-batches', { type: 'string', default: '1,32,128' })
      .option('train-batches', { type: 'string', default: '32,128' })
      .option('recompute', { type: 'string', default: 'on,off', describe: 'per-block recomputation for the training cells' })
      .option('iters', numberOption('iters', POSITIVE_INT('timed steps per cell (mean)', 3)))
      .option('warmup', numberOption('warmup', COUNT('untimed steps first (kernel compilation, PTX JIT)', 1)))
      .option('allow-software', { type: 'boolean', default: false, describe: 'also benchmark a software WebGPU adapter (Mesa llvmpipe)' })
      .option('format', { type: 'string', choices: ['md', 'json'], default: 'md' })
      .option('json', { type: 'string', describe: 'also write the results as JSON to this file' })
      .option('md', { type: 'string', describe: 'also write the markdown table to this file' }),
  handler: (argv) => {
    // each cell runs on the backend --backends names: a --backend would be ignored
    refuseBackendFlag(argv, 'bench gpu', 'runs every backend --backends lists');
    if (!existsSync(SCRIPT)) throw new LogolabError(`bench gpu: ${SCRIPT} not found (needs a source checkout)`);
    checkListOption('backends', argv.backends, { allowed: ['tensorflow-gpu', 'webgpu'] });
    checkListOption('embed-batches', argv['embed-batches'], { int: true });
    checkListOption('train-batches', argv['train-batches'], { int: true });
    checkListOption('recompute', argv.recompute, { allowed: ['on', 'off'] });
    const args: string[] = [];
    for (const k of OPTS) if (argv[k] !== undefined) args.push(`--${k}`, String(argv[k]));
    if (argv['allow-software']) args.push('--allow-software');
    const r = spawnSync(process.execPath, ['--import', tsxImport(), SCRIPT, ...args], { stdio: 'inherit' });
    // 4: cells failed; the script printed the table and the one `logolab: error:` line naming them
    if (r.status === 4) {
      process.exitCode = 1;
      return;
    }
    if (r.status === 3) throw new LogolabError('bench gpu: no GPU backend present (see the lines above; `logolab doctor` says what is missing)');
    if (r.status !== 0) throw new LogolabError(`bench gpu: benchmark exited with ${r.status ?? r.signal}`);
  },
};
