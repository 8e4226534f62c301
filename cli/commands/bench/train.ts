/**
 * `logolab bench train [--preset tiny|vit-b16|vit-l14] [--batch 4] [--recompute] [--profile]`: ONE
 * LoRA training step (forward + backward, InfoNCE) of a random-weight CLIP vision tower: step time,
 * trainable parameters, tf peak bytes and peak RSS as one JSON line; `--profile` adds the per-kernel
 * table (time, calls, native or stock JS) on stderr. The step runs in its own process
 * (scripts/bench-lora-step.ts: training code is not imported by src/).
 */
import type { CommandModule } from 'yargs';
import { checkListOption, numberOption, POSITIVE_INT, COUNT } from '../../options.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LogolabError, UsageError } from '../../../src/errors.js';
import { LORA_TARGETS } from '../../../src/models/lora/config.js';
import { presetConfig } from '../../../src/models/vision/presets.js';
import { packagePath, tsxImport } from '../../../src/util/package-root.js';

const SCRIPT = packagePath('scripts', 'bench-lora-step.ts');
const OPTS = ['preset', 'batch', 'r', 'alpha', 'freeze-layers', 'targets'] as const;

export const command: CommandModule = {
  command: 'train',
  describe: 'one LoRA training step of a ViT: time, memory (and --profile: per-kernel table)',
  builder: (y) =>
    y
      .option('preset', { type: 'string', choices: ['tiny', 'vit-b16', 'vit-l14'], default: 'tiny' })
      .option('batch', numberOption('batch', { describe: 'images per step; images 2k and 2k+1 share a label (at 2: one pair, no negative, loss and gradients 0)', default: 4, int: true, min: 3, why: 'InfoNCE needs a positive pair and a negative, a batch of at least 3' }))
      .option('recompute', { type: 'boolean', default: false, describe: 'per-block recomputation (training/recompute.ts)' })
      .option('r', numberOption('r', POSITIVE_INT('LoRA rank', 16)))
      .option('alpha', numberOption('alpha', { describe: 'LoRA alpha', default: 32, gt: 0 }))
      .option('freeze-layers', numberOption('freeze-layers', COUNT('layers without adapters (default: half)')))
      .option('targets', { type: 'string', default: 'q_proj,v_proj' })
      .option('profile', { type: 'boolean', default: false, describe: 'per-kernel time, calls and native / stock JS of the step (table on stderr)' }),
  handler: (argv) => {
    if (!existsSync(SCRIPT)) throw new LogolabError(`bench train: ${SCRIPT} not found (needs a source checkout)`);
    // checked here: the step's process reported a bad value with a stack trace, then this command a second line
    checkListOption('targets', argv.targets, { allowed: LORA_TARGETS });
    const layers = presetConfig('clip', argv.preset as string).num_hidden_layers;
    if (argv['freeze-layers'] !== undefined && (argv['freeze-layers'] as number) >= layers) throw new UsageError(`--freeze-layers: ${argv['freeze-layers'] as number} leaves no layer of the ${argv.preset as string} preset's ${layers} for the adapters; give at most ${layers - 1}`);
    const args: string[] = ['--backend', String(argv.backend ?? process.env.LOGOLAB_BACKEND ?? 'auto')];
    for (const k of OPTS) if (argv[k] !== undefined) args.push(`--${k}`, String(argv[k]));
    if (argv.recompute) args.push('--recompute');
    if (argv.profile) args.push('--profile');
    const r = spawnSync(process.execPath, ['--import', tsxImport(), SCRIPT, ...args], { stdio: 'inherit' });
    if (r.status !== 0) throw new LogolabError(`bench train: the step exited with ${r.status ?? r.signal}`);
  },
};
