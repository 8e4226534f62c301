// The addon's N-API binding: each entry point reads its arguments with the one parser (napi_args.h),
// checks shapes against array lengths, and calls its kernel (kernels.h). Every function is
// synchronous and writes into output Float32Arrays that JS allocated, so all memory stays owned by V8.
// Op codes: op_codes.h (shared with src/backend/native/op-codes.ts).
#include <algorithm>
#include <cstring>
#include <thread>
#include "blas.h"
#include "conv_pool.h"
#include "kernels.h"
#include "napi_args.h"
#include "parallel.h"
#include "perf_kernels.h"

namespace llk {
namespace {

// matmul(a, b, out, M, N, K, transA, transB, aIdx: Int32Array, bIdx: Int32Array, bias: Float32Array|null, act, alpha)
napi_value Matmul(napi_env env, napi_callback_info info) {
  Args a(env, info, "matmul", 10);
  const F32 A = a.f32(0, "a"), B = a.f32(1, "b"), C = a.f32(2, "out");
  const int64_t M = a.integer(3, "M"), N = a.integer(4, "N"), K = a.integer(5, "K");
  const bool ta = a.boolean(6, "transA"), tb = a.boolean(7, "transB");
  const I32 ai = a.i32(8, "aIdx"), bi = a.i32(9, "bIdx");
  const F32 bias = a.optF32(10, "bias");
  const int64_t act = a.integer(11, "act", int64_t(Activation::Linear));
  const double alpha = a.number(12, "alpha");
  if (!a.ok()) return nullptr;
  const size_t batch = ai.n;
  if (bi.n != batch) return a.fail("aIdx and bIdx lengths differ");
  if (M < 0 || N < 0 || K < 0) return a.fail("negative dimension");
  if (!blasInt(M) || !blasInt(N) || !blasInt(K)) return a.fail("dimension too large for BLAS");
  const int64_t aSz = mulSize(M, K), bSz = mulSize(K, N), cSz = mulSize(M, N);  // ≤ 2^62: no overflow
  if (!holds(C.n, mulSize(int64_t(batch), cSz))) return a.fail("out too small");
  if (bias.p && bias.n != size_t(N)) return a.fail("bias length must be N");
  if (act < int64_t(Activation::Linear) || act > int64_t(Activation::Elu) || act == int64_t(Activation::Prelu)) return a.fail("unsupported activation");
  for (size_t i = 0; i < batch; i++) {
    // −1 would pass the bound below ((−1 + 1)·size = 0) and address the matrix before the array
    if (ai.p[i] < 0 || bi.p[i] < 0) return a.fail("batch index out of range");
    if (!holds(A.n, mulSize(int64_t(ai.p[i]) + 1, aSz)) || !holds(B.n, mulSize(int64_t(bi.p[i]) + 1, bSz))) return a.fail("batch index out of range");
  }
  matmul(A.p, B.p, C.p, M, N, K, ta, tb, ai.p, bi.p, batch, bias.p, Activation(act), float(alpha));
  return nullptr;
}

// Shape and strides of a strided view: the element count, and the largest offset + 1 the strides reach.
// Any empty dim: count 0 (reach 0). Strides must be ≥ 0: every caller (src/backend/native/*.ts) passes
// row-major strides, 0 for a broadcast dim, and with none negative the smallest offset is 0 and the
// largest is Σ (shape − 1)·stride, so the one bound below covers every element the kernels touch.
// Dims ≥ 0, rank ≤ kMaxRank (the kernels recurse once per dim); false (after a.fail) otherwise.
constexpr size_t kMaxRank = 64;
struct Extent { int64_t count, reach; };
bool extent(Args &a, const I32 &shape, const I32 &strides, Extent *e) {
  if (shape.n > kMaxRank) { a.fail("rank above 64"); return false; }
  int64_t total = 1, maxOff = 0;
  for (size_t d = 0; d < shape.n; d++) {
    if (shape.p[d] < 0) { a.fail("negative dimension"); return false; }
    if (strides.p[d] < 0) { a.fail("negative stride"); return false; }
    total = mulSize(total, shape.p[d]);
    maxOff = addSize(maxOff, mulSize(shape.p[d] > 0 ? shape.p[d] - 1 : 0, strides.p[d]));
    if (total < 0 || maxOff < 0) { a.fail("shape and strides overflow"); return false; }
  }
  if (addSize(maxOff, 1) < 0) { a.fail("shape and strides overflow"); return false; }
  *e = total == 0 ? Extent{0, 0} : Extent{total, maxOff + 1};
  return true;
}

// binary(op, a, b, out, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array)
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary", 7);
  const int64_t op = a.integer(0, "op");
  const F32 A = a.f32(1, "a"), B = a.f32(2, "b"), O = a.f32(3, "out");
  const I32 shape = a.i32(4, "shape"), sa = a.i32(5, "aStrides"), sb = a.i32(6, "bStrides");
  if (!a.ok()) return nullptr;
  if (sa.n != shape.n || sb.n != shape.n) return a.fail("stride ranks differ");
  Extent ea, eb;
  if (!extent(a, shape, sa, &ea) || !extent(a, shape, sb, &eb)) return nullptr;
  if (ea.count == 0) return nullptr;  // empty output: nothing to do
  if (!holds(O.n, ea.count) || !holds(A.n, ea.reach) || !holds(B.n, eb.reach)) return a.fail("array too small for shape/strides");
  if (op < int64_t(BinaryOp::Add) || op > int64_t(BinaryOp::Pow)) return a.fail("unknown op");
  binary(BinaryOp(op), int(shape.n), shape.p, sa.p, sb.p, A.p, B.p, O.p);
  return nullptr;
}

// transpose(x, out, shape: Int32Array (OUTPUT shape), strides: Int32Array (input element stride of each output dim))
napi_value Transpose(napi_env env, napi_callback_info info) {
  Args a(env, info, "transpose", 4);
  const F32 x = a.f32(0, "x"), o = a.f32(1, "out");
  const I32 shape = a.i32(2, "shape"), st = a.i32(3, "strides");
  if (!a.ok()) return nullptr;
  if (st.n != shape.n) return a.fail("stride rank differs");
  Extent e;
  if (!extent(a, shape, st, &e)) return nullptr;
  if (e.count == 0) return nullptr;
  if (!holds(o.n, e.count) || !holds(x.n, e.reach)) return a.fail("array too small");
  transpose(int(shape.n), shape.p, st.p, x.p, o.p);
  return nullptr;
}

// scatter(x, out, shape, dstStrides): contiguous x of `shape` written into out at element strides
// dstStrides (PadV2's interior; out is already filled with the pad value).
napi_value Scatter(napi_env env, napi_callback_info info) {
  Args a(env, info, "scatter", 4);
  const F32 x = a.f32(0, "x"), o = a.f32(1, "out");
  const I32 shape = a.i32(2, "shape"), st = a.i32(3, "strides");
  if (!a.ok()) return nullptr;
  if (st.n != shape.n || shape.n == 0) return a.fail("bad rank");
  Extent e;
  if (!extent(a, shape, st, &e)) return nullptr;
  if (e.count == 0) return nullptr;
  if (!holds(x.n, e.count) || !holds(o.n, e.reach)) return a.fail("array too small");
  scatter(int(shape.n), shape.p, st.p, x.p, o.p);
  return nullptr;
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info, "unary", 3);
  const int64_t op = a.integer(0, "op");
  const F32 x = a.f32(1, "x"), o = a.f32(2, "out");
  if (!a.ok()) return nullptr;
  if (o.n < x.n) return a.fail("out too small");
  if (op < int64_t(UnaryOp::Sigmoid) || op > int64_t(UnaryOp::Floor)) return a.fail("unknown op");
  unary(UnaryOp(op), x.p, o.p, x.n);
  return nullptr;
}

