/**
 * Host-side (exact, cheap) pieces of DETR's spatial path: the pixel mask brought down to the
 * feature map (torch `interpolate(mode='nearest')`), and DetrSinePositionEmbedding(d/2,
 * normalize=True) computed from it — float32 arithmetic step by step, as torch does.
 */

/** pixelMask [B·H·W] (null = all valid) → [B·h·w] 0/1 with torch's nearest rule src = ⌊dst·(in/out)⌋. */
export function featureMask(pixelMask: ArrayLike<number> | null, B: number, H: number, W: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(B * h * w);
  if (!pixelMask) return out.fill(1);
  if (pixelMask.length !== B * H * W) throw new Error(`pixel_mask has ${pixelMask.length} values, expected ${B}×${H}×${W}`);
  const f = Math.fround;
  const sy = f(H / h);
  const sx = f(W / w);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < h; i++) {
      const yi = Math.min(Math.floor(f(i * sy)), H - 1);
      for (let j = 0; j < w; j++) {
        const xj = Math.min(Math.floor(f(j * sx)), W - 1);
        out[(b * h + i) * w + j] = pixelMask[(b * H + yi) * W + xj] ? 1 : 0;
      }
    }
  }
  return out;
}

/**
 * mask [B·h·w] → position embedding [B, h·w, d] (row-major positions, channels = [pos_y | pos_x],
 * each d/2 wide with sin on even and cos on odd channels; dim_t[j] = 10000^(2⌊j/2⌋/(d/2))).
 */
export function sinePositionEmbedding(mask: Uint8Array, B: number, h: number, w: number, d: number): Float32Array {
  const f = Math.fround;
  const half = d / 2;
  const scale = f(2 * Math.PI);
  const dimT = new Float32Array(half);
  for (let j = 0; j < half; j++) dimT[j] = f(Math.pow(10000, f(f(2 * Math.floor(j / 2)) / half)));
  const out = new Float32Array(B * h * w * d);
  const yEmb = new Float32Array(h * w);
  const xEmb = new Float32Array(h * w);
  for (let b = 0; b < B; b++) {
    const m = (i: number, j: number) => mask[(b * h + i) * w + j]!;
    // cumulative sums down the columns (y) and along the rows (x)
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let i = 0; i < h; i++) yEmb[i * w + j] = s += m(i, j);
    }
    for (let i = 0; i < h; i++) {
      let s = 0;
      for (let j = 0; j < w; j++) xEmb[i * w + j] = s += m(i, j);
    }
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const y = f(f(yEmb[i * w + j]! / f(yEmb[(h - 1) * w + j]! + 1e-6)) * scale);
        const x = f(f(xEmb[i * w + j]! / f(xEmb[i * w + (w - 1)]! + 1e-6)) * scale);
        const o = ((b * h + i) * w + j) * d;
        for (let c = 0; c < half; c++) {
          const vy = f(y / dimT[c]!);
          const vx = f(x / dimT[c]!);
          out[o + c] = c % 2 === 0 ? Math.sin(vy) : Math.cos(vy);
          out[o + half + c] = c % 2 === 0 ? Math.sin(vx) : Math.cos(vx);
        }
      }
    }
  }
  return out;
}
