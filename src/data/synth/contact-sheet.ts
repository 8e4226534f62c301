/** The contact sheet of `logolab synth --contact-sheet`: sample scenes with their boxes, one PNG. */
import sharp from 'sharp';
import { writeFileAtomic } from '../../io/atomic.js';
import type { Job } from './plan.js';
import type { Scene } from './scene.js';

export interface Done {
  job: Job;
  /** the folder's own logo name (green in the contact sheet) */
  own?: string;
  scene: Scene;
  jpeg: Buffer;
}

/** Grid of scenes with their boxes: green = the folder's brand, cyan = another selected brand, red = unlabelled distractor. */
export async function writeContactSheet(path: string, items: Done[]): Promise<void> {
  const T = 200, cols = 6, rows = Math.max(1, Math.ceil(items.length / cols)), gap = 4;
  const W = cols * T + (cols + 1) * gap, H = rows * T + (rows + 1) * gap;
  const sheet = Buffer.alloc(W * H * 3, 40);
  for (let k = 0; k < items.length; k++) {
    const { scene, jpeg, own } = items[k]!;
    const { width, height } = scene.canvas;
    const s = Math.min(T / width, T / height);
    const tw = Math.round(width * s), th = Math.round(height * s);
    const tile = await sharp(jpeg).resize(tw, th).raw().toBuffer();
    const ox = gap + (k % cols) * (T + gap) + Math.floor((T - tw) / 2), oy = gap + Math.floor(k / cols) * (T + gap) + Math.floor((T - th) / 2);
    for (let y = 0; y < th; y++) tile.copy(sheet, ((oy + y) * W + ox) * 3, y * tw * 3, (y + 1) * tw * 3);
    const rect = (b: [number, number, number, number], col: [number, number, number]) => {
      const x0 = ox + Math.floor(b[0] * s), y0 = oy + Math.floor(b[1] * s), x1 = ox + Math.min(tw - 1, Math.ceil(b[2] * s) - 1), y1 = oy + Math.min(th - 1, Math.ceil(b[3] * s) - 1);
      const put = (x: number, y: number) => {
        if (x >= ox && y >= oy && x < ox + tw && y < oy + th) col.forEach((v, ch) => (sheet[(y * W + x) * 3 + ch] = v));
      };
      // 2-px outline, inside the box
      for (let x = x0; x <= x1; x++) for (const y of [y0, y0 + 1, y1 - 1, y1]) put(x, y);
      for (let y = y0; y <= y1; y++) for (const x of [x0, x0 + 1, x1 - 1, x1]) put(x, y);
    };
    for (const d of scene.distractors) rect(d.box, [230, 40, 40]);
    for (const o of scene.objects) rect(o.box, own !== undefined && o.name === own ? [40, 230, 60] : [40, 220, 230]);
  }
  writeFileAtomic(path, await sharp(sheet, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
}
