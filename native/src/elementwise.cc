// Elementwise and row-wise kernels: broadcasting binary ops, unary ops (rounded as the stock tfjs
// kernels round them), softmax, row sums, LayerNorm and its gradient. The memory-bound kernels split
// large work (≥ GRAIN elements) over the pool threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>
#include "kernels.h"
#include "parallel.h"

namespace llk {
namespace {

// ---------------------------------------------------------------------------------------------
// binary ops: OP is a BinaryOp value
template <int OP> inline float bop(float x, float y) {
  if (OP == 0) return x + y;
  if (OP == 1) return x - y;
  if (OP == 2) return x * y;
  if (OP == 3) return x / y;
  if (OP == 4) { float d = x - y; return d * d; }
  if (OP == 5) return (x != x || y != y) ? NAN : (x > y ? x : y);
  if (OP == 6) return (x != x || y != y) ? NAN : (x < y ? x : y);
  // JS Math.pow (the stock kernel) gives NaN for a NaN exponent and for (±1)^±Inf; C's pow gives 1
  if (y != y || (std::isinf(y) && std::fabs(x) == 1.0f)) return NAN;
  return float(std::pow(double(x), double(y)));
}

template <int OP>
void binaryRec(int d, int rank, const int32_t *shape, const int32_t *sa, const int32_t *sb, const float *a, const float *b, float *&o) {
  const int64_t n = shape[d];
  if (d == rank - 1) {
    const int64_t xa = sa[d], xb = sb[d];
    if (xa == 1 && xb == 1) { for (int64_t i = 0; i < n; i++) o[i] = bop<OP>(a[i], b[i]); }
    else if (xa == 1 && xb == 0) { const float y = b[0]; for (int64_t i = 0; i < n; i++) o[i] = bop<OP>(a[i], y); }
    else if (xa == 0 && xb == 1) { const float x = a[0]; for (int64_t i = 0; i < n; i++) o[i] = bop<OP>(x, b[i]); }
    else { for (int64_t i = 0; i < n; i++) o[i] = bop<OP>(a[i * xa], b[i * xb]); }
    o += n;
    return;
  }
  for (int64_t i = 0; i < n; i++) binaryRec<OP>(d + 1, rank, shape, sa, sb, a + i * sa[d], b + i * sb[d], o);
}

template <int OP> void binaryRun(int rank, const int32_t *shape, const int32_t *sa, const int32_t *sb, const float *a, const float *b, float *o) {
  if (rank == 0) { o[0] = bop<OP>(a[0], b[0]); return; }
  if (rank == 1) {
    const int64_t xa = sa[0], xb = sb[0];
    parallelFor(shape[0], GRAIN, [=](int64_t s, int64_t e) {
      int32_t n1 = int32_t(e - s), z = 0;
      float *op = o + s;
      binaryRec<OP>(0, 1, &n1, xa ? &sa[0] : &z, xb ? &sb[0] : &z, a + s * xa, b + s * xb, op);
    });
    return;
  }
  int64_t inner = 1;
  for (int d = 1; d < rank; d++) inner *= shape[d];
  parallelFor(shape[0], std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, inner)), [=](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; i++) {
      float *op = o + i * inner;
      binaryRec<OP>(1, rank, shape, sa, sb, a + i * sa[0], b + i * sb[0], op);
    }
  });
}

}  // namespace

void binary(BinaryOp op, int rank, const int32_t *shape, const int32_t *sa, const int32_t *sb, const float *a, const float *b, float *o) {
  switch (op) {
    case BinaryOp::Add: binaryRun<0>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::Sub: binaryRun<1>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::Multiply: binaryRun<2>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::RealDiv: binaryRun<3>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::SquaredDifference: binaryRun<4>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::Maximum: binaryRun<5>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::Minimum: binaryRun<6>(rank, shape, sa, sb, a, b, o); break;
    case BinaryOp::Pow: binaryRun<7>(rank, shape, sa, sb, a, b, o); break;
  }
}

