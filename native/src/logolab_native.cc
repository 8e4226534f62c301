// logolab native kernels: float32 BLAS matmul (OpenBLAS cblas_sgemm) and a few memory-bound
// kernels (broadcasting binary ops, transpose, softmax, im2col conv) for the tfjs `cpu` backend.
//
// Every function is synchronous and writes into an output Float32Array that JS allocated, so all
// memory stays owned by V8. napi_get_typedarray_info returns the data pointer already advanced by
// the view's byteOffset, so sub-views (tensors that share one ArrayBuffer) are handled correctly.
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>
#include <thread>
#include "perf_kernels.h"
#include "conv_pool.h"

extern "C" {
// declared in OpenBLAS's cblas.h on Debian, repeated so other cblas headers also work
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
}

namespace {

// split batched small gemms over threads (setBatchThreads(false) to compare)
bool g_batchThreads = true;
// threads for the memory-bound kernels (= the BLAS thread count, set by setThreads)
int g_threads = 1;

// Runs f(begin, end) over [0, n) on up to g_threads threads, in chunks of at least `grain` items
// (about 4 per thread) handed out by the persistent pool of threadpool.cc; the calling thread works
// too. Small work stays on the calling thread.
template <class F> void parallelFor(int64_t n, int64_t grain, F f) {
  const int64_t w = std::min<int64_t>(g_threads, grain > 0 ? n / grain : n);
  if (w <= 1) { if (n > 0) f(int64_t(0), n); return; }
  llk::parallelRun(n, std::max<int64_t>(grain, (n + 4 * w - 1) / (4 * w)), int(w), f);
}
constexpr int64_t GRAIN = 1 << 16;  // elements per thread below which splitting does not pay

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      napi_throw_error(env, nullptr, "logolab_native: N-API call failed: " #call); \
      return nullptr;                                                          \
    }                                                                          \
  } while (0)

struct F32 { float *p; size_t n; };
struct I32 { int32_t *p; size_t n; };

bool getF32(napi_env env, napi_value v, F32 *out, const char *what) {
  bool isTa = false;
  napi_is_typedarray(env, v, &isTa);
  if (!isTa) { napi_throw_type_error(env, nullptr, (std::string("logolab_native: ") + what + " must be a Float32Array").c_str()); return false; }
  napi_typedarray_type t; size_t len; void *data; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != napi_float32_array) {
    napi_throw_type_error(env, nullptr, (std::string("logolab_native: ") + what + " must be a Float32Array").c_str()); return false;
  }
  out->p = static_cast<float *>(data); out->n = len; return true;
}

bool getI32(napi_env env, napi_value v, I32 *out, const char *what) {
  bool isTa = false;
  napi_is_typedarray(env, v, &isTa);
  if (!isTa) { napi_throw_type_error(env, nullptr, (std::string("logolab_native: ") + what + " must be an Int32Array").c_str()); return false; }
  napi_typedarray_type t; size_t len; void *data; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != napi_int32_array) {
    napi_throw_type_error(env, nullptr, (std::string("logolab_native: ") + what + " must be an Int32Array").c_str()); return false;
  }
  out->p = static_cast<int32_t *>(data); out->n = len; return true;
}

bool getInt(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) { napi_throw_type_error(env, nullptr, "logolab_native: expected an integer"); return false; }
  return true;
}
bool getDouble(napi_env env, napi_value v, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) { napi_throw_type_error(env, nullptr, "logolab_native: expected a number"); return false; }
  return true;
}
bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t; napi_typeof(env, v, &t); return t == napi_null || t == napi_undefined;
}
void fail(napi_env env, const char *msg) { napi_throw_range_error(env, nullptr, msg); }

// ---------------------------------------------------------------------------------------------
// matmul(a, b, out, M, N, K, transA, transB, aIdx: Int32Array, bIdx: Int32Array,
//        bias: Float32Array|null, act: int, alpha: number)
// out[bi] = op(a[aIdx[bi]]) · op(b[bIdx[bi]]) (+ bias[N]) then activation, for bi < aIdx.length.
// act: 0 linear, 1 relu, 2 relu6, 3 sigmoid, 4 leakyrelu(alpha), 5 elu
void epilogue(float *c, int64_t M, int64_t N, const float *bias, int act, float alpha) {
  const int64_t n = M * N;
  if (bias) {
    for (int64_t i = 0; i < M; i++) {
      float *r = c + i * N;
      for (int64_t j = 0; j < N; j++) r[j] += bias[j];
    }
  }
  switch (act) {
    case 0: break;
    case 1: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? 0.f : c[i]; break;
    case 2: for (int64_t i = 0; i < n; i++) c[i] = std::min(std::max(c[i], 0.f), 6.f); break;
    case 3: for (int64_t i = 0; i < n; i++) c[i] = 1.f / (1.f + std::exp(-c[i])); break;
    case 4: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? alpha * c[i] : c[i]; break;
    case 5: for (int64_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? std::expm1(c[i]) : c[i]; break;
  }
}

// Runs one(i) for i in [0, n), items handed out one at a time to OpenBLAS's thread count of pool
// threads (threadpool.cc), each calling single-threaded sgemm (OpenBLAS's own threading does not
// pay for small gemms). Used by the batched matmul and by attention's per-(batch, head) products.
template <class F> void smallGemmsOverThreads(int64_t n, F one) {
  const int nt = openblas_get_num_threads();
  const int workers = int(std::min<int64_t>(nt, n));
  if (workers <= 1) { for (int64_t i = 0; i < n; i++) one(i); return; }
  openblas_set_num_threads(1);
  llk::parallelRun(n, 1, workers, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; i++) one(i); });
  openblas_set_num_threads(nt);
}

