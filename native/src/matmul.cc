// Batched matmul (cblas_sgemm, transposes as BLAS flags, bias + activation epilogue) and fused
// multi-head attention on strided per-head sgemm.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "blas.h"
#include "kernels.h"
#include "parallel.h"

namespace llk {
namespace {

void epilogue(float *c, int64_t M, int64_t N, const float *bias, Activation act, float alpha) {
  const int64_t n = M * N;
  if (bias) {
    for (int64_t i = 0; i < M; i++) {
      float *r = c + i * N;
      for (int64_t j = 0; j < N; j++) r[j] += bias[j];
    }
  }
  switch (act) {
    case Activation::Relu: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? 0.f : c[i]; break;
    case Activation::Relu6: for (int64_t i = 0; i < n; i++) c[i] = std::min(std::max(c[i], 0.f), 6.f); break;
    // below −88 e^−x overflows float32 (σ would be 0): σ(x) = e^x / (1 + e^x) = e^x there, as elementwise.cc fsigmoid
    case Activation::Sigmoid: for (int64_t i = 0; i < n; i++) c[i] = c[i] < -88.f ? std::exp(c[i]) : 1.f / (1.f + std::exp(-c[i])); break;
    case Activation::LeakyRelu: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? alpha * c[i] : c[i]; break;
    case Activation::Elu: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? std::expm1(c[i]) : c[i]; break;
    default: break;  // Linear (Prelu is refused by the binding)
  }
}

// Runs one(i) for i in [0, n), items handed out one at a time to OpenBLAS's thread count of pool
// threads (threadpool.cc), each calling single-threaded sgemm (OpenBLAS's own threading does not
// pay for small gemms). Used by the batched matmul and by attention's per-(batch, head) products.
template <class F> void smallGemmsOverThreads(int64_t n, F one) {
  const int workers = int(std::min<int64_t>(blasThreads(), n));
  if (workers <= 1) { for (int64_t i = 0; i < n; i++) one(i); return; }
  SingleThreadedBlas single;
  parallelRun(n, 1, workers, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; i++) one(i); });
}

}  // namespace

void matmul(const float *a, const float *b, float *c, int64_t M, int64_t N, int64_t K, bool ta, bool tb, const int32_t *aIdx,
            const int32_t *bIdx, size_t batch, const float *bias, Activation act, float alpha) {
  const size_t aSz = size_t(M * K), bSz = size_t(K * N), cSz = size_t(M * N);
  if (cSz == 0) return;
  const bool withEpilogue = bias || act != Activation::Linear;
  // bias/activation pass: over rows on all threads after a (multi-threaded) sgemm, else inline
  bool parEpilogue = false;
  auto one = [&](size_t i) {
    float *ci = c + i * cSz;
    if (K == 0) {
      std::memset(ci, 0, cSz * sizeof(float));
    } else {
      const float *ap = a + size_t(aIdx[i]) * aSz, *bp = b + size_t(bIdx[i]) * bSz;
      // row-major: A is [M,K] (or [K,M] when transposed), B is [K,N] (or [N,K])
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N), int(K), 1.0f,
                  ap, ta ? int(M) : int(K), bp, tb ? int(K) : int(N), 0.0f, ci, int(N));
    }
    if (!withEpilogue) return;
    if (!parEpilogue) { epilogue(ci, M, N, bias, act, alpha); return; }
    parallelFor(M, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, N)), [=](int64_t r0, int64_t r1) { epilogue(ci + r0 * N, r1 - r0, N, bias, act, alpha); });
  };
  // Many small products (attention: [B·H, T, dh]): OpenBLAS's own threading does not pay for one small
  // gemm, so the batch is split over threads, each running single-threaded sgemm.
  const double macs = double(M) * double(N) * double(K);
  if (batch >= 2 && macs < 16e6 && g_batchThreads) smallGemmsOverThreads(int64_t(batch), [&](int64_t i) { one(size_t(i)); });
  else {
    parEpilogue = true;
    for (size_t i = 0; i < batch; i++) one(i);
  }
}