namespace {

// ---------------------------------------------------------------------------------------------
// exp in float32 that the compiler vectorises (Cephes expf: range reduction by ln2, degree-6
// polynomial, 2^n built in the exponent bits), ≤ 2 ulp; NaN, overflow and underflow as std::exp.
// Branch-free so loops over it become SIMD; hot loops are compiled for AVX2+FMA and baseline.
#define LL_CLONES __attribute__((target_clones("avx2", "default")))
static inline float fexp(float x) {
  // the lower clamp is where the result rounds to 0 (below, the 0 select): n ≥ −150 is two factors
  // of ≥ 2^−75, so the subnormal results of (−103.98, −87.3) come out graded, not stuck at e^−88
  const float xc = std::min(std::max(x, -103.98f), 88.75f);
  const float t = xc * 1.44269504088896341f + 12582912.0f;  // round to nearest via the 1.5·2^23 trick
  const float n = t - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float y = ((((1.9875691500E-4f * r + 1.3981999507E-3f) * r + 8.3334519073E-3f) * r + 4.1665795894E-2f) * r + 1.6666665459E-1f) * r + 5.0000001201E-1f;
  y = y * z + r + 1.0f;
  // 2^n as two factors so n = ±128 stays representable
  const int32_t ni = int32_t(n), h = ni >> 1;
  int32_t b1 = (h + 127) << 23, b2 = (ni - h + 127) << 23;
  float f1, f2;
  std::memcpy(&f1, &b1, 4);
  std::memcpy(&f2, &b2, 4);
  float res = y * f1 * f2;
  res = x > 88.7228f ? INFINITY : res;
  res = x < -103.98f ? 0.0f : res;
  return x != x ? x : res;
}

// exp in double that the compiler vectorises (Cephes exp: Padé form on [-ln2/2, ln2/2], 2^n built in
// the exponent bits through the 1.5·2^52 rounding trick), ≤ 1 ulp of double; used where the stock
// kernels' double arithmetic must be matched (erf, tanh).
static inline double dexp(double x) {
  const double xc = std::min(std::max(x, -708.0), 709.0);
  const double t = xc * 1.4426950408889634 + 6755399441055744.0;
  const double n = t - 6755399441055744.0;
  double r = xc - n * 6.93145751953125E-1;
  r = r - n * 1.42860682030941723212E-6;
  const double rr = r * r;
  const double px = r * ((1.26177193074810590878E-4 * rr + 3.02994407707441961300E-2) * rr + 9.99999999999999999910E-1);
  const double qx = ((3.00198505138664455042E-6 * rr + 2.52448340349684104192E-3) * rr + 2.27265548208155028766E-1) * rr + 2.00000000000000000009E0;
  const double y = 1.0 + 2.0 * (px / (qx - px));
  int64_t tb;
  std::memcpy(&tb, &t, 8);
  const int64_t eb = ((tb - int64_t(0x4338000000000000LL)) + 1023) << 52;
  double sc;
  std::memcpy(&sc, &eb, 8);
  double res = y * sc;
  res = x > 709.78 ? INFINITY : res;
  res = x < -708.0 ? 0.0 : res;
  return x != x ? x : res;
}

// Erf with tfjs's Abramowitz–Stegun 7.1.26 polynomial, in double as the stock kernel
LL_CLONES void erfD(const float *x, float *o, size_t n) {
  const double p = 0.3275911, a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027, a5 = 1.061405429;
  for (size_t i = 0; i < n; i++) {
    const double xi = x[i];
    const double sign = xi > 0 ? 1.0 : (xi < 0 ? -1.0 : 0.0), v = std::fabs(xi), t = 1.0 / (1.0 + p * v);
    o[i] = float(sign * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * dexp(-v * v)));
  }
}
// tanh = sign · (1 − 2 / (exp(2|x|) + 1)); odd Taylor series below 1e-3 where that cancels
LL_CLONES void tanhD(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double xi = x[i], a = std::fabs(xi), x2 = xi * xi;
    const double big = 1.0 - 2.0 / (dexp(2.0 * a) + 1.0);
    const double small = xi * (1.0 - x2 * (1.0 / 3.0 - x2 * (2.0 / 15.0)));
    const double r = a < 1e-3 ? small : (xi < 0 ? -big : big);
    o[i] = float(xi != xi ? xi : r);
  }
}
LL_CLONES void cubeD(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) { const double xi = x[i]; o[i] = float(xi * xi * xi); }
}