// quickGeluGrad(dy, x, dx): the gradient of UnaryOp::QuickGelu
napi_value QuickGeluGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "quickGeluGrad", 3);
  const F32 dy = a.f32(0, "dy"), x = a.f32(1, "x"), o = a.f32(2, "out");
  if (!a.ok()) return nullptr;
  if (dy.n != x.n || o.n < x.n) return a.fail("sizes differ");
  quickGeluGrad(dy.p, x.p, o.p, x.n);
  return nullptr;
}

// rowsum(x, out, rows, cols, scale): out[r] = scale · Σ_j x[r, j]
napi_value Rowsum(napi_env env, napi_callback_info info) {
  Args a(env, info, "rowsum", 5);
  const F32 x = a.f32(0, "x"), o = a.f32(1, "out");
  const int64_t rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
  const double scale = a.number(4, "scale");
  if (!a.ok()) return nullptr;
  if (rows < 0 || cols < 0 || !holds(x.n, mulSize(rows, cols)) || !holds(o.n, rows)) return a.fail("array too small");
  rowsum(x.p, o.p, rows, cols, scale);
  return nullptr;
}

// softmax(x, out, rows, cols): row-wise softmax over the last axis
napi_value Softmax(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmax", 4);
  const F32 x = a.f32(0, "x"), o = a.f32(1, "out");
  const int64_t rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
  if (!a.ok()) return nullptr;
  const int64_t n = mulSize(rows, cols);
  if (rows < 0 || cols < 0 || !holds(x.n, n) || !holds(o.n, n)) return a.fail("array too small");
  if (n == 0) return nullptr;  // (rows alone is unbounded when cols = 0)
  softmax(x.p, o.p, rows, cols);
  return nullptr;
}

