/**
 * logolab's converted model folder ("logolab-vision" format, version 1).
 *
 *   <dir>/logolab.json               { format: 'logolab-vision', version: 1, family, dtype: 'float32'|'float16',
 *                                      vision_config: VisionConfig (validated strictly on load),
 *                                      parameters, source, source_architecture, unused_source_keys, created,
 *                                      preprocess_mode when the source recorded one (a trained export: the
 *                                      mode it was trained under, read by loadVisionModel) }
 *   <dir>/config.json                the vision tower's own HF config (CLIPVisionModelWithProjection /
 *                                      CLIPVisionModel / Dinov2Model / SiglipVisionModel)
 *   <dir>/preprocessor_config.json   copied from the source folder, or the family's HF default written out
 *   <dir>/model.safetensors          the vision tower only (text tower, buffers, mask_token dropped),
 *                                      HF key names in the canonical layout (CLIP: `vision_model.*` +
 *                                      `visual_projection.weight`; DINOv2: no prefix; SigLIP: `vision_model.*`),
 *                                      PyTorch tensor layouts, F32 or F16 (`--dtype float16` halves the file;
 *                                      widened to float32 on load)
 *
 * So a converted folder is ALSO a valid HF checkpoint folder (transformers loads it with the
 * architecture in config.json), and our loader reads it through the same key map as any HF
 * checkpoint. logolab.json marks it as ours and pins the exact config used. The folder is written
 * atomically (temp folder + rename): a failed conversion leaves no partial output.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { writeSafetensors, type WriteTensor } from '../io/safetensors.js';
import { openCheckpoint } from '../io/checkpoint.js';
import { checkOutputDir, replaceOutputDir, type OutputGuard } from '../io/output-dir.js';
import { firstNonFinite, nonFiniteName } from '../util/finite.js';
import { hfVisionConfig, type VisionFamily } from './vision/config.js';
import { processorConfigFor } from './vision/processor.js';
import { FAMILIES } from './vision/families.js';
import { loadVisionModel, planLoad } from './vision/load.js';
import { onDiskTensors } from './vision/weights.js';
import type { VisionModel } from './vision/model.js';
import { mergeLora } from './lora/apply.js';
import { adapterFor, assertNotAdapterOnly } from './export-folder.js';
import { FORMAT_NAME, FORMAT_VERSION, readModelConfig, readRecordedPreprocessMode, type LogolabMeta, type StoreDtype } from './vision/meta.js';

export { FORMAT_NAME, FORMAT_VERSION, readLogolabMeta, type LogolabMeta, type StoreDtype } from './vision/meta.js';

/**
 * Whether `rel` (a path inside a model or adapter folder) is read when the folder is loaded: weights,
 * configs, an export's adapter/. A results file a user keeps beside them is not, and may be
 * rewritten by a command's output (eval --json); these may not.
 */
export function isModelFolderFile(rel: string): boolean {
  const name = basename(rel);
  if (/\.(safetensors|bin|pt|pth|ckpt)$/i.test(name) || name.endsWith('.index.json')) return true;
  if (rel.split(/[\\/]/)[0] === 'adapter') return true;
  return ['config.json', 'preprocessor_config.json', 'adapter_config.json', 'export_metadata.json', 'logolab.json'].includes(name);
}

/** Every file `convert` writes (a vision model or a DETR folder): all that a folder from before the marker may hold to be replaced. */
export const CONVERT_FILES: readonly string[] = ['model.safetensors', 'logolab.json', 'config.json', 'preprocessor_config.json'];

/** The rules for a `convert --out` folder (src/io/output-dir.ts); logolab.json marks conversions made before the marker. */
export function convertGuard(source: string, overwrite?: boolean): OutputGuard {
  return { command: 'convert', flag: '--out', legacyMarkers: ['logolab.json'], ownFiles: CONVERT_FILES, overwrite, protect: [{ path: source, what: 'source model' }] };
}

/** Largest finite float16. */
const F16_MAX = 65504;

/** Refuses NaN/Inf, and values float16 cannot hold (they would be stored as ±Inf). */
export function checkStorable(data: Float32Array, dtype: StoreDtype, what: string): void {
  const i = firstNonFinite(data);
  if (i >= 0) throw new LogolabError(`${what} holds ${nonFiniteName(data[i]!)} at index ${i}; refusing to convert a broken checkpoint`);
  if (dtype !== 'float16') return;
  for (let j = 0; j < data.length; j++)
    if (Math.abs(data[j]!) > F16_MAX) throw new LogolabError(`${what} holds ${data[j]} at index ${j}, beyond float16's range (±${F16_MAX}); convert with --dtype float32`);
}

