/** Kept import path of the conv + residual op (now in src/backend/native/fused-ops.ts): re-exports only. */
export { conv2dResidual } from './native/fused-ops.js';
