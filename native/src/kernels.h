// The addon's kernels as plain C++ over raw arrays (no N-API): the binding (binding.cc) checks the
// arguments and sizes, then calls these. Row-major float32 throughout.
#pragma once
#include <cstddef>
#include <cstdint>
#include "op_codes.h"
#include "sizes.h"

namespace llk {

// split batched small gemms over threads (setBatchThreads(false) to compare)
inline bool g_batchThreads = true;

// ---- matmul.cc
// c[bi] = op(a[aIdx[bi]]) · op(b[bIdx[bi]]) (+ bias[N]) then act, for bi < batch; op = transpose when ta / tb.
void matmul(const float *a, const float *b, float *c, int64_t M, int64_t N, int64_t K, bool ta, bool tb, const int32_t *aIdx,
            const int32_t *bIdx, size_t batch, const float *bias, Activation act, float alpha);

// Multi-head attention on the linear layers' own layout: q [B, Tq, H·dh], k, v [B, Tk, H·dh], head h =
// columns [h·dh, (h+1)·dh); probs [B, H, Tq, Tk].
struct AttnGeom {
  int64_t B, Tq, Tk, H, dh;
  int64_t D() const { return H * dh; }
};
void attention(const AttnGeom &G, const float *q, const float *k, const float *v, float *out, float *probs, float scale);
void attentionGrad(const AttnGeom &G, const float *dO, const float *q, const float *k, const float *v, const float *probs, float *dq, float *dk,
                   float *dv, float scale);

// ---- elementwise.cc
// out (contiguous, `shape`) = a ∘ b with element strides per dim (0 = broadcast); every dim ≥ 1
void binary(BinaryOp op, int rank, const int32_t *shape, const int32_t *sa, const int32_t *sb, const float *a, const float *b, float *o);
void unary(UnaryOp op, const float *x, float *o, size_t n);
void quickGeluGrad(const float *dy, const float *x, float *o, size_t n);
// out[r] = scale · Σ_j x[r, j], accumulated in double
void rowsum(const float *x, float *o, int64_t rows, int64_t cols, double scale);
// row-wise softmax over the last axis, max-subtracted: softmaxRows on the calling thread, softmax over threads
void softmaxRows(const float *x, float *o, int64_t rows, int64_t cols);
void softmax(const float *x, float *o, int64_t rows, int64_t cols);
// LayerNorm over the last axis (biased variance, as torch); mean and 1/sqrt(var + eps) kept for the gradient
void layerNorm(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, int64_t rows, int64_t cols, double eps);
void layerNormGrad(const float *dy, const float *x, const float *g, const float *mean, const float *rstd, float *dx, float *dg, float *db,
                   int64_t rows, int64_t cols);

// ---- layout.cc
// out (contiguous, OUTPUT `shape`) = x read at `strides` (input element stride of each output dim); every dim ≥ 1
void transpose(int rank, const int32_t *shape, const int32_t *strides, const float *x, float *o);
// contiguous x of `shape` written into o at element strides `dstStrides`; rank ≥ 1, every dim ≥ 1
void scatter(int rank, const int32_t *shape, const int32_t *dstStrides, const float *x, float *o);

// ---- conv_gemm.cc (and conv.cc's fused conv)
// params Int32Array[N,H,W,C, fh,fw, sh,sw, dh,dw, padTop,padLeft, outH,outW, outC]; NHWC activations, HWIO filter
struct ConvGeom {
  int64_t N, H, W, C, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow, oc;
  static constexpr size_t kParams = 15;
  static constexpr int64_t kMaxScratchFloats = int64_t(1) << 31;  // 8 GiB
  static ConvGeom from(const int32_t *q) { return {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12], q[13], q[14]}; }
  int64_t KK() const { return fh * fw * C; }
  int64_t P() const { return oh * ow; }
  // element counts of x [N,H,W,C], filter [fh,fw,C,oc], out [N,oh,ow,oc]; -1 on overflow
  int64_t xSize() const { return product({N, H, W, C}); }
  int64_t wSize() const { return product({fh, fw, C, oc}); }
  int64_t ySize() const { return product({N, oh, ow, oc}); }
  // The one geometry check of every conv entry point (conv2d, its two gradients, fusedConv2d): null
  // when the kernels can run it, else why not. Dims ≥ 0, strides and dilations ≥ 1 (pads may be any
  // int32), the implied bottom/right padding an int32 too (the output is consistent with input, filter
  // and top/left padding), sizes that do not overflow, and BLAS's int dimensions. After it, every
  // product of these fields the kernels form fits int64.
  const char *invalid() const;
  bool pointwise() const { return fh == 1 && fw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == H && ow == W; }
  // images per im2col group: ≤ 8M floats of columns, so each group is one large sgemm
  int64_t group() const;
};
void conv2d(const ConvGeom &G, const float *x, const float *w, float *o);
void conv2dBackpropFilter(const ConvGeom &G, const float *x, const float *dy, float *dw);
void conv2dBackpropInput(const ConvGeom &G, const float *dy, const float *w, float *dx);

}  // namespace llk
