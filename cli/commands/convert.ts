/**
 * `logolab convert <hf-dir> --out <dir> [--dtype float32|float16]`: HF checkpoint → logolab model folder.
 * Converting copies tensors; only merging a logolab export's LoRA adapter computes, on the tfjs
 * backend of --backend / $LOGOLAB_BACKEND (a --backend given for anything else is a usage error).
 */
import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { adapterFor } from '../../src/models/export-folder.js';
import { refuseBackendFlag } from '../options.js';
import { convertModel, type StoreDtype } from '../../src/models/format.js';
import { summariseKeys } from '../../src/models/vision/weights.js';
import { Progress } from '../../src/util/progress.js';
import { log } from '../../src/util/log.js';
import { convertDetr, isDetrFolder } from '../../src/detect/convert.js';
import { resolveModelPath } from '../../src/models/hub.js';

export const command: CommandModule = {
  command: 'convert <hf-dir>',
  describe: 'convert an HF CLIP/DINOv2/SigLIP checkpoint (vision tower only; see src/models/format.ts) or a DETR checkpoint into a logolab model folder (--backend: only for merging a logolab export\'s LoRA adapter, the one conversion that computes)',
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
      refuseBackendFlag(argv, 'convert', `of a DETR checkpoint (${src}) copies tensors and uses no tfjs backend`);
      const r = await convertDetr(src, argv.out as string, argv.dtype as 'float32' | 'float16', { overwrite: argv.overwrite as boolean });
      if (r.dropped.length) log('info', `ignored ${r.dropped.length} source tensors: ${summariseKeys(r.dropped)}`);
      process.stdout.write(JSON.stringify({ ...r, dropped: r.dropped.length, seconds: (Date.now() - t0) / 1000 }) + '\n');
      return;
    }
    // a missing folder is left to convertModel's error; an export's unmerged LoRA adapter is merged
    // on tfjs (W + scale·B·A), on the backend asked for, as `export` merges it
    if (existsSync(src)) {
      if (adapterFor(resolve(src))) await initBackend(argv.backend as string | undefined);
      else refuseBackendFlag(argv, 'convert', `of ${src} copies tensors (it has no LoRA adapter to merge) and uses no tfjs backend`);
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
