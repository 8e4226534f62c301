/**
 * The colour PIL gives a GIF's transparent pixels. PIL opens a GIF's first frame as a palette
 * image and `convert('RGB')` maps every index through the palette, the transparent one included
 * (its stored colour, often white); libvips returns those pixels as 0,0,0 with alpha 0, so a
 * transparent-background logo embedded on black here and on white in Python. Read from the file:
 * the first frame's palette (local, else global) and its Graphic Control Extension's transparent
 * index (GIF89a spec, sections 18–23).
 */

export const isGif = (b: Buffer): boolean => b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a');


/** [r, g, b] of the first frame's transparent palette entry, or null (no transparency, or a malformed stream: libvips then decides). */
export function gifTransparentColour(b: Buffer): [number, number, number] | null {
  if (!isGif(b) || b.length < 13) return null;
  const tableSize = (packed: number) => 3 * 2 ** ((packed & 7) + 1);
  let p = 13;
  let global: Buffer | null = null;
  if (b[10]! & 0x80) {
    global = b.subarray(p, p + tableSize(b[10]!));
    p += tableSize(b[10]!);
  }
  let transparent: number | null = null;
  while (p < b.length) {
    const block = b[p]!;
    if (block === 0x21) {
      // extension: label, then sub-blocks (size byte + data) up to a 0 terminator
      const label = b[p + 1];
      if (label === 0xf9 && b[p + 2] === 4 && p + 6 < b.length) transparent = b[p + 3]! & 1 ? b[p + 6]! : null;
      p += 2;
      while (p < b.length && b[p] !== 0) p += b[p]! + 1;
      p += 1;
    } else if (block === 0x2c) {
      // the first image descriptor: its local palette, if any, replaces the global one
      if (p + 10 > b.length) return null;
      const packed = b[p + 9]!;
      const palette = packed & 0x80 ? b.subarray(p + 10, p + 10 + tableSize(packed)) : global;
      if (transparent === null || !palette || 3 * transparent + 2 >= palette.length) return null;
      return [palette[3 * transparent]!, palette[3 * transparent + 1]!, palette[3 * transparent + 2]!];
    } else return null;
  }
  return null;
}

/** RGBA (libvips' decode of the GIF) → RGB with the alpha-0 pixels in `colour`. */
export function fillTransparent(rgba: Uint8Array, colour: [number, number, number]): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const t = rgba[4 * i + 3] === 0;
    out[3 * i] = t ? colour[0] : rgba[4 * i]!;
    out[3 * i + 1] = t ? colour[1] : rgba[4 * i + 1]!;
    out[3 * i + 2] = t ? colour[2] : rgba[4 * i + 2]!;
  }
  return out;
}
