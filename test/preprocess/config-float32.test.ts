/**
 * preprocessor_config.json values that pass as positive numbers in float64 but give non-finite
 * float32 pixel_values are refused naming the file and field: they reached the model and came out
 * as a NaN embedding (or NaN DETR logits) blamed on the weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogolabError } from '../../src/errors.js';
import { imageProcessorFromConfig } from '../../src/preprocess/processors.js';
import { detrProcessorConfig } from '../../src/preprocess/detr.js';
import { makeImage } from '../../src/preprocess/image.js';

const SRC = '/m/preprocessor_config.json';
const CLIP = { image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } };

function refused(f: () => unknown, field: string): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof LogolabError, String(e));
    assert.match(e.message, new RegExp(`^${SRC}: field '${field}' `));
    return true;
  });
}

test('encoder processors: rescale_factor Infinity / 1e38 / 1e-46, image_std 1e-46, image_mean 1e39 are refused naming the field', () => {
  // JSON.parse('1e999') is Infinity
  for (const r of [JSON.parse('1e999') as number, 1e38, 1e-46, 1e-39]) refused(() => imageProcessorFromConfig({ ...CLIP, rescale_factor: r }, { source: SRC }), 'rescale_factor');
  refused(() => imageProcessorFromConfig({ ...CLIP, image_std: [1e-46, 1e-46, 1e-46] }, { source: SRC }), 'image_std');
  refused(() => imageProcessorFromConfig({ ...CLIP, image_mean: [0.5, 1e39, 0.5] }, { source: SRC }), 'image_mean');
  // each finite in float32, but (x − mean) / std is not
  refused(() => imageProcessorFromConfig({ ...CLIP, image_mean: [1e30, 0.5, 0.5], image_std: [1e-20, 0.5, 0.5] }, { source: SRC }), 'image_std');
  // unusual but finite values still work, with finite pixels on both backends
  for (const backend of ['torchvision', 'pil'] as const) {
    const px = imageProcessorFromConfig({ ...CLIP, rescale_factor: 1e30, image_std: [1e-5, 1e-5, 1e-5] }, { source: SRC, backend }).process(makeImage(40, 40, new Uint8Array(40 * 40 * 3).fill(255)));
    assert.ok(px.every(Number.isFinite), backend);
  }
  // without normalisation or rescaling, the fields that are not applied are not judged
  assert.ok(imageProcessorFromConfig({ ...CLIP, do_normalize: false, image_std: [1e-46, 1, 1] }, { source: SRC }));
});

test('DETR processor: rescale_factor 1e38 and image_std 1e-46 are refused naming the field', () => {
  refused(() => detrProcessorConfig({ rescale_factor: 1e38 }, SRC), 'rescale_factor');
  refused(() => detrProcessorConfig({ image_std: [1e-46, 0.224, 0.225] }, SRC), 'image_std');
  assert.ok(detrProcessorConfig({ rescale_factor: 1 / 255, image_std: [0.229, 0.224, 0.225] }, SRC));
});
