/**
 * A tiny prepared data dir for evaluation tests (written through the data helper's DataDbWriter),
 * and a fake encoder whose embedding is a normalised 3×3 grid of mean colours (27-d): crops of the
 * same logo pattern land close together, different logos apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataDbWriter } from '../../src/data/db-writer.js';
import { REFERENCE_DIR, TEST_IMAGES_DIR } from '../../src/data/db-schema.js';
import { encodePng, makeImage, type RgbImage } from '../../src/preprocess/image.js';
import { makeRng } from '../../src/util/rng.js';
import type { CropEncoder } from '../../src/eval/encoder.js';
import { l2normalize } from '../../src/util/vector.js';
import type { Box } from '../../src/util/box.js';

const COLORS: Record<string, [number, number, number][]> = {
  alpha: [[220, 30, 30], [30, 30, 220]],
  beta: [[30, 200, 30], [220, 220, 30]],
  gamma: [[200, 30, 200], [30, 200, 200]],
  delta: [[240, 140, 20], [20, 20, 20]],
};
export const TINY_LOGOS = Object.keys(COLORS).sort();

function paintLogo(img: RgbImage, logo: string, box: Box, jitter: number): void {
  const [a, b] = COLORS[logo]!;
  const [x0, y0, x1, y1] = box;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      // left half colour a, right half colour b, with a diagonal stripe (pattern per logo)
      const c = x - x0 < (x1 - x0) / 2 ? a! : b!;
      const stripe = (x - x0 + y - y0) % 6 < 2 ? 40 : 0;
      const i = (y * img.width + x) * 3;
      for (let k = 0; k < 3; k++) img.data[i + k] = Math.max(0, Math.min(255, c[k]! - stripe + jitter));
    }
}

/** n images per logo with that logo (and sometimes a second one), plus `negatives` images with none. */
export async function makeTinyDataDir(dir: string, o: { perLogo?: number; negatives?: number; seed?: number } = {}): Promise<void> {
  const rng = makeRng(o.seed ?? 1);
  const w = DataDbWriter.open(dir);
  let n = 0;
  const addImage = async (logos: string[]) => {
    const img = makeImage(64, 48);
    for (let i = 0; i < img.data.length; i++) img.data[i] = 120 + rng.int(20);
    const objects = [];
    const stem = `img${String(n++).padStart(3, '0')}`;
    for (let k = 0; k < logos.length; k++) {
      const x0 = k === 0 ? 2 + rng.int(6) : 34 + rng.int(6);
      const y0 = 4 + rng.int(10);
      const box: Box = [x0, y0, x0 + 20 + rng.int(4), y0 + 18 + rng.int(6)];
      paintLogo(img, logos[k]!, box, rng.int(30) - 15);
      const cropFile = `Cat/${logos[k]}/${stem}_${k}.png`;
      const { cropImage } = await import('../../src/preprocess/image.js');
      const crop = cropImage(img, box);
      mkdirSync(dirname(join(dir, REFERENCE_DIR, cropFile)), { recursive: true });
      objects.push({ objectIndex: k, logoName: logos[k]!, category: 'Cat', box, clipped: false, cropFile, cropWidth: crop.width, cropHeight: crop.height, crop });
    }
    const filename = `Cat/${logos[0] ?? 'neg'}/${stem}.png`;
    mkdirSync(dirname(join(dir, TEST_IMAGES_DIR, filename)), { recursive: true });
    writeFileSync(join(dir, TEST_IMAGES_DIR, filename), await encodePng(img));
    for (const ob of objects) writeFileSync(join(dir, REFERENCE_DIR, ob.cropFile), await encodePng(ob.crop));
    w.recordSource(filename, { filename, source: filename, width: 64, height: 48, converted: null, objects: objects.map(({ crop: _c, ...x }) => x) }, []);
  };
  for (const l of TINY_LOGOS) {
    for (let i = 0; i < (o.perLogo ?? 5); i++) {
      const second = i % 3 === 2 ? TINY_LOGOS[(TINY_LOGOS.indexOf(l) + 1) % TINY_LOGOS.length]! : null;
      await addImage(second ? [l, second] : [l]);
    }
  }
  for (let i = 0; i < (o.negatives ?? 4); i++) await addImage([]);
  w.finish();
  w.close();
}

export function fakeEncoder(name = 'fake', fingerprint = 'fp-fake', noise = 0.12): CropEncoder & { calls: number; crops: number } {
  const enc = {
    name,
    fingerprint,
    preprocess: 'grid3:test',
    calls: 0,
    crops: 0,
    async embed(images: RgbImage[]): Promise<Float32Array[]> {
      enc.calls++;
      enc.crops += images.length;
      return images.map((im) => {
        const v = new Float64Array(27);
        const cnt = new Float64Array(9);
        for (let y = 0; y < im.height; y++)
          for (let x = 0; x < im.width; x++) {
            const g = Math.min(2, Math.floor((3 * y) / im.height)) * 3 + Math.min(2, Math.floor((3 * x) / im.width));
            cnt[g]!++;
            for (let k = 0; k < 3; k++) v[g * 3 + k]! += im.data[(y * im.width + x) * 3 + k]! / 255 - 0.5;
          }
        for (let g = 0; g < 9; g++) for (let k = 0; k < 3; k++) v[g * 3 + k]! /= Math.max(1, cnt[g]!);
        // deterministic per-crop noise (seeded by the pixels) so scores overlap like a real model's
        let h = 0;
        for (let i = 0; i < im.data.length; i++) h = (h * 31 + im.data[i]!) >>> 0;
        const r = makeRng(h);
        const n = Math.hypot(...v);
        for (let i = 0; i < 27; i++) v[i] = v[i]! / n + noise * r.normal();
        return l2normalize(v);
      });
    },
  };
  return enc;
}

/** Burnley folder layout: <logo>_reference_images/ and test_images/ with filename-prefix ground truth. */
export async function makeTinyFolders(root: string): Promise<void> {
  const rng = makeRng(9);
  const logos = ['alpha', 'beta'];
  const scene = (present: string[]) => {
    const img = makeImage(64, 48);
    for (let i = 0; i < img.data.length; i++) img.data[i] = 120 + rng.int(20);
    present.forEach((l, k) => paintLogo(img, l, [2 + 32 * k, 10, 28 + 32 * k, 36], rng.int(20) - 10));
    return img;
  };
  for (const l of logos) {
    mkdirSync(join(root, `${l}_reference_images`), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const img = makeImage(24, 24);
      paintLogo(img, l, [0, 0, 24, 24], rng.int(20) - 10);
      writeFileSync(join(root, `${l}_reference_images`, `${i}.png`), await encodePng(img));
    }
  }
  mkdirSync(join(root, 'test_images'), { recursive: true });
  const files: [string, string[]][] = [['alpha_1.png', ['alpha']], ['beta_1.png', ['beta']], ['alpha+beta_1.png', ['alpha', 'beta']], ['crowd_1.png', []], ['crowd_2.png', []]];
  for (const [f, present] of files) writeFileSync(join(root, 'test_images', f), await encodePng(scene(present)));
}
