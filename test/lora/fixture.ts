/** Shared loading of the LoRA fixture for the LoRA tests. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FIXTURES } from '../helpers.js';
import { readSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { loadVisionModel, type VisionModel } from '../../src/models/vision/index.js';

export const LORA = join(FIXTURES, 'lora');
export const ADAPTER = join(LORA, 'adapter');
export const CLIP_TINY = join(FIXTURES, 'clip_tiny/model');
export const io = readSafetensors(join(LORA, 'io.safetensors'));
export const values = JSON.parse(readFileSync(join(LORA, 'values.json'), 'utf8')) as { 'loss_infonce_t0.07': number; trainable: string[] };

export function ioTensor(name: string): HostTensor {
  const t = io.get(name);
  if (!t) throw new Error(`fixture lora/io.safetensors: no '${name}'`);
  return t;
}

export function pixels(): tf.Tensor4D {
  const t = ioTensor('pixel_values');
  return tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]);
}

export const labels = (): Int32Array => ioTensor('labels').data as Int32Array;

export function loadTiny(): Promise<VisionModel> {
  return loadVisionModel(CLIP_TINY, { quiet: true });
}
