/**
 * Image processors against HF transformers 5.17 (fixtures/preprocess): CLIPImageProcessor,
 * BitImageProcessor (DINOv2), SiglipImageProcessor on the 4 fixture images.
 * The fixtures were made by HF's fast (torchvision) processors — the transformers 5 default; our
 * default backend reproduces them bit for bit. The 'pil' backend (HF slow processors) differs by
 * ±1–2 grey levels at edge pixels: torch's uint8 antialias kernel uses int16 weights with ~15
 * fraction bits where Pillow uses 22, so a few pixels round the other way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { LogolabError } from '../../src/errors.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { decodeImage, type RgbImage } from '../../src/preprocess/image.js';
import {
  centerCrop, defaultPreprocessorConfig, imageProcessorFromConfig, letterboxPad, loadImageProcessor,
  shortestEdgeSize, type ProcessorBackend,
} from '../../src/preprocess/processors.js';
import { FIXTURES, maxAbsDiff, meanAbsDiff, tmpDir } from '../helpers.js';

const README = JSON.parse(readFileSync(join(FIXTURES, 'preprocess', 'README.json'), 'utf8')) as Record<string, { class: string; kwargs: Record<string, unknown> }>;
const MEAN_TOL = 0.01;
const MAX_TOL = 0.2;

function hasNaN(a: Float32Array): boolean {
  for (const v of a) if (!Number.isFinite(v)) return true;
  return false;
}

for (const backend of ['torchvision', 'pil'] as ProcessorBackend[]) {
  for (const [key, spec] of Object.entries(README)) {
    const family = key.split(':')[0]!;
    test(`parity ${family} ${spec.class} (backend ${backend}) vs HF fixtures`, async () => {
      const golden = readSafetensors(join(FIXTURES, 'preprocess', `${family}__${spec.class}.safetensors`));
      const proc = imageProcessorFromConfig({ image_processor_type: spec.class, ...spec.kwargs }, { backend, source: key });
      assert.equal(proc.kind, spec.class);
      assert.deepEqual(proc.outputSize, { height: 224, width: 224 });
      assert.equal(golden.size, 4);
      for (const [name, t] of golden) {
        const img = await decodeImage(join(FIXTURES, 'images', `${name}.png`));
        const px = proc.process(img);
        assert.deepEqual(t.shape, [3, 224, 224]);
        assert.equal(px.length, 3 * 224 * 224);
        assert.ok(!hasNaN(px));
        const mean = meanAbsDiff(px, t.data);
        const max = maxAbsDiff(px, t.data);
        console.log(`  ${family.padEnd(6)} ${backend.padEnd(11)} ${name.padEnd(13)} mean ${mean.toExponential(2)}  max ${max.toExponential(2)}`);
        assert.ok(mean <= MEAN_TOL && max <= MAX_TOL, `${name}: mean ${mean} max ${max}`);
        // What we actually achieve (a regression guard, far inside the tolerance above).
        if (backend === 'torchvision') assert.ok(max <= 1e-6, `${name}: torchvision backend should be exact, max ${max}`);
        else assert.ok(mean <= 1e-4 && max <= 0.05, `${name}: pil backend mean ${mean} max ${max}`);
      }
    });
  }
}

test('HF size rules: int sizes, legacy CLIP config, shortest-edge arithmetic', async () => {
  // openai/clip-vit-large-patch14's preprocessor_config.json (legacy feature-extractor form).
  const legacy = imageProcessorFromConfig({
    crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 224,
  });
  assert.equal(legacy.kind, 'CLIPImageProcessor');
  assert.deepEqual(legacy.config.size, { shortest_edge: 224 });
  assert.deepEqual(legacy.config.crop_size, { height: 224, width: 224 });
  assert.equal(legacy.config.do_rescale, true); // HF default filled in
  const modern = imageProcessorFromConfig({ image_processor_type: 'CLIPImageProcessor', ...README['clip:CLIPImageProcessor']!.kwargs });
  const img = await decodeImage(join(FIXTURES, 'images', 'wide_300x200.png'));
  assert.deepEqual(legacy.process(img), modern.process(img));
  // SigLIP: an int size is a square.
  const sig = imageProcessorFromConfig({ image_processor_type: 'SiglipImageProcessor', size: 32 });
  assert.deepEqual(sig.outputSize, { height: 32, width: 32 });
  assert.deepEqual(sig.mean, [0.5, 0.5, 0.5]);
  // BitImageProcessor defaults are CLIP's mean/std (dinov2 checkpoints override them).
  const bit = imageProcessorFromConfig({ image_processor_type: 'BitImageProcessor' });
  assert.deepEqual(bit.mean, [0.48145466, 0.4578275, 0.40821073]);
  // int(size * long / short): 40x23 → 389x224 (389.56 truncated), 97x151 → 224x348.
  assert.deepEqual(shortestEdgeSize(40, 23, 224), { width: 389, height: 224 });
  assert.deepEqual(shortestEdgeSize(97, 151, 224), { width: 224, height: 348 });
  assert.deepEqual(shortestEdgeSize(97, 151, 256), { width: 256, height: 398 });
});

test('config validation: unknown / invalid fields → LogolabError naming the field', () => {
  const base = { image_processor_type: 'CLIPImageProcessor' };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...base, do_resise: true }, /'do_resise'/],
    [{ ...base, size: { longest_edge: 5 } }, /'size'/],
    [{ ...base, size: -3 }, /'size'/],
    [{ ...base, resample: 9 }, /'resample'/],
    [{ ...base, image_std: [0.5, 0, 0.5] }, /'image_std'/],
    [{ ...base, image_mean: [0.5, 0.5] }, /'image_mean'/],
    [{ ...base, do_normalize: 'yes' }, /'do_normalize'/],
    [{ ...base, rescale_factor: 0 }, /'rescale_factor'/],
    [{ ...base, crop_pct: 0.875 }, /'crop_pct'/],
    [{ ...base, do_center_crop: false }, /'do_center_crop'/], // image-dependent output size
    [{ image_processor_type: 'SiglipImageProcessor', size: { shortest_edge: 224 } }, /'size'/],
    [{ image_processor_type: 'SiglipImageProcessor', do_center_crop: true }, /'do_center_crop'/],
    [{ image_processor_type: 'ViTImageProcessor' }, /'image_processor_type'.*not supported/],
    [{ size: 224 }, /'image_processor_type' is missing/],
  ];
  for (const [cfg, re] of bad) {
    assert.throws(() => imageProcessorFromConfig(cfg, { source: 'm/preprocessor_config.json' }), (e: Error) => e instanceof LogolabError && re.test(e.message) && e.message.startsWith('m/preprocessor_config.json'), JSON.stringify(cfg));
  }
  assert.throws(() => imageProcessorFromConfig(base, { mode: 'zoom' as 'default' }), /preprocess mode 'zoom'/);
  // Keys that HF's fast processors save, with neutral values, are accepted.
  const fast = imageProcessorFromConfig({
    ...base, image_processor_type: 'CLIPImageProcessorFast', data_format: 'channels_first', input_data_format: null, device: null,
    return_tensors: null, default_to_square: false, crop_pct: null, disable_grouping: null, processor_class: 'CLIPProcessor',
  });
  assert.equal(fast.kind, 'CLIPImageProcessor');
});

test('loadImageProcessor reads <dir>/preprocessor_config.json; missing or broken file → error naming it', () => {
  const dir = tmpDir();
  assert.throws(() => loadImageProcessor(dir), (e: Error) => e instanceof LogolabError && e.message.includes(join(dir, 'preprocessor_config.json')));
  writeFileSync(join(dir, 'preprocessor_config.json'), '{ "size": ');
  assert.throws(() => loadImageProcessor(dir), (e: Error) => e instanceof LogolabError && e.message.includes('preprocessor_config.json'));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify(defaultPreprocessorConfig('dinov2')));
  const p = loadImageProcessor(dir, { mode: 'letterbox' });
  assert.equal(p.kind, 'BitImageProcessor');
  assert.deepEqual(p.config.size, { shortest_edge: 256 });
  assert.deepEqual(p.outputSize, { height: 224, width: 224 });
});

test('defaultPreprocessorConfig per family builds the reference checkpoints\' processors', () => {
  const clip = imageProcessorFromConfig(defaultPreprocessorConfig('clip'));
  const dino = imageProcessorFromConfig(defaultPreprocessorConfig('dinov2'));
  const sig = imageProcessorFromConfig(defaultPreprocessorConfig('siglip'));
  assert.deepEqual([clip.kind, dino.kind, sig.kind], ['CLIPImageProcessor', 'BitImageProcessor', 'SiglipImageProcessor']);
  assert.deepEqual(dino.mean, [0.485, 0.456, 0.406]);
  for (const p of [clip, dino, sig]) assert.deepEqual(p.outputSize, { height: 224, width: 224 });
  assert.deepEqual(imageProcessorFromConfig(defaultPreprocessorConfig('clip', 336)).outputSize, { height: 336, width: 336 });
  assert.throws(() => defaultPreprocessorConfig('vit' as 'clip'), LogolabError);
});

test('centre crop: HF slow (floor, ceil pad) vs torchvision (round-half-even, floor pad) anchors', () => {
  const mk = (w: number, h: number): RgbImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => Math.floor(i / 3) % 251) });
  const img = mk(1, 7); // column of 7 pixels: values 0..6
  const col = (x: RgbImage) => Array.from({ length: x.height }, (_, i) => x.data[i * 3]);
  // (7-4)/2 = 1.5: slow → 1, torchvision → round(1.5) = 2
  assert.deepEqual(col(centerCrop(img, 4, 1, 'pil')), [1, 2, 3, 4]);
  assert.deepEqual(col(centerCrop(img, 4, 1, 'torchvision')), [2, 3, 4, 5]);
  // (9-4)/2 = 2.5 → round half to even = 2
  assert.deepEqual(col(centerCrop(mk(1, 9), 4, 1, 'torchvision')), [2, 3, 4, 5]);
  // too small: 7 → 10 pads 3: slow puts ceil(1.5)=2 zeros on top, torchvision floor = 1
  assert.deepEqual(col(centerCrop(img, 10, 1, 'pil')), [0, 0, 0, 1, 2, 3, 4, 5, 6, 0]);
  assert.deepEqual(col(centerCrop(img, 10, 1, 'torchvision')), [0, 0, 1, 2, 3, 4, 5, 6, 0, 0]);
  const wide = centerCrop(mk(3, 2), 4, 5, 'torchvision'); // pad both sides
  assert.equal(wide.width, 5);
  assert.equal(wide.height, 4);
  assert.deepEqual(Array.from({ length: 5 }, (_, x) => wide.data[(1 * 5 + x) * 3]), [0, 0, 1, 2, 0]);
});

test('letterbox / stretch modes reproduce the reference (black bars, floor-centred, LANCZOS) against Pillow', () => {
  const g = readSafetensors(join(import.meta.dirname, 'golden', 'pil_golden.safetensors'));
  // A 48-px CLIP processor with rescale/normalise off, so pixel_values are the uint8 pixels.
  const cfg = { image_processor_type: 'CLIPImageProcessor', size: 48, crop_size: 48, do_rescale: false, do_normalize: false };
  for (const name of ['wide', 'tall']) {
    const t = g.get(`${name}.in`)!;
    const img: RgbImage = { height: t.shape[0]!, width: t.shape[1]!, data: Uint8Array.from(t.data) };
    for (const mode of ['letterbox', 'stretch'] as const) {
      const px = imageProcessorFromConfig(cfg, { mode }).process(img);
      const ref = g.get(`${name}.${mode}`)!; // [48, 48, 3] HWC
      const hwc = new Float32Array(48 * 48 * 3);
      for (let c = 0; c < 3; c++) for (let i = 0; i < 48 * 48; i++) hwc[i * 3 + c] = px[c * 48 * 48 + i]!;
      assert.equal(maxAbsDiff(hwc, ref.data), 0, `${name} ${mode}`);
    }
  }
  // Bars are black → normalised to -mean/std; placement is floor-centred.
  const pad = letterboxPad({ width: 5, height: 2, data: new Uint8Array(30).fill(200) });
  assert.equal(pad.width, 5);
  assert.equal(pad.height, 5);
  const rows = Array.from({ length: 5 }, (_, y) => pad.data[y * 15]);
  assert.deepEqual(rows, [0, 200, 200, 0, 0]); // (5-2)//2 = 1 row above
  const clip = imageProcessorFromConfig(defaultPreprocessorConfig('clip'), { mode: 'letterbox' });
  const px = clip.process({ width: 300, height: 100, data: new Uint8Array(300 * 100 * 3).fill(255) });
  assert.ok(Math.abs(px[0]! - -0.48145466 / 0.26862954) < 1e-5); // top-left is a bar
  assert.ok(Math.abs(px[112 * 224 + 112]! - (1 - 0.48145466) / 0.26862954) < 1e-5); // centre is the image
});

test('process(img, out, offset) writes one image of a [B, 3, H, W] batch in place', async () => {
  const proc = imageProcessorFromConfig(defaultPreprocessorConfig('siglip', 16));
  const a = await decodeImage(join(FIXTURES, 'images', 'small_40x23.png'));
  const b = await decodeImage(join(FIXTURES, 'images', 'tall_97x151.png'));
  const per = 3 * 16 * 16;
  const batch = new Float32Array(2 * per).fill(NaN);
  assert.equal(proc.process(a, batch, 0), batch);
  proc.process(b, batch, per);
  assert.deepEqual(batch.subarray(0, per), proc.process(a));
  assert.deepEqual(batch.subarray(per), proc.process(b));
  assert.throws(() => proc.process(a, batch, per + 1), LogolabError);
});
