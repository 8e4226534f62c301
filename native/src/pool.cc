// MaxPool / AvgPool (NHWC) for the tfjs cpu backend, with the stock kernel's semantics:
//  - the window of output (r, q) is rows [r·sh − pt, … + fh) ∩ [0, H), cols likewise (no dilation);
//  - max: starts at −∞ and takes a value only when it is greater, so NaN inputs are skipped and an
//    empty window gives −∞;
//  - avg: the mean over the window's in-bounds pixels (padding not counted), summed in double in
//    the stock order (rows, then cols), so results are bit-identical; an empty window gives NaN.
// Channels are the innermost loop (vectorised); output rows are split over threads.
#include <cmath>
#include <cstring>
#include <limits>
#include "blas.h"
#include "conv_pool.h"
#include "napi_args.h"
#include "op_codes.h"
#include "parallel.h"

namespace llk {
namespace {

struct PoolGeom { int64_t N, H, W, C, fh, fw, sh, sw, pt, pl, oh, ow; };

void maxRow(const PoolGeom &G, const float *x, float *o, int64_t n, int64_t r) {
  const int64_t C = G.C, y0 = std::max<int64_t>(0, r * G.sh - G.pt), y1 = std::min(G.H, r * G.sh - G.pt + G.fh);
  const float *xn = x + n * G.H * G.W * C;
  for (int64_t q = 0; q < G.ow; q++) {
    float *op = o + ((n * G.oh + r) * G.ow + q) * C;
    for (int64_t c = 0; c < C; c++) op[c] = -std::numeric_limits<float>::infinity();
    const int64_t x0 = std::max<int64_t>(0, q * G.sw - G.pl), x1 = std::min(G.W, q * G.sw - G.pl + G.fw);
    for (int64_t yy = y0; yy < y1; yy++)
      for (int64_t xx = x0; xx < x1; xx++) {
        const float *px = xn + (yy * G.W + xx) * C;
        for (int64_t c = 0; c < C; c++) op[c] = px[c] > op[c] ? px[c] : op[c];
      }
  }
}

void avgRow(const PoolGeom &G, const float *x, float *o, int64_t n, int64_t r, std::vector<double> &acc) {
  const int64_t C = G.C, y0 = std::max<int64_t>(0, r * G.sh - G.pt), y1 = std::min(G.H, r * G.sh - G.pt + G.fh);
  const float *xn = x + n * G.H * G.W * C;
  acc.resize(size_t(C));
  for (int64_t q = 0; q < G.ow; q++) {
    float *op = o + ((n * G.oh + r) * G.ow + q) * C;
    std::fill(acc.begin(), acc.end(), 0.0);
    const int64_t x0 = std::max<int64_t>(0, q * G.sw - G.pl), x1 = std::min(G.W, q * G.sw - G.pl + G.fw);
    for (int64_t yy = y0; yy < y1; yy++)
      for (int64_t xx = x0; xx < x1; xx++) {
        const float *px = xn + (yy * G.W + xx) * C;
        for (int64_t c = 0; c < C; c++) acc[size_t(c)] += double(px[c]);
      }
    const double count = double(std::max<int64_t>(0, y1 - y0) * std::max<int64_t>(0, x1 - x0));
    for (int64_t c = 0; c < C; c++) op[c] = float(acc[size_t(c)] / count);
  }
}

// pool2d(x, out, params Int32Array[N,H,W,C, fh,fw, sh,sw, padTop,padLeft, outH,outW], kind: PoolKind)
napi_value Pool2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "pool2d", 4);
  const F32 x = a.f32(0, "x"), o = a.f32(1, "out");
  const I32 p = a.i32(2, "params");
  const int64_t kind = a.integer(3, "kind");
  if (!a.ok()) return nullptr;
  if (p.n < 12) return a.fail("params too short");
  const int32_t *q = p.p;
  const PoolGeom G{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11]};
  if (G.N < 0 || G.H < 0 || G.W < 0 || G.C < 0 || G.oh < 0 || G.ow < 0 || G.sh < 1 || G.sw < 1 || G.fh < 0 || G.fw < 0) return a.fail("bad geometry");
  if (kind != int64_t(PoolKind::Max) && kind != int64_t(PoolKind::Avg)) return a.fail("kind must be 0 (max) or 1 (avg)");
  if (!holds(x.n, product({G.N, G.H, G.W, G.C})) || !holds(o.n, product({G.N, G.oh, G.ow, G.C}))) return a.fail("array too small");
  const int64_t rows = G.N * G.oh;
  if (rows * G.ow * G.C == 0) return nullptr;
  // rows of ≥ 64K output values per thread item, at least one row
  const int64_t blk = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, G.ow * G.C));
  const int threads = blasThreads();
  std::vector<std::vector<double>> accs(static_cast<size_t>(threads));
  forEachDynamic((rows + blk - 1) / blk, threads, [&](int64_t b, int wk) {
    for (int64_t rr = b * blk; rr < std::min(rows, (b + 1) * blk); rr++) {
      if (kind == int64_t(PoolKind::Max)) maxRow(G, x.p, o.p, rr / G.oh, rr % G.oh);
      else avgRow(G, x.p, o.p, rr / G.oh, rr % G.oh, accs[size_t(wk)]);
    }
  });
  return nullptr;
}

}  // namespace

void registerPoolKernels(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"pool2d", nullptr, Pool2d, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace llk
