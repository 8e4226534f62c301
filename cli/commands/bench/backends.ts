/**
 * `logolab bench backends [--models tiny,vit-l14] [--modes infer,train] [--backends cpu,native,wasm,torch,torchvision]
 *   [--section matmul,e2e] [--tiny-batch 64] [--l14-batch 1] [--layers N] [--reps 3] [--rounds 1] [--budget 60] [--format md|json] [--json FILE]`:
 * embedding and LoRA-training images/s of the same ViT on every CPU backend — stock cpu, cpu with the
 * native BLAS kernels, wasm — and PyTorch (scripts/bench_torch_peer.py, Debian python3-torch) in the
 * same run, with ratios to PyTorch and peak RSS; plus matmul GFLOP/s on ViT-L shapes. Each cell runs
 * in its own process (scripts/bench-native.ts does the work; this command only forwards options).
 */
import type { CommandModule } from 'yargs';
import { checkListOption, numberOption, POSITIVE_INT, refuseBackendFlag } from '../../options.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LogolabError } from '../../../src/errors.js';
import { PRESET_NAMES } from '../../../src/models/vision/presets.js';
import { packagePath, tsxImport } from '../../../src/util/package-root.js';

const SCRIPT = packagePath('scripts', 'bench-native.ts');
const OPTS = ['section', 'models', 'modes', 'backends', 'tiny-batch', 'l14-batch', 'layers', 'reps', 'rounds', 'budget', 'threads', 'format', 'json'] as const;

export const command: CommandModule = {
  command: 'backends',
  describe: 'embed / LoRA-train images/s per CPU backend (cpu, cpu+native, wasm) vs PyTorch, as a table',
  builder: (y) =>
    y
      .option('section', { type: 'string', default: 'matmul,e2e', describe: 'matmul (GFLOP/s on ViT-L shapes) and/or e2e (images/s)' })
      .option('models', { type: 'string', default: 'tiny,vit-l14', describe: 'tiny (64 px, patch 8, 4×128, MLP 512), vit-b16, vit-l14' })
      .option('modes', { type: 'string', default: 'infer,train', describe: 'infer (embed) and/or train (LoRA r=8 on q,v of the upper half)' })
      .option('backends', { type: 'string', default: 'cpu,native,wasm,torch,torchvision', describe: 'cpu = stock tfjs cpu, native = cpu + native kernels, native-noreuse = native with output-buffer reuse off (LOGOLAB_RECYCLE_MB=0), torch = PyTorch peer (same module), torchvision = torchvision ViT (inference peer)' })
      .option('tiny-batch', numberOption('tiny-batch', POSITIVE_INT('batch of the tiny model', 64)))
      .option('l14-batch', numberOption('l14-batch', POSITIVE_INT('batch of vit-b16 / vit-l14', 1)))
      .option('layers', numberOption('layers', POSITIVE_INT('override the number of layers of vit-b16 / vit-l14 (same widths)')))
      .option('reps', numberOption('reps', POSITIVE_INT('timed steps per cell (median)', 3)))
      .option('rounds', numberOption('rounds', POSITIVE_INT('run each row N times interleaved with its peers (median): load changes hit both sides', 1)))
      .option('budget', numberOption('budget', { describe: 'seconds per cell after which no more reps start', default: 60, gt: 0 }))
      .option('threads', numberOption('threads', POSITIVE_INT('BLAS / torch threads (default $LOGOLAB_THREADS, $OPENBLAS_NUM_THREADS or 2)')))
      .option('slow', { type: 'boolean', default: false, describe: 'also run the cells that take minutes (stock cpu / wasm training on large models)' })
      .option('format', { type: 'string', choices: ['md', 'json'], default: 'md' })
      .option('json', { type: 'string', describe: 'also write all results as JSON to this file' }),
  handler: (argv) => {
    refuseBackendFlag(argv, 'bench backends', 'runs every backend --backends lists');
    if (!existsSync(SCRIPT)) throw new LogolabError(`bench backends: ${SCRIPT} not found (needs a source checkout)`);
    checkListOption('section', argv.section, { allowed: ['matmul', 'e2e'] });
    checkListOption('models', argv.models, { allowed: PRESET_NAMES });
    checkListOption('modes', argv.modes, { allowed: ['infer', 'train'] });
    checkListOption('backends', argv.backends, { allowed: ['cpu', 'native', 'native-noreuse', 'wasm', 'torch', 'torchvision'] });
    const args: string[] = [];
    for (const k of OPTS) if (argv[k] !== undefined) args.push(`--${k}`, String(argv[k]));
    if (argv.slow) args.push('--slow');
    const r = spawnSync(process.execPath, ['--import', tsxImport(), SCRIPT, ...args], { stdio: 'inherit' });
    if (r.status !== 0) throw new LogolabError(`bench backends: benchmark exited with ${r.status ?? r.signal}`);
  },
};