export interface ConvertResult {
  family: VisionFamily;
  parameters: number;
  unused: string[];
  bytes: number;
  outFile: string;
  /** the export's LoRA adapter folder, merged into the written weights */
  mergedAdapter?: string;
}

/** Converts an HF checkpoint folder (or a converted one) into a logolab folder at `out`. */
export async function convertModel(src: string, out: string, opts: { dtype?: StoreDtype; onTensor?: (done: number, total: number) => void; overwrite?: boolean } = {}): Promise<ConvertResult> {
  const dtype = opts.dtype ?? 'float32';
  const srcAbs = resolve(src);
  if (!existsSync(srcAbs)) throw new LogolabError(`${src}: model folder not found`);
  const outAbs = resolve(out);
  if (outAbs === srcAbs) throw new LogolabError(`--out ${out}: is the source folder; write the converted model elsewhere`);
  // the output folder is replaced as a whole: only ever an earlier conversion, an empty folder, or
  // (--overwrite) a foreign one — never the source
  const guard = convertGuard(srcAbs, opts.overwrite);
  checkOutputDir(out, guard);
  assertNotAdapterOnly(srcAbs);
  // a logolab export keeps its LoRA adapter unmerged in adapter/: the converted folder holds the
  // merged weights, so it is the fine-tuned model (converting the base tensors alone would silently
  // drop the fine-tune)
  const adapter = adapterFor(srcAbs);
  const { config: cfg0, architecture, requireProjection } = readModelConfig(srcAbs);
  // export_metadata.json is not carried over: the training mode it records moves into logolab.json,
  // or the converted model would be read with 'default' preprocessing
  const recorded = readRecordedPreprocessMode(srcAbs);
  const store = openCheckpoint(srcAbs);
  let merged: VisionModel | null = null;
  try {
    const plan = planLoad(cfg0, store.keys(), (k) => store.info(k), store.source, { requireProjection });
    const { config, entries: from, unused, parameters } = plan;
    const fam = FAMILIES[config.family];
    const to = fam.keyMap(config, fam.canonicalLayout(config));
    const { cfg: procCfg } = processorConfigFor(srcAbs, config.family, config);
    let mergedTensors: Map<string, { shape: number[]; data: Float32Array }> | null = null;
    if (adapter) {
      merged = await loadVisionModel(srcAbs, { quiet: true });
      mergeLora(merged);
      mergedTensors = onDiskTensors(to, new Map(merged.namedTensors()));
    }
    const outFile = join(outAbs, 'model.safetensors');
    await replaceOutputDir(outAbs, guard, (tmp) => {
      const tensors = new Map<string, WriteTensor>();
      from.forEach((e, i) => {
        const key = to[i]!.key;
        const t = mergedTensors ? { dtype: 'float32', data: mergedTensors.get(key)!.data } : store.read(e.key);
        if (t.dtype !== 'float32') throw new LogolabError(`${store.source}: tensor '${e.key}' has an integer dtype, expected float`);
        checkStorable(t.data as Float32Array, dtype, `${store.source}: tensor '${e.key}'${mergedTensors ? ' (LoRA merged)' : ''}`);
        tensors.set(key, { shape: e.shape, data: t.data, dtype: dtype === 'float16' ? 'F16' : 'F32' });
        opts.onTensor?.(i + 1, from.length);
      });
      writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt', logolab_format: `${FORMAT_NAME}/${FORMAT_VERSION}` });
      const meta: LogolabMeta = {
        format: FORMAT_NAME, version: FORMAT_VERSION, family: config.family, dtype, vision_config: config, parameters,
        source: srcAbs, source_architecture: architecture, unused_source_keys: unused.length, ...(adapter ? { merged_adapter: adapter } : {}),
        ...(recorded ? { preprocess_mode: recorded.mode } : {}), created: new Date().toISOString(),
      };
      writeFileSync(join(tmp, 'logolab.json'), JSON.stringify(meta, null, 2) + '\n');
      writeFileSync(join(tmp, 'config.json'), JSON.stringify(hfVisionConfig(config), null, 2) + '\n');
      writeFileSync(join(tmp, 'preprocessor_config.json'), JSON.stringify(procCfg, null, 2) + '\n');
    });
    return { family: config.family, parameters, unused, bytes: statSync(outFile).size, outFile, ...(adapter ? { mergedAdapter: adapter } : {}) };
  } finally {
    merged?.dispose();
    store.close();
  }
}