LL_CLONES void softmaxRowsSimd(const float *x, float *o, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols; float *orow = o + r * cols;
    float mm[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      for (int k = 0; k < 8; k++) mm[k] = xr[j + k] > mm[k] ? xr[j + k] : mm[k];
    float m = -INFINITY;
    for (; j < cols; j++) m = xr[j] > m ? xr[j] : m;
    for (int k = 0; k < 8; k++) m = mm[k] > m ? mm[k] : m;
    for (j = 0; j < cols; j++) orow[j] = fexp(xr[j] - m);
    double s[4] = {0, 0, 0, 0};
    for (j = 0; j + 4 <= cols; j += 4)
      for (int k = 0; k < 4; k++) s[k] += orow[j + k];
    for (; j < cols; j++) s[0] += orow[j];
    const float inv = float(1.0 / ((s[0] + s[1]) + (s[2] + s[3])));
    for (j = 0; j < cols; j++) orow[j] *= inv;
  }
}
// σ(x) = 1 / (1 + e^−x) in float32, except below −88 where e^−x overflows float32 and that form
// gives 0: there σ(x) = e^x / (1 + e^x) = e^x in float32 (1 + e^x rounds to 1), graded down through
// the subnormals as the stock kernel's double arithmetic gives them (0 only below about −103.9).
// One exp and selects, so loops over it still vectorise; above −88 the values are the same as before.
static inline float fsigmoid(float x) {
  const bool low = x < -88.0f;
  const float e = fexp(low ? x : -x);
  return low ? e : 1.0f / (1.0f + e);
}
LL_CLONES void sigmoidF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = fsigmoid(x[i]);
}
LL_CLONES void expF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = fexp(x[i]);
}
// quick_gelu(x) = x · σ(1.702·x), rounded step by step as the composite tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)))
constexpr float QG = 1.702f;
LL_CLONES void quickGeluF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] * QG, sg = fsigmoid(t);
    o[i] = x[i] * sg;
  }
}
// d/dx: dy·σ + 1.702·(dy·x)·σ·(1 − σ), the terms tfjs's autodiff of the composite adds up
LL_CLONES void quickGeluGradF(const float *dy, const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] * QG, sg = fsigmoid(t);
    o[i] = dy[i] * sg + ((dy[i] * x[i]) * (sg * (1.0f - sg))) * QG;
  }
}

// unary ops computed in double and rounded to float32, as the stock JS kernels do; OP is a UnaryOp value
template <int OP> inline float uop(double x) {
  if (OP == 0) return float(1.0 / (1.0 + std::exp(-x)));
  if (OP == 1) return float(std::exp(x));
  if (OP == 2) {
    const double p = 0.3275911, a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027, a5 = 1.061405429;
    const double sign = x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0, v = std::fabs(x), t = 1.0 / (1.0 + p * v);
    return float(sign * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * std::exp(-v * v)));
  }
  if (OP == 3) return float(std::tanh(x));
  if (OP == 4) return float(1.0 / std::sqrt(x));
  if (OP == 5) return float(x * x);
  if (OP == 6) return float(std::sqrt(x));
  if (OP == 7) return float(-x);
  if (OP == 8) return x < 0 ? 0.f : float(x);
  if (OP == 9) return float(std::log(x));
  if (OP == 13) return float(std::floor(x));
  return float(std::fabs(x));
}
template <int OP> void unaryRun(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = uop<OP>(double(x[i]));
}

// LayerNorm rows [r0, r1)
LL_CLONES void layerNormRows(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, int64_t r0, int64_t r1, int64_t cols, double eps) {
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * cols; float *yr = y + r * cols;
    double s = 0, s2 = 0;
    for (int64_t j = 0; j < cols; j++) s += xr[j];
    const double m = cols ? s / double(cols) : 0.0;
    for (int64_t j = 0; j < cols; j++) { const double d = xr[j] - m; s2 += d * d; }
    const double rs = 1.0 / std::sqrt((cols ? s2 / double(cols) : 0.0) + eps);
    const float mf = float(m), rf = float(rs);
    for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - mf) * rf * g[j] + b[j];
    mean[r] = mf; rstd[r] = rf;
  }
}

}  // namespace

