/** Draws detections (boxes + "label score") on a copy of an image with an SVG overlay (sharp). */
import type { RgbImage } from '../preprocess/image.js';
import { toSharp } from '../preprocess/image.js';
import { escapeXml as esc } from '../util/xml.js';
import type { DetectionResult } from './detector.js';

const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

export function detectionsSvg(width: number, height: number, det: DetectionResult): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(10, Math.round(Math.min(width, height) / 40));
  const parts: string[] = [];
  det.boxes.forEach((b, i) => {
    const c = COLOURS[det.labels[i]! % COLOURS.length]!;
    const [x0, y0, x1, y1] = [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(width, b[2]), Math.min(height, b[3])];
    const text = `${esc(det.labelNames[i] ?? String(det.labels[i]))} ${det.scores[i]!.toFixed(2)}`;
    const ty = y0 - font - 4 >= 0 ? y0 - font - 4 : y0;
    parts.push(`<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${Math.max(0, y1 - y0).toFixed(1)}" fill="none" stroke="${c}" stroke-width="${stroke}"/>`);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${ty.toFixed(1)}" width="${(text.length * font * 0.6 + 6).toFixed(1)}" height="${font + 4}" fill="${c}"/>`);
    parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${(ty + font).toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="#fff">${text}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** PNG bytes of the image with its detections drawn. */
export async function drawDetections(img: RgbImage, det: DetectionResult): Promise<Buffer> {
  const svg = Buffer.from(detectionsSvg(img.width, img.height, det));
  return toSharp(img).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}
