/** An axis-aligned box in pixels: [x0, y0, x1, y1] (detector output, crop regions, VOC boxes). */
export type Box = [number, number, number, number];