napi_value Matmul(napi_env env, napi_callback_info info) {
  size_t argc = 13; napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 10) { fail(env, "matmul: needs at least 10 arguments"); return nullptr; }
  F32 a, b, c; I32 ai, bi; int64_t M, N, K; bool ta, tb;
  if (!getF32(env, argv[0], &a, "a") || !getF32(env, argv[1], &b, "b") || !getF32(env, argv[2], &c, "out")) return nullptr;
  if (!getInt(env, argv[3], &M) || !getInt(env, argv[4], &N) || !getInt(env, argv[5], &K)) return nullptr;
  CHECK(napi_get_value_bool(env, argv[6], &ta));
  CHECK(napi_get_value_bool(env, argv[7], &tb));
  if (!getI32(env, argv[8], &ai, "aIdx") || !getI32(env, argv[9], &bi, "bIdx")) return nullptr;
  F32 bias{nullptr, 0}; int64_t act = 0; double alpha = 0;
  if (argc > 10 && !isNullish(env, argv[10]) && !getF32(env, argv[10], &bias, "bias")) return nullptr;
  if (argc > 11 && !getInt(env, argv[11], &act)) return nullptr;
  if (argc > 12 && !getDouble(env, argv[12], &alpha)) return nullptr;
  const size_t batch = ai.n;
  if (bi.n != batch) { fail(env, "matmul: aIdx and bIdx lengths differ"); return nullptr; }
  if (M < 0 || N < 0 || K < 0) { fail(env, "matmul: negative dimension"); return nullptr; }
  const size_t aSz = size_t(M * K), bSz = size_t(K * N), cSz = size_t(M * N);
  if (c.n < batch * cSz) { fail(env, "matmul: out too small"); return nullptr; }
  if (bias.p && bias.n != size_t(N)) { fail(env, "matmul: bias length must be N"); return nullptr; }
  for (size_t i = 0; i < batch; i++) {
    if (ai.p[i] < 0 || size_t(ai.p[i] + 1) * aSz > a.n || bi.p[i] < 0 || size_t(bi.p[i] + 1) * bSz > b.n) {
      fail(env, "matmul: batch index out of range"); return nullptr;
    }
  }
  if (cSz == 0) return nullptr;
  // bias/activation pass: over rows on all threads after a (multi-threaded) sgemm, else inline
  bool parEpilogue = false;
  auto one = [&](size_t i) {
    float *ci = c.p + i * cSz;
    if (K == 0) {
      std::memset(ci, 0, cSz * sizeof(float));
    } else {
      const float *ap = a.p + size_t(ai.p[i]) * aSz, *bp = b.p + size_t(bi.p[i]) * bSz;
      // row-major: A is [M,K] (or [K,M] when transposed), B is [K,N] (or [N,K])
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N), int(K), 1.0f,
                  ap, ta ? int(M) : int(K), bp, tb ? int(K) : int(N), 0.0f, ci, int(N));
    }
    if (!(bias.p || act)) return;
    if (!parEpilogue) { epilogue(ci, M, N, bias.p, int(act), float(alpha)); return; }
    const float *bp = bias.p; const int ac = int(act); const float al = float(alpha);
    parallelFor(M, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, N)), [=](int64_t r0, int64_t r1) { epilogue(ci + r0 * N, r1 - r0, N, bp, ac, al); });
  };
  // Many small products (attention: [B·H, T, dh]): OpenBLAS's own threading does not pay for one small
  // gemm, so the batch is split over threads, each running single-threaded sgemm.
  const double macs = double(M) * double(N) * double(K);
  if (batch >= 2 && macs < 16e6 && g_batchThreads) smallGemmsOverThreads(int64_t(batch), [&](int64_t i) { one(size_t(i)); });
  else {
    parEpilogue = true;
    for (size_t i = 0; i < batch; i++) one(i);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// binary(op, a, b, out, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array)
// out (contiguous, `shape`) = a ∘ b with element strides per dim (0 = broadcast).
// op: 0 add, 1 sub, 2 mul, 3 div, 4 squared difference, 5 maximum, 6 minimum, 7 pow
template <int OP> inline float bop(float x, float y) {
  if (OP == 0) return x + y;
  if (OP == 1) return x - y;
  if (OP == 2) return x * y;
  if (OP == 3) return x / y;
  if (OP == 4) { float d = x - y; return d * d; }
  if (OP == 5) return (x != x || y != y) ? NAN : (x > y ? x : y);
  if (OP == 6) return (x != x || y != y) ? NAN : (x < y ? x : y);
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

napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 7; napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 7) { fail(env, "binary: needs 7 arguments"); return nullptr; }
  int64_t op; F32 a, b, o; I32 shape, sa, sb;
  if (!getInt(env, argv[0], &op) || !getF32(env, argv[1], &a, "a") || !getF32(env, argv[2], &b, "b") || !getF32(env, argv[3], &o, "out")) return nullptr;
  if (!getI32(env, argv[4], &shape, "shape") || !getI32(env, argv[5], &sa, "aStrides") || !getI32(env, argv[6], &sb, "bStrides")) return nullptr;
  const int rank = int(shape.n);
  if (sa.n != shape.n || sb.n != shape.n) { fail(env, "binary: stride ranks differ"); return nullptr; }
  size_t total = 1, aMax = 0, bMax = 0;
  for (int d = 0; d < rank; d++) {
    if (shape.p[d] <= 0) return nullptr;  // empty output: nothing to do
    total *= size_t(shape.p[d]);
    aMax += size_t(shape.p[d] - 1) * size_t(sa.p[d]);
    bMax += size_t(shape.p[d] - 1) * size_t(sb.p[d]);
  }
  if (o.n < total || a.n <= aMax || b.n <= bMax) { fail(env, "binary: array too small for shape/strides"); return nullptr; }
  switch (op) {
    case 0: binaryRun<0>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 1: binaryRun<1>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 2: binaryRun<2>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 3: binaryRun<3>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 4: binaryRun<4>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 5: binaryRun<5>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 6: binaryRun<6>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    case 7: binaryRun<7>(rank, shape.p, sa.p, sb.p, a.p, b.p, o.p); break;
    default: fail(env, "binary: unknown op"); return nullptr;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// transpose(x, out, shape: Int32Array (OUTPUT shape), strides: Int32Array (input element stride of
// each output dim)). Output is written contiguously. The last two dims are tiled so a plain 2-D
// transpose reads and writes cache lines, not single floats.
void transposeRec(int d, int rank, const int32_t *shape, const int32_t *st, const float *x, float *&o) {
  const int64_t n = shape[d];
  if (d == rank - 1) {
    const int64_t s = st[d];
    if (s == 1) { std::memcpy(o, x, size_t(n) * sizeof(float)); }
    else { for (int64_t i = 0; i < n; i++) o[i] = x[i * s]; }
    o += n;
    return;
  }
  if (d == rank - 2 && st[rank - 1] != 1) {
    const int64_t m = shape[rank - 1], s0 = st[d], s1 = st[rank - 1];
    const int64_t T = 32;
    for (int64_t i0 = 0; i0 < n; i0 += T) {
      const int64_t i1 = std::min(n, i0 + T);
      for (int64_t j0 = 0; j0 < m; j0 += T) {
        const int64_t j1 = std::min(m, j0 + T);
        for (int64_t i = i0; i < i1; i++) {
          const float *xr = x + i * s0;
          float *orow = o + i * m;
          for (int64_t j = j0; j < j1; j++) orow[j] = xr[j * s1];
        }
      }
    }
    o += n * m;
    return;
  }
  for (int64_t i = 0; i < n; i++) transposeRec(d + 1, rank, shape, st, x + i * st[d], o);
}

napi_value Transpose(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) { fail(env, "transpose: needs 4 arguments"); return nullptr; }
  F32 x, o; I32 shape, st;
  if (!getF32(env, argv[0], &x, "x") || !getF32(env, argv[1], &o, "out") || !getI32(env, argv[2], &shape, "shape") || !getI32(env, argv[3], &st, "strides")) return nullptr;
  const int rank = int(shape.n);
  if (st.n != shape.n) { fail(env, "transpose: stride rank differs"); return nullptr; }
  size_t total = 1, xMax = 0;
  for (int d = 0; d < rank; d++) {
    if (shape.p[d] <= 0) return nullptr;
    total *= size_t(shape.p[d]);
    xMax += size_t(shape.p[d] - 1) * size_t(st.p[d]);
  }
  if (o.n < total || x.n <= xMax) { fail(env, "transpose: array too small"); return nullptr; }
  if (rank == 0) { o.p[0] = x.p[0]; return nullptr; }
  const int32_t *sh = shape.p, *sp = st.p;
  const float *xp = x.p; float *obase = o.p;
  int64_t inner = 1;
  for (int d = 1; d < rank; d++) inner *= sh[d];
  // split dim 0 over threads: each range is a sub-transpose with the same strides
  parallelFor(sh[0], std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, inner)), [=](int64_t s, int64_t e) {
    std::vector<int32_t> sub(sh, sh + rank);
    sub[0] = int32_t(e - s);
    float *op = obase + s * inner;
    transposeRec(0, rank, sub.data(), sp, xp + s * sp[0], op);
  });
  return nullptr;
}


