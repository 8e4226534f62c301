/**
 * `convertDetr`: an HF DetrForObjectDetection folder → a logolab DETR folder: the same HF key names
 * (so one loader reads both), only the keys of the key map (leftovers dropped and reported),
 * every key and shape asserted first, weights F32 or F16 (matrices/conv filters only — 1-D
 * BatchNorm/LayerNorm/bias vectors stay F32), config.json and preprocessor_config.json copied (the
 * DETR defaults written when the source has none), plus logolab.json describing the conversion.
 * Written atomically (temp folder + rename).
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { checkOutputDir, replaceOutputDir } from '../io/output-dir.js';
import { checkStorable, convertGuard } from '../models/format.js';
import { writeSafetensors, type WriteTensor } from '../io/safetensors.js';
import { openCheckpoint } from '../io/checkpoint.js';
import { DETR_DEFAULTS } from '../preprocess/detr.js';
import { readDetrConfig } from './load.js';
import { detrKeySpec } from './spec.js';
import { checkAgainstSpec, storeSource } from './weights.js';

export interface ConvertDetrSummary {
  kind: 'detr';
  source: string;
  out: string;
  dtype: 'F32' | 'F16';
  tensors: number;
  parameters: number;
  /** source keys not written (unused by the model) */
  dropped: string[];
}

/** Whether <dir>/config.json declares a DETR checkpoint (for `logolab convert` to dispatch on). */
export function isDetrFolder(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown }).model_type === 'detr';
  } catch {
    return false;
  }
}

/** dtype: 'F32' | 'F16' (or 'float32' | 'float16', as `logolab convert --dtype` spells them). */
export async function convertDetr(hfDir: string, outDir: string, dtypeIn: 'F32' | 'F16' | 'float32' | 'float16' = 'F32', opts: { overwrite?: boolean } = {}): Promise<ConvertDetrSummary> {
  const dtype = dtypeIn === 'float32' ? 'F32' : dtypeIn === 'float16' ? 'F16' : dtypeIn;
  if (dtype !== 'F32' && dtype !== 'F16') throw new LogolabError(`convert: dtype must be float32 or float16 (got ${String(dtypeIn)})`);
  const guard = convertGuard(resolve(hfDir), opts.overwrite);
  checkOutputDir(outDir, guard);
  const cfg = readDetrConfig(hfDir);
  const store = openCheckpoint(hfDir);
  try {
    const src = storeSource(store);
    const { leftovers } = checkAgainstSpec(cfg, src);
    const spec = detrKeySpec(cfg);
    const tensors = new Map<string, WriteTensor>();
    let parameters = 0;
    for (const [k, shape] of spec) {
      const data = src.read(k);
      checkStorable(data, dtype === 'F16' && shape.length >= 2 ? 'float16' : 'float32', `${hfDir}: tensor '${k}'`);
      parameters += data.length;
      tensors.set(k, { shape, data, dtype: dtype === 'F16' && shape.length >= 2 ? 'F16' : 'F32' });
    }
    const summary: ConvertDetrSummary = { kind: 'detr', source: hfDir, out: outDir, dtype, tensors: tensors.size, parameters, dropped: leftovers };
    await replaceOutputDir(outDir, guard, (tmp) => {
      writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt', converted_by: 'logolab' });
      copyFileSync(join(hfDir, 'config.json'), join(tmp, 'config.json'));
      const pp = join(hfDir, 'preprocessor_config.json');
      if (existsSync(pp)) copyFileSync(pp, join(tmp, 'preprocessor_config.json'));
      else {
        const { resample: _r, resampler: _s, ...rest } = DETR_DEFAULTS;
        writeJsonAtomic(join(tmp, 'preprocessor_config.json'), { image_processor_type: 'DetrImageProcessor', ...rest, resample: 2 });
      }
      writeJsonAtomic(join(tmp, 'logolab.json'), { kind: 'detr', model_type: 'detr', source: hfDir, dtype, tensors: tensors.size, parameters, dropped: leftovers, backbone: cfg.backbone.kind });
    });
    return summary;
  } finally {
    store.close();
  }
}
