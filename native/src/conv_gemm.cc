// Conv2D and its two gradients as im2col / col2im + sgemm. They share one geometry (ConvGeom,
// kernels.h) and one column layout:
// col[(n·oh + r)·ow + q, (i·fw + j)·C + c] = x[n, r·sh + i·dh − pt, q·sw + j·dw − pl, c] (0 outside).
#include <algorithm>
#include <cstring>
#include <vector>
#include "blas.h"
#include "kernels.h"
#include "parallel.h"

namespace llk {

const char *ConvGeom::invalid() const {
  for (int64_t v : {N, H, W, C, fh, fw, oh, ow, oc}) if (v < 0) return "negative geometry";
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1) return "strides and dilations must be ≥ 1";
  if (xSize() < 0 || wSize() < 0 || ySize() < 0) return "geometry sizes overflow";
  // output row r reads input rows r·sh + i·dh − pt: the last one, (oh − 1)·sh + (fh − 1)·dh − pt, is
  // H − 1 + padBottom; a padBottom (padRight) outside int32 is no padding tfjs could have asked for
  auto padEnd = [](int64_t out, int64_t s, int64_t f, int64_t d, int64_t in, int64_t p0) {
    return out == 0 || f == 0 || (out - 1) * s + (f - 1) * d + 1 - in - p0 <= INT32_MAX;
  };
  if (!padEnd(oh, sh, fh, dh, H, pt) || !padEnd(ow, sw, fw, dw, W, pl)) return "output size inconsistent with input, filter and padding";
  if (!blasInt(N * P()) || !blasInt(KK()) || !blasInt(oc)) return "too large for BLAS";
  // one image's im2col columns (the scratch of conv_gemm.cc; a failed allocation would abort)
  if (N > 0 && P() * KK() > kMaxScratchFloats) return "im2col scratch too large";
  return nullptr;
}

int64_t ConvGeom::group() const { return std::max<int64_t>(1, std::min<int64_t>(N, (int64_t(8) << 20) / std::max<int64_t>(1, P() * KK()))); }

namespace {

// im2col of images [n0, n0+g) into col ([g·P, KK])
void im2col(const ConvGeom &G, const float *xp, int64_t n0, int64_t g, float *colp) {
  const int64_t KK = G.KK();
  parallelFor(g * G.oh, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, G.ow * KK)), [=](int64_t s, int64_t e) {
    for (int64_t gr = s; gr < e; gr++) {
      const int64_t gi = gr / G.oh, r = gr % G.oh;
      const float *xn = xp + (n0 + gi) * G.H * G.W * G.C;
      for (int64_t q = 0; q < G.ow; q++) {
        float *cr = colp + ((gi * G.oh + r) * G.ow + q) * KK;
        for (int64_t i = 0; i < G.fh; i++) {
          const int64_t yy = r * G.sh + i * G.dh - G.pt;
          for (int64_t j = 0; j < G.fw; j++) {
            const int64_t xx = q * G.sw + j * G.dw - G.pl;
            float *dst = cr + (i * G.fw + j) * G.C;
            if (yy < 0 || yy >= G.H || xx < 0 || xx >= G.W) std::memset(dst, 0, size_t(G.C) * sizeof(float));
            else std::memcpy(dst, xn + (yy * G.W + xx) * G.C, size_t(G.C) * sizeof(float));
          }
        }
      }
    }
  });
}

// col2im: dx[n0 + gi] += scatter of col rows (the adjoint of im2col). Parallel over images, so no
// two threads write the same pixel.
void col2im(const ConvGeom &G, const float *colp, int64_t n0, int64_t g, float *dxp) {
  const int64_t KK = G.KK();
  parallelFor(g, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, G.P() * KK)), [=](int64_t s, int64_t e) {
    for (int64_t gi = s; gi < e; gi++) {
      float *dxn = dxp + (n0 + gi) * G.H * G.W * G.C;
      for (int64_t r = 0; r < G.oh; r++)
        for (int64_t q = 0; q < G.ow; q++) {
          const float *cr = colp + ((gi * G.oh + r) * G.ow + q) * KK;
          for (int64_t i = 0; i < G.fh; i++) {
            const int64_t yy = r * G.sh + i * G.dh - G.pt;
            if (yy < 0 || yy >= G.H) continue;
            for (int64_t j = 0; j < G.fw; j++) {
              const int64_t xx = q * G.sw + j * G.dw - G.pl;
              if (xx < 0 || xx >= G.W) continue;
              const float *src = cr + (i * G.fw + j) * G.C;
              float *dst = dxn + (yy * G.W + xx) * G.C;
              for (int64_t c = 0; c < G.C; c++) dst[c] += src[c];
            }
          }
        }
    }
  });
}

}  // namespace

// out[N·P, oc] = col[N·P, KK] × filter[KK, oc]
void conv2d(const ConvGeom &G, const float *xp, const float *wp, float *op) {
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc;
  if (N * P * oc == 0) return;
  if (KK == 0) { std::memset(op, 0, size_t(N * P * oc) * sizeof(float)); return; }
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    im2col(G, xp, n0, g, col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(g * P), int(oc), int(KK), 1.0f, col.data(), int(KK), wp, int(oc), 0.0f,
                op + n0 * P * oc, int(oc));
  }
}

// dfilter[KK, oc] = Σ_groups col[gP, KK]ᵀ × dy[gP, oc]
void conv2dBackpropFilter(const ConvGeom &G, const float *xp, const float *dyp, float *op) {
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc;
  if (KK * oc == 0) return;
  std::memset(op, 0, size_t(KK * oc) * sizeof(float));
  if (N * P == 0) return;
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    im2col(G, xp, n0, g, col.data());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(KK), int(oc), int(g * P), 1.0f, col.data(), int(KK), dyp + n0 * P * oc, int(oc),
                1.0f, op, int(oc));
  }
}

// dcol[gP, KK] = dy[gP, oc] × filter[KK, oc]ᵀ, then col2im into dx
void conv2dBackpropInput(const ConvGeom &G, const float *dyp, const float *wp, float *op) {
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc, xsize = N * G.H * G.W * G.C;
  if (xsize == 0) return;
  std::memset(op, 0, size_t(xsize) * sizeof(float));
  if (P == 0 || KK == 0 || oc == 0) return;  // dx = 0
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    if (oc == 0) std::memset(col.data(), 0, col.size() * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(g * P), int(KK), int(oc), 1.0f, dyp + n0 * P * oc, int(oc), wp, int(oc), 0.0f,
                     col.data(), int(KK));
    col2im(G, col.data(), n0, g, op);
  }
}

}  // namespace llk
