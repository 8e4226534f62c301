/**
 * The safetensors dtypes (their sizes, which the reader accepts, which a rewrite stores) and the
 * tensor records passed between the reader, the writer and the checkpoint stores.
 */

export type StDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'I8' | 'BOOL';
export const ITEMSIZE: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, U8: 1, I8: 1, BOOL: 1 };
export const READABLE = new Set<StDtype>(['F32', 'F16', 'BF16', 'I32', 'I64', 'F64', 'U8', 'I8', 'BOOL']);

export interface TensorInfo {
  dtype: StDtype;
  shape: number[];
  /** absolute byte offsets in the file */
  begin: number;
  end: number;
}

/** A tensor as read: float dtypes become Float32Array, integer/bool dtypes Int32Array. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  /** the dtype in the file, before widening (F16, BF16, F64 → float32) or narrowing (I64 → int32) */
  stored: StDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * The dtype a rewrite of `t` stores: floats as float32, integers at their stored width where a
 * writer has it (I64 stays I64, so torch reads an `int64` buffer back as `int64`), else I32.
 */
export function rewriteDtype(t: HostTensor): WriteDtype {
  if (t.dtype === 'float32') return 'F32';
  return t.stored === 'I64' ? 'I64' : 'I32';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