// ---------------------------------------------------------------------------------------------
// exp in float32 that the compiler vectorises (Cephes expf: range reduction by ln2, degree-6
// polynomial, 2^n built in the exponent bits), ≤ 2 ulp; NaN, overflow and underflow as std::exp.
// Branch-free so loops over it become SIMD; hot loops are compiled for AVX2+FMA and baseline.
#define LL_CLONES __attribute__((target_clones("avx2", "default")))
static inline float fexp(float x) {
  const float xc = std::min(std::max(x, -88.0f), 88.75f);
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

LL_CLONES void softmaxRows(const float *x, float *o, int64_t rows, int64_t cols) {
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
LL_CLONES void sigmoidF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = 1.0f / (1.0f + fexp(-x[i]));
}
LL_CLONES void expF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = fexp(x[i]);
}
// quick_gelu(x) = x · σ(1.702·x), rounded step by step as the composite tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)))
constexpr float QG = 1.702f;
LL_CLONES void quickGeluF(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] * QG, sg = 1.0f / (1.0f + fexp(-t));
    o[i] = x[i] * sg;
  }
}
// d/dx: dy·σ + 1.702·(dy·x)·σ·(1 − σ), the terms tfjs's autodiff of the composite adds up
LL_CLONES void quickGeluGradF(const float *dy, const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] * QG, sg = 1.0f / (1.0f + fexp(-t));
    o[i] = dy[i] * sg + ((dy[i] * x[i]) * (sg * (1.0f - sg))) * QG;
  }
}
// scatter(x, out, shape, dstStrides): contiguous x of `shape` written into out at element strides
// dstStrides (PadV2's interior; out is already filled with the pad value).
void scatterRec(int d, int rank, const int32_t *shape, const int32_t *st, const float *&x, float *o) {
  const int64_t n = shape[d];
  if (d == rank - 1) {
    const int64_t s = st[d];
    if (s == 1) std::memcpy(o, x, size_t(n) * sizeof(float));
    else for (int64_t i = 0; i < n; i++) o[i * s] = x[i];
    x += n;
    return;
  }
  for (int64_t i = 0; i < n; i++) scatterRec(d + 1, rank, shape, st, x, o + i * st[d]);
}

