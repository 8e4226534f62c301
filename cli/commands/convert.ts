/** `logolab convert <hf-dir> --out <dir> [--dtype float32|float16]`: HF checkpoint → logolab model folder. */
import type { CommandModule } from 'yargs';
import { convertModel, type StoreDtype } from '../../src/models/format.js';
import { summariseKeys } from '../../src/models/vision/weights.js';
import { Progress } from '../../src/util/progress.js';
import { log } from '../../src/util/log.js';
import { convertDetr, isDetrFolder } from '../../src/detect/convert.js';
import { resolveModelPath } from '../../src/models/hub.js';

export const command: CommandModule = {
  command: 'convert <hf-dir>',
  describe: 'convert an HF CLIP/DINOv2/SigLIP checkpoint (vision tower only; see src/models/format.ts) or a DETR checkpoint into a logolab model folder',
  builder: (y) =>
    y
      .positional('hf-dir', { type: 'string', demandOption: true, describe: 'HF checkpoint folder (config.json + model.safetensors or pytorch_model.bin, single or sharded), an HF repo id in the local cache (org/name[@revision]), or a converted folder' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (written atomically; replaces only an earlier conversion or an empty folder)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace --out even if it is a non-empty folder that is not an earlier conversion' })
      .option('dtype', { type: 'string', choices: ['float32', 'float16'], default: 'float32', describe: 'stored dtype (float16 halves the file; computed in float32)' }),
  handler: async (argv) => {
    const t0 = Date.now();
    const src = resolveModelPath(argv['hf-dir'] as string); // a folder, or an HF repo id in the local cache
    if (isDetrFolder(src)) {
      const r = await convertDetr(src, argv.out as string, argv.dtype as 'float32' | 'float16', { overwrite: argv.overwrite as boolean });
      if (r.dropped.length) log('info', `ignored ${r.dropped.length} source tensors: ${summariseKeys(r.dropped)}`);
      process.stdout.write(JSON.stringify({ ...r, dropped: r.dropped.length, seconds: (Date.now() - t0) / 1000 }) + '\n');
      return;
    }
    let progress: Progress | null = null;
    const r = await convertModel(src, argv.out as string, {
      dtype: argv.dtype as StoreDtype,
      overwrite: argv.overwrite as boolean,
      onTensor: (done, total) => {
        progress ??= new Progress({ label: 'convert', total, unit: 'tensors' });
        progress.tick(1);
        if (done === total) progress.finish();
      },
    });
    if (r.unused.length) log('info', `ignored ${r.unused.length} source tensors: ${summariseKeys(r.unused)}`);
    if (r.mergedAdapter) log('info', `merged the export's LoRA adapter ${r.mergedAdapter} into the converted weights`);
    const summary = { out: argv.out, family: r.family, parameters: r.parameters, dtype: argv.dtype, bytes: r.bytes, unused_source_tensors: r.unused.length, ...(r.mergedAdapter ? { merged_adapter: r.mergedAdapter } : {}), seconds: (Date.now() - t0) / 1000 };
    process.stdout.write(JSON.stringify(summary) + '\n');
  },
};