// layernorm(x, gamma, beta, y, mean, rstd, rows, cols, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Args a(env, info, "layernorm", 9);
  const F32 x = a.f32(0, "x"), g = a.f32(1, "gamma"), b = a.f32(2, "beta"), y = a.f32(3, "y"), mean = a.f32(4, "mean"), rstd = a.f32(5, "rstd");
  const int64_t rows = a.integer(6, "rows"), cols = a.integer(7, "cols");
  const double eps = a.number(8, "eps");
  if (!a.ok()) return nullptr;
  const int64_t n = mulSize(rows, cols);  // -1 (never held) when negative or overflowing
  if (!holds(x.n, n) || !holds(y.n, n) || !holds(g.n, cols) || !holds(b.n, cols) || !holds(mean.n, rows) || !holds(rstd.n, rows)) {
    return a.fail("array too small");
  }
  layerNorm(x.p, g.p, b.p, y.p, mean.p, rstd.p, rows, cols, eps);
  return nullptr;
}

// layernormGrad(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "layernormGrad", 10);
  const F32 dy = a.f32(0, "dy"), x = a.f32(1, "x"), g = a.f32(2, "gamma"), mean = a.f32(3, "mean"), rstd = a.f32(4, "rstd"), dx = a.f32(5, "dx"),
            dg = a.f32(6, "dgamma"), db = a.f32(7, "dbeta");
  const int64_t rows = a.integer(8, "rows"), cols = a.integer(9, "cols");
  if (!a.ok()) return nullptr;
  const int64_t n = mulSize(rows, cols);  // -1 (never held) when negative or overflowing
  if (!holds(dy.n, n) || !holds(x.n, n) || !holds(dx.n, n) || !holds(g.n, cols) || !holds(dg.n, cols) || !holds(db.n, cols) ||
      !holds(mean.n, rows) || !holds(rstd.n, rows)) {
    return a.fail("array too small");
  }
  layerNormGrad(dy.p, x.p, g.p, mean.p, rstd.p, dx.p, dg.p, db.p, rows, cols);
  return nullptr;
}

// attention params Int32Array[B, Tq, Tk, H, dh]
bool attnGeom(Args &a, const I32 &p, AttnGeom *g) {
  if (p.n < 5) { a.fail("params too short"); return false; }
  *g = AttnGeom{p.p[0], p.p[1], p.p[2], p.p[3], p.p[4]};
  if (g->B < 0 || g->Tq < 0 || g->Tk < 0 || g->H < 1 || g->dh < 0) { a.fail("bad params"); return false; }
  // per-head sgemms: Tq, Tk, dh and the leading dimension H·dh are BLAS ints (H·dh < 2^62: no overflow)
  if (!blasInt(g->Tq) || !blasInt(g->Tk) || !blasInt(g->D())) { a.fail("too large for BLAS"); return false; }
  return true;
}

// element counts of q/out [B, Tq, H·dh], k/v [B, Tk, H·dh], probs [B, H, Tq, Tk]; -1 on overflow
struct AttnSizes { int64_t q, k, p; };
AttnSizes attnSizes(const AttnGeom &G) {
  return {product({G.B, G.Tq, G.H, G.dh}), product({G.B, G.Tk, G.H, G.dh}), product({G.B, G.H, G.Tq, G.Tk})};
}

// attention(q, k, v, out, probs, params, scale)
napi_value Attention(napi_env env, napi_callback_info info) {
  Args a(env, info, "attention", 7);
  const F32 q = a.f32(0, "q"), k = a.f32(1, "k"), v = a.f32(2, "v"), o = a.f32(3, "out"), pr = a.f32(4, "probs");
  const I32 p = a.i32(5, "params");
  const double scale = a.number(6, "scale");
  AttnGeom G;
  if (!a.ok() || !attnGeom(a, p, &G)) return nullptr;
  const AttnSizes S = attnSizes(G);
  if (!holds(q.n, S.q) || !holds(k.n, S.k) || !holds(v.n, S.k) || !holds(o.n, S.q) || !holds(pr.n, S.p)) return a.fail("array too small");
  attention(G, q.p, k.p, v.p, o.p, pr.p, float(scale));
  return nullptr;
}

