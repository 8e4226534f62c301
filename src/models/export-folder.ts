/**
 * Model folders that carry an adapter. A logolab-format export (training/export.ts) holds the HF
 * base weights plus the trained LoRA adapter in `adapter/`; loading it as a model must apply that
 * adapter — otherwise the "fine-tuned" model is silently the base model. A peft folder (adapter
 * only) is not a model at all and says how to use it.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { baseFingerprint } from './base-fingerprint.js';
import type { VisionModel } from './vision/model.js';
import { readJsonObject } from '../util/json.js';

/** The adapter folder inside a logolab export. */
export const EXPORT_ADAPTER_DIR = 'adapter';

/** Refuses a peft adapter folder given where a model folder is expected. */
export function assertNotAdapterOnly(dir: string): void {
  if (!existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'logolab.json')) && existsSync(join(dir, 'adapter_config.json')))
    throw new LogolabError(`${dir}: is a LoRA adapter (peft), not a model; give its base model as the model and this folder as --adapter (or export with --format logolab)`);
}

/**
 * The adapter to apply when loading `dir`: the export's own `adapter/` (which must agree with an
 * explicit --adapter), else the explicit one. An export whose metadata says its adapter is kept
 * unmerged in adapter/ but has none is refused.
 */
export function adapterFor(dir: string, explicit?: string): string | undefined {
  const own = join(dir, EXPORT_ADAPTER_DIR);
  if (existsSync(join(own, 'adapter_config.json'))) {
    if (explicit !== undefined && resolve(explicit) !== resolve(own))
      throw new LogolabError(`${dir}: is a logolab export with its own adapter (${own}); --adapter ${explicit} would be applied on top of it — give the base model with --adapter, or the export alone`);
    return own;
  }
  const metaPath = join(dir, 'export_metadata.json');
  if (existsSync(metaPath)) {
    const meta = readJsonObject(metaPath);
    if (meta.format === 'logolab' && meta.lora && meta.lora_merged === false && explicit === undefined)
      throw new LogolabError(`${dir}: export_metadata.json says the LoRA adapter is kept unmerged in ${EXPORT_ADAPTER_DIR}/, but ${own} is missing (removed?); without it this folder is only the base model — export the checkpoint again`);
  }
  return explicit;
}

/**
 * Refuses an adapter exported by logolab (export_metadata.json beside it records its base model's
 * fingerprint) when the model it is applied to is another base model.
 */
export function checkAdapterBase(model: VisionModel, adapterDir: string): void {
  // peft export: beside the adapter; logolab export: the folder holding adapter/
  const metaPath = [join(adapterDir, 'export_metadata.json'), ...(basename(resolve(adapterDir)) === EXPORT_ADAPTER_DIR ? [join(adapterDir, '..', 'export_metadata.json')] : [])].find((p) => existsSync(p));
  if (!metaPath) return;
  const meta = readJsonObject(metaPath);
  if (typeof meta.base_fingerprint !== 'string') return;
  const fp = baseFingerprint(model);
  if (fp !== meta.base_fingerprint)
    throw new LogolabError(
      `--adapter ${adapterDir}: was trained on another base model (${String(meta.base_model)}, fingerprint ${meta.base_fingerprint.slice(0, 12)}…) than ${model.dir || 'this model'} (${fp.slice(0, 12)}…); applying it would give wrong embeddings`,
    );
}