napi_value Scatter(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) { fail(env, "scatter: needs 4 arguments"); return nullptr; }
  F32 x, o; I32 shape, st;
  if (!getF32(env, argv[0], &x, "x") || !getF32(env, argv[1], &o, "out") || !getI32(env, argv[2], &shape, "shape") || !getI32(env, argv[3], &st, "strides")) return nullptr;
  const int rank = int(shape.n);
  if (st.n != shape.n || rank == 0) { fail(env, "scatter: bad rank"); return nullptr; }
  size_t total = 1, oMax = 0;
  for (int d = 0; d < rank; d++) {
    if (shape.p[d] <= 0) return nullptr;
    total *= size_t(shape.p[d]);
    oMax += size_t(shape.p[d] - 1) * size_t(st.p[d]);
  }
  if (x.n < total || o.n <= oMax) { fail(env, "scatter: array too small"); return nullptr; }
  const float *xp = x.p;
  scatterRec(0, rank, shape.p, st.p, xp, o.p);
  return nullptr;
}

// layernorm(x, gamma, beta, y, mean, rstd, rows, cols, eps): LayerNorm over the last axis (biased
// variance, as torch), one pass per row; mean and 1/sqrt(var + eps) are kept for the gradient.
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

napi_value LayerNorm(napi_env env, napi_callback_info info) {
  size_t argc = 9; napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 9) { fail(env, "layernorm: needs 9 arguments"); return nullptr; }
  F32 x, g, b, y, mean, rstd; int64_t rows, cols; double eps;
  if (!getF32(env, argv[0], &x, "x") || !getF32(env, argv[1], &g, "gamma") || !getF32(env, argv[2], &b, "beta") || !getF32(env, argv[3], &y, "y") ||
      !getF32(env, argv[4], &mean, "mean") || !getF32(env, argv[5], &rstd, "rstd") || !getInt(env, argv[6], &rows) || !getInt(env, argv[7], &cols) ||
      !getDouble(env, argv[8], &eps)) return nullptr;
  const size_t n = size_t(rows * cols);
  if (rows < 0 || cols < 0 || x.n < n || y.n < n || g.n < size_t(cols) || b.n < size_t(cols) || mean.n < size_t(rows) || rstd.n < size_t(rows)) {
    fail(env, "layernorm: array too small"); return nullptr;
  }
  const float *xp = x.p, *gp = g.p, *bp = b.p; float *yp = y.p, *mp = mean.p, *rp = rstd.p;
  parallelFor(rows, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, cols)), [=](int64_t s, int64_t e) { layerNormRows(xp, gp, bp, yp, mp, rp, s, e, cols, eps); });
  return nullptr;
}