// attentionGrad(dout, q, k, v, probs, dq, dk, dv, params, scale)
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "attentionGrad", 10);
  const F32 dO = a.f32(0, "dout"), q = a.f32(1, "q"), k = a.f32(2, "k"), v = a.f32(3, "v"), pr = a.f32(4, "probs"), dq = a.f32(5, "dq"),
            dk = a.f32(6, "dk"), dv = a.f32(7, "dv");
  const I32 p = a.i32(8, "params");
  const double scale = a.number(9, "scale");
  AttnGeom G;
  if (!a.ok() || !attnGeom(a, p, &G)) return nullptr;
  const AttnSizes S = attnSizes(G);
  if (!holds(dO.n, S.q) || !holds(q.n, S.q) || !holds(dq.n, S.q) || !holds(k.n, S.k) || !holds(v.n, S.k) || !holds(dk.n, S.k) || !holds(dv.n, S.k) ||
      !holds(pr.n, S.p)) return a.fail("array too small");
  attentionGrad(G, dO.p, q.p, k.p, v.p, pr.p, dq.p, dk.p, dv.p, float(scale));
  return nullptr;
}

// The three conv entry points take (a, b, out, params): two inputs, the output, the geometry.
struct ConvCall { F32 a, b, o; ConvGeom G; };
bool convArgs(Args &a, const char *aName, const char *bName, ConvCall *c) {
  c->a = a.f32(0, aName); c->b = a.f32(1, bName); c->o = a.f32(2, "out");
  const I32 p = a.i32(3, "params");
  if (!a.ok()) return false;
  if (p.n < ConvGeom::kParams) { a.fail("params too short"); return false; }
  c->G = ConvGeom::from(p.p);
  if (const char *why = c->G.invalid()) { a.fail(why); return false; }  // fusedConv2d's check too
  return true;
}

// conv2d(x, filter, out, params)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2d", 4);
  ConvCall c;
  if (!convArgs(a, "x", "filter", &c)) return nullptr;
  const ConvGeom &G = c.G;
  if (!holds(c.a.n, G.xSize()) || !holds(c.b.n, G.wSize()) || !holds(c.o.n, G.ySize())) return a.fail("array too small");
  conv2d(G, c.a.p, c.b.p, c.o.p);
  return nullptr;
}

// conv2dBackpropFilter(x, dy, dfilter, params)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2dBackpropFilter", 4);
  ConvCall c;
  if (!convArgs(a, "x", "dy", &c)) return nullptr;
  const ConvGeom &G = c.G;
  if (!holds(c.a.n, G.xSize()) || !holds(c.b.n, G.ySize()) || !holds(c.o.n, G.wSize())) return a.fail("array too small");
  conv2dBackpropFilter(G, c.a.p, c.b.p, c.o.p);
  return nullptr;
}

// conv2dBackpropInput(dy, filter, dx, params)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2dBackpropInput", 4);
  ConvCall c;
  if (!convArgs(a, "dy", "filter", &c)) return nullptr;
  const ConvGeom &G = c.G;
  if (!holds(c.a.n, G.ySize()) || !holds(c.b.n, G.wSize()) || !holds(c.o.n, G.xSize())) return a.fail("array too small");
  conv2dBackpropInput(G, c.a.p, c.b.p, c.o.p);
  return nullptr;
}

// setThreads(n): BLAS threads and the memory-bound kernels' threads, clamped to [1, 4 × the cores]
// (more only oversubscribes; OpenBLAS caps its own count further at its build's maximum)
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setThreads", 1);
  const int64_t want = a.integer(0, "n", 1);
  if (!a.ok()) return nullptr;
  const int64_t cap = 4 * std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int n = int(std::min(std::max<int64_t>(1, want), cap));
  setBlasThreads(n);
  g_threads = n;
  return nullptr;
}

// setBatchThreads(on = true): split batched small gemms over threads
napi_value SetBatchThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setBatchThreads", 0);
  const bool on = a.boolean(0, "on", true);
  if (!a.ok()) return nullptr;
  g_batchThreads = on;
  return nullptr;
}

// info(): { threads, blasThreadsNow, blas }
napi_value GetInfo(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, blasThreads(), &v);  // not OpenBLAS's count: 1 while another thread's section runs
  napi_set_named_property(env, obj, "threads", v);
  napi_create_int32(env, openblas_get_num_threads(), &v);  // OpenBLAS's own count now
  napi_set_named_property(env, obj, "blasThreadsNow", v);
  const char *cfg = openblas_get_config();
  napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "blas", v);
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
  registerMemoryFunctions(env, exports);
  registerConvKernels(env, exports);
  registerPoolKernels(env, exports);
  return exports;
}

}  // namespace
}  // namespace llk

NAPI_MODULE(NODE_GYP_MODULE_NAME, llk::Init)
