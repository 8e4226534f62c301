/** A LogoDet-3K-layout source for the prepare tests: <root>/<cat>/<brand>/<stem>.png (solid `rgb`, 120×80, so images of other colours differ in bytes) + its VOC XML. */
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeVoc } from '../../src/data/voc.js';

export type Obj = { name: string; box: [number, number, number, number] };

export async function addImage(root: string, cat: string, brand: string, stem: string, rgb: [number, number, number], objects: Obj[]): Promise<void> {
  const dir = join(root, cat, brand);
  mkdirSync(dir, { recursive: true });
  await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(join(dir, `${stem}.png`));
  writeFileSync(join(dir, `${stem}.xml`), writeVoc({ folder: brand, filename: `${stem}.png`, width: 120, height: 80, objects }));
}
