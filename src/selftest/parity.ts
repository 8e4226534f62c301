/**
 * Selftest checks that need only src/: every encoder family and the detector against the
 * reference outputs of HF transformers (test/fixtures/README.md), with the parity tests' tolerances.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { readSafetensors, type HostTensor } from '../io/safetensors.js';
import { loadVisionModel } from '../models/vision/index.js';
import { loadDetrModel } from '../detect/load.js';
import { allWithin, within } from './report.js';

/** the encoder/DETR output tolerance of the parity tests */
export const OUTPUT_TOL = 1e-4;

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs reference ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

const t4 = (h: HostTensor) => tf.tensor4d(h.data as Float32Array, h.shape as [number, number, number, number]);

function ref(io: Map<string, HostTensor>, key: string, file: string): HostTensor {
  const t = io.get(key);
  if (!t) throw new Error(`${file}: no tensor '${key}'`);
  return t;
}

/** Forward of a vision fixture; `cases` maps an input key to [output field, reference key] pairs. */
async function encoderParity(fixtures: string, name: string, cases: Record<string, [('lastHiddenState' | 'poolerOutput' | 'imageEmbeds'), string][]>) {
  const file = join(fixtures, name, 'io.safetensors');
  const io = readSafetensors(file);
  const m = await loadVisionModel(join(fixtures, name, 'model'), { quiet: true });
  const parts: { ok: boolean; detail: string }[] = [];
  try {
    for (const [input, outs] of Object.entries(cases)) {
      const x = t4(ref(io, input, file));
      const out = m.forward(x);
      try {
        let worst = 0;
        for (const [field, key] of outs) worst = Math.max(worst, maxAbsDiff(await out[field].data(), ref(io, key, file).data));
        parts.push(within(`${input}: max abs err`, worst, OUTPUT_TOL));
      } finally {
        x.dispose();
        tf.dispose([out.lastHiddenState, out.poolerOutput, out.imageEmbeds]);
      }
    }
  } finally {
    m.dispose();
  }
  return allWithin(parts);
}

export const clipParity = (fixtures: string) =>
  encoderParity(fixtures, 'clip_tiny', { pixel_values: [['lastHiddenState', 'last_hidden_state'], ['poolerOutput', 'pooler_output'], ['imageEmbeds', 'image_embeds']] });

export const dinov2Parity = (fixtures: string) =>
  encoderParity(fixtures, 'dinov2_tiny', {
    pixel_values_32: [['lastHiddenState', 'last_hidden_state_32'], ['poolerOutput', 'pooler_output_32']],
    pixel_values_40: [['lastHiddenState', 'last_hidden_state_40'], ['poolerOutput', 'pooler_output_40']],
  });

export const siglipParity = (fixtures: string) =>
  encoderParity(fixtures, 'siglip_tiny', { pixel_values: [['lastHiddenState', 'last_hidden_state'], ['poolerOutput', 'pooler_output']] });

export async function detrParity(fixtures: string) {
  const file = join(fixtures, 'detr_tiny/io.safetensors');
  const io = readSafetensors(file);
  const model = loadDetrModel(join(fixtures, 'detr_tiny/model'));
  const x = t4(ref(io, 'pixel_values', file));
  try {
    const out = model.forward(x, ref(io, 'pixel_mask', file).data);
    try {
      let worst = 0;
      for (const [key, t] of [['logits', out.logits], ['pred_boxes', out.predBoxes], ['last_hidden_state', out.lastHiddenState]] as const) {
        worst = Math.max(worst, maxAbsDiff(await t.data(), ref(io, key, file).data));
      }
      return within('logits/boxes/hidden: max abs err', worst, OUTPUT_TOL);
    } finally {
      tf.dispose([out.logits, out.predBoxes, out.lastHiddenState]);
    }
  } finally {
    x.dispose();
    model.dispose();
  }
}
