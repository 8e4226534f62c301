/** How prepare (both layouts) records an image over the decoder's pixel limit: one wording, one test. */

/** The image_too_large detail for `path` when a decode error `message` is sharp's pixel limit, else null. */
export function pixelLimitDetail(path: string, message: string): string | null {
  return /exceeds pixel limit/.test(message) ? `${path}: more pixels than the decoder accepts (sharp's limit, 16383 × 16383); downscale it` : null;
}