// layernormGrad(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols):
//   xhat = (x − mean)·rstd, gdy = dy·gamma,
//   dx = rstd · (gdy − mean_j(gdy) − xhat · mean_j(gdy·xhat)), dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy.
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  size_t argc = 10; napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 10) { fail(env, "layernormGrad: needs 10 arguments"); return nullptr; }
  F32 dy, x, g, mean, rstd, dx, dg, db; int64_t rows, cols;
  if (!getF32(env, argv[0], &dy, "dy") || !getF32(env, argv[1], &x, "x") || !getF32(env, argv[2], &g, "gamma") || !getF32(env, argv[3], &mean, "mean") ||
      !getF32(env, argv[4], &rstd, "rstd") || !getF32(env, argv[5], &dx, "dx") || !getF32(env, argv[6], &dg, "dgamma") || !getF32(env, argv[7], &db, "dbeta") ||
      !getInt(env, argv[8], &rows) || !getInt(env, argv[9], &cols)) return nullptr;
  const size_t n = size_t(rows * cols);
  if (rows < 0 || cols < 0 || dy.n < n || x.n < n || dx.n < n || g.n < size_t(cols) || dg.n < size_t(cols) || db.n < size_t(cols) || mean.n < size_t(rows) ||
      rstd.n < size_t(rows)) { fail(env, "layernormGrad: array too small"); return nullptr; }
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(g_threads, rows * cols / GRAIN));
  std::vector<double> accG(size_t(nt * cols), 0.0), accB(size_t(nt * cols), 0.0);
  const float *dyp = dy.p, *xp = x.p, *gp = g.p, *mp = mean.p, *rp = rstd.p; float *dxp = dx.p;
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
    dg.p[j] = float(sg); db.p[j] = float(sb);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// softmax(x, out, rows, cols): row-wise softmax over the last axis, max-subtracted.
napi_value Softmax(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) { fail(env, "softmax: needs 4 arguments"); return nullptr; }
  F32 x, o; int64_t rows, cols;
  if (!getF32(env, argv[0], &x, "x") || !getF32(env, argv[1], &o, "out") || !getInt(env, argv[2], &rows) || !getInt(env, argv[3], &cols)) return nullptr;
  if (rows < 0 || cols < 0 || x.n < size_t(rows * cols) || o.n < size_t(rows * cols)) { fail(env, "softmax: array too small"); return nullptr; }
  const float *xp = x.p; float *op = o.p;
  parallelFor(rows, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, cols)), [=](int64_t s, int64_t e) {
    softmaxRows(xp + s * cols, op + s * cols, e - s, cols);
  });
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Fused multi-head attention on the linear layers' own layout: q [B, Tq, H·dh], k, v [B, Tk, H·dh],
// head h = columns [h·dh, (h+1)·dh). Per (b, h), with strided sgemm (leading dimension H·dh), so
// heads are never split into [B·H, T, dh] copies:
//   S = scale · q_bh·k_bhᵀ [Tq, Tk];  P = softmax_rows(S) (kept for the gradient);  o_bh = P·v_bh.
// params Int32Array[B, Tq, Tk, H, dh]. (b, h) pairs are split over threads, each single-threaded sgemm.
struct AttnGeom { int64_t B, Tq, Tk, H, dh; int64_t D() const { return H * dh; } };

bool readAttn(napi_env env, const I32 &p, AttnGeom *g, const char *what) {
  if (p.n < 5) { fail(env, (std::string(what) + ": params too short").c_str()); return false; }
  *g = AttnGeom{p.p[0], p.p[1], p.p[2], p.p[3], p.p[4]};
  if (g->B < 0 || g->Tq < 0 || g->Tk < 0 || g->H < 1 || g->dh < 0) { fail(env, (std::string(what) + ": bad params").c_str()); return false; }
  return true;
}


// attention(q, k, v, out, probs, params, scale)
napi_value Attention(napi_env env, napi_callback_info info) {
  size_t argc = 7; napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 7) { fail(env, "attention: needs 7 arguments"); return nullptr; }
  F32 q, k, v, o, pr; I32 p; double scale;
  if (!getF32(env, argv[0], &q, "q") || !getF32(env, argv[1], &k, "k") || !getF32(env, argv[2], &v, "v") || !getF32(env, argv[3], &o, "out") ||
      !getF32(env, argv[4], &pr, "probs") || !getI32(env, argv[5], &p, "params")) return nullptr;
  CHECK(napi_get_value_double(env, argv[6], &scale));
  AttnGeom G;
  if (!readAttn(env, p, &G, "attention")) return nullptr;
  const int64_t D = G.D();
  if (q.n < size_t(G.B * G.Tq * D) || k.n < size_t(G.B * G.Tk * D) || v.n < size_t(G.B * G.Tk * D) || o.n < size_t(G.B * G.Tq * D) ||
      pr.n < size_t(G.B * G.H * G.Tq * G.Tk)) { fail(env, "attention: array too small"); return nullptr; }
  if (G.B * G.Tq * D == 0) return nullptr;
  if (G.Tk == 0) { std::memset(o.p, 0, size_t(G.B * G.Tq * D) * sizeof(float)); return nullptr; }
  const float a = float(scale);
  smallGemmsOverThreads(G.B * G.H, [&](int64_t i) {
    const int64_t b = i / G.H, h = i % G.H;
    const float *qb = q.p + b * G.Tq * D + h * G.dh, *kb = k.p + b * G.Tk * D + h * G.dh, *vb = v.p + b * G.Tk * D + h * G.dh;
    float *P = pr.p + i * G.Tq * G.Tk, *ob = o.p + b * G.Tq * D + h * G.dh;
    if (G.dh == 0) std::memset(P, 0, size_t(G.Tq * G.Tk) * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(G.Tq), int(G.Tk), int(G.dh), a, qb, int(D), kb, int(D), 0.0f, P, int(G.Tk));
    softmaxRows(P, P, G.Tq, G.Tk);
    if (G.dh > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(G.Tq), int(G.dh), int(G.Tk), 1.0f, P, int(G.Tk), vb, int(D), 0.0f, ob, int(D));
  });
  return nullptr;
}

