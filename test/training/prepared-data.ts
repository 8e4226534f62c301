/** A prepared data dir for trainer/loader tests: `brands` brands × `per` crops (brand colour pattern + noise, 24×24 PNG). */
import { join } from 'node:path';
import sharp from 'sharp';
import { tmpDir } from '../helpers.js';
import { DataDbWriter } from '../../src/data/db-writer.js';
import { makeRng } from '../../src/util/rng.js';

export async function makeDataDir(brands: number, per: number): Promise<string> {
  const dir = tmpDir('logolab-train-data-');
  const w = DataDbWriter.open(dir);
  const rng = makeRng(1);
  for (let b = 0; b < brands; b++) {
    const base = [rng.int(256), rng.int(256), rng.int(256)];
    for (let i = 0; i < per; i++) {
      const px = Buffer.alloc(24 * 24 * 3);
      for (let k = 0; k < px.length; k++) px[k] = Math.max(0, Math.min(255, base[k % 3]! + (k % 7) * 10 * (b % 3) + Math.round(20 * rng.normal())));
      const crop = `Cat/brand${b}/img${i}_0.png`;
      await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(dir, 'reference_logos', crop.replace(/\//g, '__')));
      w.recordSource(`src/brand${b}/img${i}`, {
        filename: `Cat/brand${b}/img${i}.png`, source: `src/brand${b}/img${i}`, width: 24, height: 24, converted: null,
        objects: [{ objectIndex: 0, logoName: `brand${b}`, category: 'Cat', box: [0, 0, 24, 24], clipped: false, cropFile: crop.replace(/\//g, '__'), cropWidth: 24, cropHeight: 24 }],
      }, []);
    }
  }
  w.close();
  return dir;
}
