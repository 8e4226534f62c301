/**
 * Which pixel grid a VOC file's boxes refer to. decodeImage applies the EXIF orientation (as HF's
 * load_image does), but an annotation tool that ignores EXIF writes boxes, and `<size>`, in the
 * stored grid. `<size>` tells the two apart when the orientation swaps width and height (EXIF 5–8):
 * boxes in the stored grid are then mapped through the rotation. For EXIF 2–4 both grids have the
 * same size, and the boxes are taken as given in the displayed one. A `<size>` that matches
 * neither grid means the boxes belong to another picture: the image is refused, not cropped blind.
 */
import type { Box } from '../util/box.js';

export interface StoredImage {
  /** as stored in the file (before the EXIF orientation) */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 or missing: none) */
  orientation?: number;
}

/** A raw-grid box of a w×h stored image in the displayed grid, for EXIF orientations 5–8. */
export function rotateBox(b: Box, w: number, h: number, orientation: number): Box {
  const pts = [
    [b[0], b[1]],
    [b[2], b[3]],
  ].map(([x, y]) => {
    switch (orientation) {
      case 5: return [y!, x!]; // transpose
      case 6: return [h - y!, x!]; // rotate 90° clockwise
      case 7: return [h - y!, w - x!]; // transverse
      case 8: return [y!, w - x!]; // rotate 90° counter-clockwise
      default: throw new Error(`internal: rotateBox for orientation ${orientation}`);
    }
  });
  return [Math.min(pts[0]![0]!, pts[1]![0]!), Math.min(pts[0]![1]!, pts[1]![1]!), Math.max(pts[0]![0]!, pts[1]![0]!), Math.max(pts[0]![1]!, pts[1]![1]!)];
}

/**
 * How to place the annotation's boxes on the decoded image: 'as-is', a mapping from the stored grid,
 * or a one-line reason the annotation does not fit this image. A missing or zero `<size>` (some
 * VOC writers leave it out) is taken as the displayed grid.
 */
export function placeVocBoxes(size: { width: number | null; height: number | null }, stored: StoredImage, shown: { width: number; height: number }):
  | { kind: 'as-is' }
  | { kind: 'rotate'; map: (b: Box) => Box }
  | { kind: 'mismatch'; detail: string } {
  const { width: w, height: h } = size;
  if (!w || !h || (w === shown.width && h === shown.height)) return { kind: 'as-is' };
  const o = stored.orientation ?? 1;
  if (o >= 5 && o <= 8 && w === stored.width && h === stored.height) return { kind: 'rotate', map: (b) => rotateBox(b, w, h, o) };
  return { kind: 'mismatch', detail: `<size> ${w}x${h} differs from the image's ${shown.width}x${shown.height}${o !== 1 ? ` (stored ${stored.width}x${stored.height}, EXIF orientation ${o})` : ''}` };
}