// attentionGrad(dout, q, k, v, probs, dq, dk, dv, params, scale): per (b, h)
//   dv = Pᵀ·dO;  dP = dO·vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dq = scale·dS·k;  dk = scale·dSᵀ·q
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  size_t argc = 10; napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 10) { fail(env, "attentionGrad: needs 10 arguments"); return nullptr; }
  F32 dO, q, k, v, pr, dq, dk, dv; I32 p; double scale;
  if (!getF32(env, argv[0], &dO, "dout") || !getF32(env, argv[1], &q, "q") || !getF32(env, argv[2], &k, "k") || !getF32(env, argv[3], &v, "v") ||
      !getF32(env, argv[4], &pr, "probs") || !getF32(env, argv[5], &dq, "dq") || !getF32(env, argv[6], &dk, "dk") || !getF32(env, argv[7], &dv, "dv") ||
      !getI32(env, argv[8], &p, "params")) return nullptr;
  CHECK(napi_get_value_double(env, argv[9], &scale));
  AttnGeom G;
  if (!readAttn(env, p, &G, "attentionGrad")) return nullptr;
  const int64_t D = G.D(), nq = G.B * G.Tq * D, nk = G.B * G.Tk * D;
  if (dO.n < size_t(nq) || q.n < size_t(nq) || dq.n < size_t(nq) || k.n < size_t(nk) || v.n < size_t(nk) || dk.n < size_t(nk) || dv.n < size_t(nk) ||
      pr.n < size_t(G.B * G.H * G.Tq * G.Tk)) { fail(env, "attentionGrad: array too small"); return nullptr; }
  std::memset(dq.p, 0, size_t(nq) * sizeof(float));
  std::memset(dk.p, 0, size_t(nk) * sizeof(float));
  std::memset(dv.p, 0, size_t(nk) * sizeof(float));
  if (G.Tq * G.Tk * G.dh == 0 || G.B == 0) return nullptr;
  const float a = float(scale);
  smallGemmsOverThreads(G.B * G.H, [&](int64_t i) {
    const int64_t b = i / G.H, h = i % G.H;
    const int64_t oq = b * G.Tq * D + h * G.dh, ok = b * G.Tk * D + h * G.dh;
    const float *P = pr.p + i * G.Tq * G.Tk;
    std::vector<float> dS(size_t(G.Tq * G.Tk));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G.Tk), int(G.dh), int(G.Tq), 1.0f, P, int(G.Tk), dO.p + oq, int(D), 0.0f, dv.p + ok, int(D));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(G.Tq), int(G.Tk), int(G.dh), 1.0f, dO.p + oq, int(D), v.p + ok, int(D), 0.0f, dS.data(), int(G.Tk));
    for (int64_t r = 0; r < G.Tq; r++) {
      float *dr = dS.data() + r * G.Tk; const float *pr_ = P + r * G.Tk;
      double dot = 0;
      for (int64_t c = 0; c < G.Tk; c++) dot += double(dr[c]) * double(pr_[c]);
      const float d = float(dot);
      for (int64_t c = 0; c < G.Tk; c++) dr[c] = pr_[c] * (dr[c] - d);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(G.Tq), int(G.dh), int(G.Tk), a, dS.data(), int(G.Tk), k.p + ok, int(D), 0.0f, dq.p + oq, int(D));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G.Tk), int(G.dh), int(G.Tq), a, dS.data(), int(G.Tk), q.p + oq, int(D), 0.0f, dk.p + ok, int(D));
  });
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Conv2D and its two gradients share one geometry (params Int32Array[N,H,W,C, fh,fw, sh,sw, dh,dw,
// padTop,padLeft, outH,outW, outC]; NHWC activations, HWIO filter) and one column layout:
// col[(n·oh + r)·ow + q, (i·fw + j)·C + c] = x[n, r·sh + i·dh − pt, q·sw + j·dw − pl, c] (0 outside).
struct ConvGeom {
  int64_t N, H, W, C, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow, oc;
  int64_t KK() const { return fh * fw * C; }
  int64_t P() const { return oh * ow; }
  // images per im2col group: ≤ 8M floats of columns, so each group is one large sgemm
  int64_t group() const { return std::max<int64_t>(1, std::min<int64_t>(N, (int64_t(8) << 20) / std::max<int64_t>(1, P() * KK()))); }
};

bool readGeom(napi_env env, const I32 &p, ConvGeom *g, const char *what) {
  if (p.n < 15) { fail(env, (std::string(what) + ": params too short").c_str()); return false; }
  *g = ConvGeom{p.p[0], p.p[1], p.p[2], p.p[3], p.p[4], p.p[5], p.p[6], p.p[7], p.p[8], p.p[9], p.p[10], p.p[11], p.p[12], p.p[13], p.p[14]};
  return true;
}

// The three conv entry points take (a, b, out, params): two inputs, the output, the geometry.
bool convArgs(napi_env env, napi_callback_info info, const char *what, const char *aName, const char *bName, F32 *a, F32 *b, F32 *o, ConvGeom *G) {
  size_t argc = 4; napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) { fail(env, (std::string(what) + ": bad call").c_str()); return false; }
  if (argc < 4) { fail(env, (std::string(what) + ": needs 4 arguments").c_str()); return false; }
  I32 p;
  if (!getF32(env, argv[0], a, aName) || !getF32(env, argv[1], b, bName) || !getF32(env, argv[2], o, "out") || !getI32(env, argv[3], &p, "params")) return false;
  return readGeom(env, p, G, what);
}

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

// conv2d(x, filter, out, params): out[N·P, oc] = col[N·P, KK] × filter[KK, oc]
napi_value Conv2d(napi_env env, napi_callback_info info) {
  F32 x, w, o; ConvGeom G;
  if (!convArgs(env, info, "conv2d", "x", "filter", &x, &w, &o, &G)) return nullptr;
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc;
  if (x.n < size_t(N * G.H * G.W * G.C) || w.n < size_t(KK * oc) || o.n < size_t(N * P * oc)) { fail(env, "conv2d: array too small"); return nullptr; }
  if (N * P * oc == 0) return nullptr;
  if (KK == 0) { std::memset(o.p, 0, size_t(N * P * oc) * sizeof(float)); return nullptr; }
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    im2col(G, x.p, n0, g, col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(g * P), int(oc), int(KK), 1.0f, col.data(), int(KK), w.p, int(oc), 0.0f,
                o.p + n0 * P * oc, int(oc));
  }
  return nullptr;
}