void unary(UnaryOp op, const float *xp, float *opp, size_t n) {
  parallelFor(int64_t(n), GRAIN, [=](int64_t s, int64_t e) {
    const float *xs = xp + s; float *os = opp + s; const size_t m = size_t(e - s);
    switch (op) {
      case UnaryOp::Sigmoid: sigmoidF(xs, os, m); break;
      case UnaryOp::Exp: expF(xs, os, m); break;
      case UnaryOp::Erf: erfD(xs, os, m); break;
      case UnaryOp::Tanh: tanhD(xs, os, m); break;
      case UnaryOp::Cube: cubeD(xs, os, m); break;
      case UnaryOp::QuickGelu: quickGeluF(xs, os, m); break;
      case UnaryOp::Rsqrt: unaryRun<4>(xs, os, m); break;
      case UnaryOp::Square: unaryRun<5>(xs, os, m); break;
      case UnaryOp::Sqrt: unaryRun<6>(xs, os, m); break;
      case UnaryOp::Neg: unaryRun<7>(xs, os, m); break;
      case UnaryOp::Relu: unaryRun<8>(xs, os, m); break;
      case UnaryOp::Log: unaryRun<9>(xs, os, m); break;
      case UnaryOp::Floor: unaryRun<13>(xs, os, m); break;
      case UnaryOp::Abs: unaryRun<10>(xs, os, m); break;
    }
  });
}

// the gradient of UnaryOp::QuickGelu
void quickGeluGrad(const float *dp, const float *xp, float *opp, size_t n) {
  parallelFor(int64_t(n), GRAIN, [=](int64_t s, int64_t e) { quickGeluGradF(dp + s, xp + s, opp + s, size_t(e - s)); });
}

void rowsum(const float *x, float *o, int64_t rows, int64_t cols, double scale) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) { s0 += xr[j]; s1 += xr[j + 1]; s2 += xr[j + 2]; s3 += xr[j + 3]; }
    for (; j < cols; j++) s0 += xr[j];
    o[r] = float(((s0 + s1) + (s2 + s3)) * scale);
  }
}

void softmaxRows(const float *x, float *o, int64_t rows, int64_t cols) { softmaxRowsSimd(x, o, rows, cols); }

void softmax(const float *xp, float *op, int64_t rows, int64_t cols) {
  parallelFor(rows, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, cols)), [=](int64_t s, int64_t e) {
    softmaxRows(xp + s * cols, op + s * cols, e - s, cols);
  });
}

void layerNorm(const float *xp, const float *gp, const float *bp, float *yp, float *mp, float *rp, int64_t rows, int64_t cols, double eps) {
  parallelFor(rows, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, cols)), [=](int64_t s, int64_t e) { layerNormRows(xp, gp, bp, yp, mp, rp, s, e, cols, eps); });
}

//   xhat = (x − mean)·rstd, gdy = dy·gamma,
//   dx = rstd · (gdy − mean_j(gdy) − xhat · mean_j(gdy·xhat)), dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy.
void layerNormGrad(const float *dyp, const float *xp, const float *gp, const float *mp, const float *rp, float *dxp, float *dgp, float *dbp,
                   int64_t rows, int64_t cols) {
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(g_threads, rows * cols / GRAIN));
  std::vector<double> accG(size_t(nt * cols), 0.0), accB(size_t(nt * cols), 0.0);
  const int64_t chunk = (rows + nt - 1) / nt;
  auto work = [&](int64_t t) {
    double *ag = accG.data() + t * cols, *ab = accB.data() + t * cols;
    const int64_t r1 = std::min(rows, (t + 1) * chunk);
    for (int64_t r = t * chunk; r < r1; r++) {
      const float *dyr = dyp + r * cols, *xr = xp + r * cols; float *dxr = dxp + r * cols;
      const float m = mp[r], rs = rp[r];
      double s1 = 0, s2 = 0;
      for (int64_t j = 0; j < cols; j++) {
        const float xh = (xr[j] - m) * rs, gd = dyr[j] * gp[j];
        s1 += gd; s2 += double(gd) * xh;
        ag[j] += double(dyr[j]) * xh; ab[j] += dyr[j];
      }
      const float m1 = cols ? float(s1 / double(cols)) : 0.f, m2 = cols ? float(s2 / double(cols)) : 0.f;
      for (int64_t j = 0; j < cols; j++) {
        const float xh = (xr[j] - m) * rs;
        dxr[j] = rs * (dyr[j] * gp[j] - m1 - xh * m2);
      }
    }
  };
  std::vector<std::thread> ths;
  for (int64_t t = 1; t < nt; t++) ths.emplace_back(work, t);
  work(0);
  for (auto &t : ths) t.join();
  for (int64_t j = 0; j < cols; j++) {
    double sg = 0, sb = 0;
    for (int64_t t = 0; t < nt; t++) { sg += accG[size_t(t * cols + j)]; sb += accB[size_t(t * cols + j)]; }
    dgp[j] = float(sg); dbp[j] = float(sb);
  }
}

}  // namespace llk