// Per (b, h), with strided sgemm (leading dimension H·dh), so heads are never split into [B·H, T, dh] copies:
//   S = scale · q_bh·k_bhᵀ [Tq, Tk];  P = softmax_rows(S) (kept for the gradient);  o_bh = P·v_bh.
// (b, h) pairs are split over threads, each single-threaded sgemm.
void attention(const AttnGeom &G, const float *q, const float *k, const float *v, float *out, float *probs, float scale) {
  const int64_t D = G.D();
  if (G.B * G.Tq * D == 0) return;
  if (G.Tk == 0) { std::memset(out, 0, size_t(G.B * G.Tq * D) * sizeof(float)); return; }
  smallGemmsOverThreads(G.B * G.H, [&](int64_t i) {
    const int64_t b = i / G.H, h = i % G.H;
    const float *qb = q + b * G.Tq * D + h * G.dh, *kb = k + b * G.Tk * D + h * G.dh, *vb = v + b * G.Tk * D + h * G.dh;
    float *P = probs + i * G.Tq * G.Tk, *ob = out + b * G.Tq * D + h * G.dh;
    if (G.dh == 0) std::memset(P, 0, size_t(G.Tq * G.Tk) * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(G.Tq), int(G.Tk), int(G.dh), scale, qb, int(D), kb, int(D), 0.0f, P, int(G.Tk));
    softmaxRows(P, P, G.Tq, G.Tk);
    if (G.dh > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(G.Tq), int(G.dh), int(G.Tk), 1.0f, P, int(G.Tk), vb, int(D), 0.0f, ob, int(D));
  });
}

// per (b, h): dv = Pᵀ·dO;  dP = dO·vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dq = scale·dS·k;  dk = scale·dSᵀ·q
void attentionGrad(const AttnGeom &G, const float *dO, const float *q, const float *k, const float *v, const float *probs, float *dq, float *dk,
                   float *dv, float scale) {
  const int64_t D = G.D(), nq = G.B * G.Tq * D, nk = G.B * G.Tk * D;
  std::memset(dq, 0, size_t(nq) * sizeof(float));
  std::memset(dk, 0, size_t(nk) * sizeof(float));
  std::memset(dv, 0, size_t(nk) * sizeof(float));
  if (G.Tq * G.Tk * G.dh == 0 || G.B == 0) return;
  smallGemmsOverThreads(G.B * G.H, [&](int64_t i) {
    const int64_t b = i / G.H, h = i % G.H;
    const int64_t oq = b * G.Tq * D + h * G.dh, ok = b * G.Tk * D + h * G.dh;
    const float *P = probs + i * G.Tq * G.Tk;
    std::vector<float> dS(size_t(G.Tq * G.Tk));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G.Tk), int(G.dh), int(G.Tq), 1.0f, P, int(G.Tk), dO + oq, int(D), 0.0f, dv + ok, int(D));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(G.Tq), int(G.Tk), int(G.dh), 1.0f, dO + oq, int(D), v + ok, int(D), 0.0f, dS.data(), int(G.Tk));
    for (int64_t r = 0; r < G.Tq; r++) {
      float *dr = dS.data() + r * G.Tk; const float *pr = P + r * G.Tk;
      double dot = 0;
      for (int64_t c = 0; c < G.Tk; c++) dot += double(dr[c]) * double(pr[c]);
      const float d = float(dot);
      for (int64_t c = 0; c < G.Tk; c++) dr[c] = pr[c] * (dr[c] - d);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(G.Tq), int(G.dh), int(G.Tk), scale, dS.data(), int(G.Tk), k + ok, int(D), 0.0f, dq + oq, int(D));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G.Tk), int(G.dh), int(G.Tq), scale, dS.data(), int(G.Tk), q + oq, int(D), 0.0f, dk + ok, int(D));
  });
}

}  // namespace llk