// conv2dBackpropFilter(x, dy, dfilter, params): dfilter[KK, oc] = Σ_groups col[gP, KK]ᵀ × dy[gP, oc]
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  F32 x, dy, o; ConvGeom G;
  if (!convArgs(env, info, "conv2dBackpropFilter", "x", "dy", &x, &dy, &o, &G)) return nullptr;
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc;
  if (x.n < size_t(N * G.H * G.W * G.C) || dy.n < size_t(N * P * oc) || o.n < size_t(KK * oc)) { fail(env, "conv2dBackpropFilter: array too small"); return nullptr; }
  if (KK * oc == 0) return nullptr;
  std::memset(o.p, 0, size_t(KK * oc) * sizeof(float));
  if (N * P == 0) return nullptr;
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    im2col(G, x.p, n0, g, col.data());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(KK), int(oc), int(g * P), 1.0f, col.data(), int(KK), dy.p + n0 * P * oc, int(oc),
                1.0f, o.p, int(oc));
  }
  return nullptr;
}

// conv2dBackpropInput(dy, filter, dx, params): dcol[gP, KK] = dy[gP, oc] × filter[KK, oc]ᵀ, then col2im into dx
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  F32 dy, w, o; ConvGeom G;
  if (!convArgs(env, info, "conv2dBackpropInput", "dy", "filter", &dy, &w, &o, &G)) return nullptr;
  const int64_t KK = G.KK(), P = G.P(), N = G.N, oc = G.oc, xsize = N * G.H * G.W * G.C;
  if (dy.n < size_t(N * P * oc) || w.n < size_t(KK * oc) || o.n < size_t(xsize)) { fail(env, "conv2dBackpropInput: array too small"); return nullptr; }
  if (xsize == 0) return nullptr;
  std::memset(o.p, 0, size_t(xsize) * sizeof(float));
  if (P * KK == 0) return nullptr;
  const int64_t group = G.group();
  std::vector<float> col(size_t(group * P * KK));
  for (int64_t n0 = 0; n0 < N; n0 += group) {
    const int64_t g = std::min(group, N - n0);
    if (oc == 0) std::memset(col.data(), 0, col.size() * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(g * P), int(KK), int(oc), 1.0f, dy.p + n0 * P * oc, int(oc), w.p, int(oc), 0.0f,
                     col.data(), int(KK));
    col2im(G, col.data(), n0, g, o.p);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// unary(op, x, out): computed in double and rounded to float32, as the stock JS kernels do
// (erf uses the same Abramowitz–Stegun 7.1.26 polynomial as tfjs so results match it).
// op: 0 sigmoid, 1 exp, 2 erf, 3 tanh, 4 rsqrt, 5 square, 6 sqrt, 7 neg, 8 relu, 9 log, 10 abs, 11 cube
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

napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 3) { fail(env, "unary: needs 3 arguments"); return nullptr; }
  int64_t op; F32 x, o;
  if (!getInt(env, argv[0], &op) || !getF32(env, argv[1], &x, "x") || !getF32(env, argv[2], &o, "out")) return nullptr;
  if (o.n < x.n) { fail(env, "unary: out too small"); return nullptr; }
  if (op < 0 || op > 13) { fail(env, "unary: unknown op"); return nullptr; }
  const float *xp = x.p; float *opp = o.p;
  parallelFor(int64_t(x.n), GRAIN, [=](int64_t s, int64_t e) {
    const float *xs = xp + s; float *os = opp + s; const size_t n = size_t(e - s);
    switch (op) {
      case 0: sigmoidF(xs, os, n); break;
      case 1: expF(xs, os, n); break;
      case 2: erfD(xs, os, n); break;
      case 3: tanhD(xs, os, n); break;
      case 11: cubeD(xs, os, n); break;
      case 12: quickGeluF(xs, os, n); break;
      case 4: unaryRun<4>(xs, os, n); break;
      case 5: unaryRun<5>(xs, os, n); break;
      case 6: unaryRun<6>(xs, os, n); break;
      case 7: unaryRun<7>(xs, os, n); break;
      case 8: unaryRun<8>(xs, os, n); break;
      case 9: unaryRun<9>(xs, os, n); break;
      case 13: unaryRun<13>(xs, os, n); break;
      default: unaryRun<10>(xs, os, n); break;
    }
  });
  return nullptr;
}

