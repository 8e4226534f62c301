/** `logolab export --checkpoint <ckpt> --out <dir> [--merge-lora] [--format logolab|hf|peft]` (training/export.ts). */
import type { CommandModule } from 'yargs';
import { initBackend } from '../../src/backend/index.js';
import { log } from '../../src/util/log.js';
import { EXPORT_FORMATS, exportCheckpoint, type ExportFormat } from '../../training/export.js';

export const command: CommandModule = {
  command: 'export',
  describe: 'export a training checkpoint as an HF model, a peft adapter, or a logolab folder',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'training checkpoint (.ckpt)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (written atomically; replaces only an earlier export or an empty folder)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace --out even if it is a non-empty folder that is not an earlier export' })
      .option('format', { type: 'string', choices: EXPORT_FORMATS as unknown as string[], default: 'logolab', describe: 'hf: merged CLIPVisionModelWithProjection-style folder; peft: adapter only; logolab: base + adapter/' })
      .option('merge-lora', { type: 'boolean', default: false, describe: 'merge LoRA into the weights (logolab format; hf always merges; a LoRA checkpoint only)' }),
  handler: async (argv) => {
    await initBackend(argv.backend as string | undefined);
    const r = await exportCheckpoint(argv.checkpoint as string, argv.out as string, { format: argv.format as ExportFormat, mergeLora: argv['merge-lora'] as boolean, overwrite: argv.overwrite as boolean });
    log('info', `exported ${argv.checkpoint} → ${r.dir} (${r.format}${r.merged ? ', LoRA merged' : ''})`);
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  },
};
