/**
 * The weights of a model folder, whatever the format they were saved in: `model.safetensors` (or
 * its sharded `model.safetensors.index.json`) when present, else `pytorch_model.bin` (or
 * `pytorch_model.bin.index.json`), read by the safe torch reader (src/io/torch/). A file path
 * (`*.safetensors`, `*.bin`) is opened directly. Every model loader and converter reads through here.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import { openTensorStore, TensorStore } from './safetensors.js';
import { TorchCheckpoint } from './torch/checkpoint.js';

export const CHECKPOINT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

export function openCheckpoint(pathOrDir: string): TensorStore {
  if (pathOrDir.endsWith('.bin') && existsSync(pathOrDir) && statSync(pathOrDir).isFile()) return new TensorStore(pathOrDir, [TorchCheckpoint.open(pathOrDir)]);
  const has = (f: string) => existsSync(join(pathOrDir, f));
  if (pathOrDir.endsWith('.safetensors') || has('model.safetensors') || has('model.safetensors.index.json')) return openTensorStore(pathOrDir);
  if (has('pytorch_model.bin') || has('pytorch_model.bin.index.json')) return openTensorStore(pathOrDir, 'pytorch_model.bin', TorchCheckpoint.open);
  throw new LogolabError(`${pathOrDir}: no weights found (none of ${CHECKPOINT_FILES.join(', ')})`);
}
