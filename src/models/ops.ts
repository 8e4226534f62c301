/**
 * The fused ops that model code calls. Each fused op returns null when it does not apply (then the
 * model runs its composite, which every backend has); today they run on the cpu backend with the
 * native kernels installed (src/backend/native/fused-ops.ts). Models import these, never the backend.
 *
 *   fusedLayerNorm(x, gamma, beta, eps)   LayerNorm over the last axis         (layers.ts)
 *   fusedQuickGelu(x)                     CLIP's x·σ(1.702x)                    (vision/blocks.ts)
 *   fusedAttention(q, k, v, heads)        softmax(q·kᵀ/√dh)·v, heads merged     (vision/blocks.ts, detect/model.ts)
 *   conv2dResidual(...)                   act(conv + bias + residual), no grad  (detect/model.ts)
 *   fusedOpsActive()                      whether tf.fused.* kernels are fused natively too (bias in the sgemm)
 */
export { conv2dResidual, fusedAttention, fusedLayerNorm, fusedOpsActive, fusedQuickGelu } from '../backend/native/fused-ops.js';
