/** A copy of the fixture DETR at a small input size (64–96 px), its weights edited when asked, for the detection tests. */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';

type Tensors = Map<string, { shape: number[]; data: Float32Array; dtype: 'F32' }>;

/** Copies test/fixtures/detr_tiny/model to `dir`; `edit` changes its tensors (other weights, same shapes). Returns `dir`. */
export function tinyDetrCopy(dir: string, edit?: (t: Tensors) => void): string {
  cpSync(join(FIXTURES, 'detr_tiny/model'), dir, { recursive: true });
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 64, longest_edge: 96 } }));
  if (edit) {
    const t: Tensors = new Map();
    for (const [k, v] of readSafetensors(join(dir, 'model.safetensors'))) t.set(k, { shape: v.shape, data: Float32Array.from(v.data as Float32Array), dtype: 'F32' });
    edit(t);
    writeSafetensors(join(dir, 'model.safetensors'), t);
  }
  return dir;
}
