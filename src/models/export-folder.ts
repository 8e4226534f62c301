/**
 * Model folders that carry an adapter. A logolab-format export (training/export.ts) holds the HF
 * base weights plus the trained LoRA adapter in `adapter/`; loading it as a model must apply that
 * adapter — otherwise the "fine-tuned" model is silently the base model. A peft folder (adapter
 * only) is not a model at all and says how to use it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';

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
    let meta: { format?: unknown; lora?: unknown; lora_merged?: unknown } = {};
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw new LogolabError(`${metaPath}: invalid JSON (${(e as Error).message})`);
    }
    if (meta.format === 'logolab' && meta.lora && meta.lora_merged === false && explicit === undefined)
      throw new LogolabError(`${dir}: export_metadata.json says the LoRA adapter is kept unmerged in ${EXPORT_ADAPTER_DIR}/, but ${own} is missing (removed?); without it this folder is only the base model — export the checkpoint again`);
  }
  return explicit;
}