// quickGeluGrad(dy, x, dx): the gradient of unary op 12
napi_value QuickGeluGrad(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 3) { fail(env, "quickGeluGrad: needs 3 arguments"); return nullptr; }
  F32 dy, x, o;
  if (!getF32(env, argv[0], &dy, "dy") || !getF32(env, argv[1], &x, "x") || !getF32(env, argv[2], &o, "out")) return nullptr;
  if (dy.n != x.n || o.n < x.n) { fail(env, "quickGeluGrad: sizes differ"); return nullptr; }
  const float *dp = dy.p, *xp = x.p; float *opp = o.p;
  parallelFor(int64_t(x.n), GRAIN, [=](int64_t s, int64_t e) { quickGeluGradF(dp + s, xp + s, opp + s, size_t(e - s)); });
  return nullptr;
}

// rowsum(x, out, rows, cols, scale): out[r] = scale · Σ_j x[r, j], accumulated in double.
napi_value Rowsum(napi_env env, napi_callback_info info) {
  size_t argc = 5; napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) { fail(env, "rowsum: needs 5 arguments"); return nullptr; }
  F32 x, o; int64_t rows, cols; double scale;
  if (!getF32(env, argv[0], &x, "x") || !getF32(env, argv[1], &o, "out") || !getInt(env, argv[2], &rows) || !getInt(env, argv[3], &cols) ||
      !getDouble(env, argv[4], &scale)) return nullptr;
  if (rows < 0 || cols < 0 || x.n < size_t(rows * cols) || o.n < size_t(rows)) { fail(env, "rowsum: array too small"); return nullptr; }
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x.p + r * cols;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) { s0 += xr[j]; s1 += xr[j + 1]; s2 += xr[j + 2]; s3 += xr[j + 3]; }
    for (; j < cols; j++) s0 += xr[j];
    o.p[r] = float(((s0 + s1) + (s2 + s3)) * scale);
  }
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int64_t n = 1;
  if (argc < 1 || !getInt(env, argv[0], &n)) return nullptr;
  openblas_set_num_threads(int(std::max<int64_t>(1, n)));
  g_threads = int(std::max<int64_t>(1, n));
  return nullptr;
}

napi_value SetBatchThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  bool on = true;
  if (argc >= 1) CHECK(napi_get_value_bool(env, argv[0], &on));
  g_batchThreads = on;
  return nullptr;
}

napi_value GetInfo(napi_env env, napi_callback_info info) {
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &v));
  CHECK(napi_set_named_property(env, obj, "threads", v));
  const char *cfg = openblas_get_config();
  CHECK(napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "blas", v));
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"quickGeluGrad", nullptr, QuickGeluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rowsum", nullptr, Rowsum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scatter", nullptr, Scatter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layernorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layernormGrad", nullptr, LayerNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionGrad", nullptr, AttentionGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setBatchThreads", nullptr, SetBatchThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, GetInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  llk::registerMemoryFunctions(env, exports);
  llk::registerConvKernels(env, exports);
  llk::registerPoolKernels(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
