// FusedConv2D for the tfjs cpu backend: NHWC convolution + bias + activation in one call.
//
// out[n·P + p, oc] = act(Σ_k col[n·P + p, k] · filter[k, oc] + bias[oc]), P = oh·ow, k = (i·fw + j)·C + c,
// col[row, (i·fw + j)·C + c] = x[n, r·sh + i·dh − pt, q·sw + j·dw − pl, c] (0 outside), row = n·P + r·ow + q.
// The filter is tfjs's HWIO layout, i.e. already [KK, oc] row-major.
//
// Work split (measured on ResNet-50 shapes, see scripts/bench-conv.ts):
//  - many output rows: the rows are cut into chunks handed to the threads; each thread writes the
//    chunk's columns into its own buffer (about one L2; a 800×1067 image never needs the full
//    im2col matrix: 123 MB for ResNet's first 3×3), runs single-threaded sgemm on it and applies
//    bias + activation while the chunk's output is still in cache. 1×1 convolutions with stride 1
//    and no padding are plain sgemm on x itself (no copy).
//  - few output rows (deep layers of small images): one im2col, then the output channels split
//    over the threads; splitting rows would make every thread pack the whole (large) filter.
//  OpenBLAS's own threads are never used here (its idle workers spin, competing with ours).
#include <cblas.h>
#include <cmath>
#include <cstring>
#include "blas.h"
#include "conv_pool.h"
#include "kernels.h"
#include "napi_args.h"
#include "parallel.h"

namespace llk {
namespace {

// Columns of output rows [row0, row0 + rows) into col ([rows, KK]). A filter row i whose fw taps all
// fall inside x and are adjacent (dw = 1) is one contiguous run of fw·C floats in x: one memcpy.
void im2colRows(const ConvGeom &G, const float *x, int64_t row0, int64_t rows, float *col) {
  const int64_t KK = G.KK(), P = G.P(), C = G.C, run = G.fw * C;
  for (int64_t k = 0; k < rows; k++) {
    const int64_t row = row0 + k, n = row / P, rem = row % P, r = rem / G.ow, q = rem % G.ow;
    const float *xn = x + n * G.H * G.W * C;
    float *cr = col + k * KK;
    const int64_t x0 = q * G.sw - G.pl;
    const bool rowInside = G.dw == 1 && x0 >= 0 && x0 + G.fw <= G.W;
    for (int64_t i = 0; i < G.fh; i++) {
      const int64_t yy = r * G.sh + i * G.dh - G.pt;
      float *dst = cr + i * run;
      if (yy < 0 || yy >= G.H) { std::memset(dst, 0, size_t(run) * sizeof(float)); continue; }
      const float *src = xn + yy * G.W * C;
      if (rowInside) { std::memcpy(dst, src + x0 * C, size_t(run) * sizeof(float)); continue; }
      for (int64_t j = 0; j < G.fw; j++) {
        const int64_t xx = x0 + j * G.dw;
        if (xx < 0 || xx >= G.W) std::memset(dst + j * C, 0, size_t(C) * sizeof(float));
        else std::memcpy(dst + j * C, src + xx * C, size_t(C) * sizeof(float));
      }
    }
  }
}

// Activations as tfjs defines them for fused ops, rounded as its cpu kernels round them (the
// transcendental ones in double, like the stock JS kernels).
// (codes: Activation of op_codes.h)
constexpr int LINEAR = int(Activation::Linear), RELU = int(Activation::Relu), RELU6 = int(Activation::Relu6), PRELU = int(Activation::Prelu),
              LEAKYRELU = int(Activation::LeakyRelu), SIGMOID = int(Activation::Sigmoid), ELU = int(Activation::Elu);

struct Epilogue {
  const float *bias;   // [oc] or null
  const float *res;    // residual [rows, oc] added after the bias, or null
  int act;
  const float *prelu;  // PRELU: [oc], or one value when preluScalar
  bool preluScalar;
  double alpha;        // LEAKYRELU
};

// rows [r0, r0 + rows) of the output, c pointing at row r0
void epilogueRows(float *c, int64_t r0, int64_t rows, int64_t oc, const Epilogue &e) {
  for (int64_t r = 0; r < rows; r++) {
    float *o = c + r * oc;
    if (e.bias) for (int64_t j = 0; j < oc; j++) o[j] += e.bias[j];
    if (e.res) { const float *rr = e.res + (r0 + r) * oc; for (int64_t j = 0; j < oc; j++) o[j] += rr[j]; }
    switch (e.act) {
      case RELU: for (int64_t j = 0; j < oc; j++) o[j] = o[j] < 0.f ? 0.f : o[j]; break;
      case RELU6: for (int64_t j = 0; j < oc; j++) o[j] = o[j] < 0.f ? 0.f : (o[j] > 6.f ? 6.f : o[j]); break;
      case PRELU:
        for (int64_t j = 0; j < oc; j++) { const float a = e.preluScalar ? e.prelu[0] : e.prelu[j]; o[j] = o[j] < 0.f ? a * o[j] : o[j]; }
        break;
      case LEAKYRELU: for (int64_t j = 0; j < oc; j++) o[j] = o[j] < 0.f ? float(e.alpha * double(o[j])) : o[j]; break;
      case SIGMOID: for (int64_t j = 0; j < oc; j++) o[j] = float(1.0 / (1.0 + std::exp(-double(o[j])))); break;
      case ELU: for (int64_t j = 0; j < oc; j++) o[j] = o[j] >= 0.f ? o[j] : float(std::exp(double(o[j])) - 1.0); break;
      default: break;
    }
  }
}

// Rows per chunk: the chunk's columns (or, for 1×1, its input and output rows) about one L2 (1 MB
// per core here), but at least MIN_CHUNK_ROWS, since every chunk's sgemm packs the whole filter again.
constexpr int64_t CHUNK_FLOATS = int64_t(1) << 18;
constexpr int64_t MIN_CHUNK_ROWS = 512;
constexpr int64_t MIN_ROWS_PER_THREAD = 256;  // fewer: output channels split instead (each thread packs less filter)
constexpr int64_t OUT_CHUNK_FLOATS = int64_t(1) << 18;  // epilogue blocks after one big sgemm

// mode: 0 auto, 1 row chunks over own threads, 2 one im2col + output channels over own threads (benchmarks compare)
void fusedConv(const ConvGeom &G, const float *x, const float *w, float *out, const Epilogue &e, int mode, int64_t rowsPerChunk) {
  const int64_t KK = G.KK(), oc = G.oc, rowsTotal = G.N * G.P();
  const int threads = blasThreads();
  const bool direct = G.pointwise();
  if (mode == 0) mode = rowsTotal >= int64_t(threads) * MIN_ROWS_PER_THREAD ? 1 : 2;
  if (mode == 2) {
    std::vector<float> col;
    const float *a = x;
    if (!direct) {
      col.resize(size_t(rowsTotal * KK));
      const int64_t blk = std::max<int64_t>(1, (rowsTotal + threads - 1) / threads);
      forEachDynamic((rowsTotal + blk - 1) / blk, threads, [&](int64_t b, int) {
        const int64_t r0 = b * blk, n = std::min(blk, rowsTotal - r0);
        im2colRows(G, x, r0, n, col.data() + r0 * KK);
      });
      a = col.data();
    }
    // output channels split over the threads (multiples of 16, the sgemm kernel's width), each a
    // single-threaded sgemm packing only its own filter columns
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, oc / 16));
    const int64_t step = ((oc + parts - 1) / parts + 15) / 16 * 16;
    {
      SingleThreadedBlas single;
      forEachDynamic((oc + step - 1) / step, threads, [&](int64_t pi, int) {
        const int64_t j0 = pi * step, nj = std::min(step, oc - j0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rowsTotal), int(nj), int(KK), 1.0f, a, int(KK), w + j0, int(oc), 0.0f, out + j0, int(oc));
      });
    }
    if (e.bias || e.res || e.act != LINEAR) {
      const int64_t blk = std::max<int64_t>(1, OUT_CHUNK_FLOATS / std::max<int64_t>(1, oc));
      forEachDynamic((rowsTotal + blk - 1) / blk, threads, [&](int64_t b, int) {
        const int64_t r0 = b * blk;
        epilogueRows(out + r0 * oc, r0, std::min(blk, rowsTotal - r0), oc, e);
      });
    }
    return;
  }
  int64_t R = rowsPerChunk > 0 ? rowsPerChunk : std::max<int64_t>(MIN_CHUNK_ROWS, CHUNK_FLOATS / std::max<int64_t>(1, std::max(KK, oc)));
  R = std::min(R, std::max<int64_t>(1, (rowsTotal + threads - 1) / threads));  // every thread gets work
  const int64_t chunks = (rowsTotal + R - 1) / R;
  std::vector<std::vector<float>> cols(static_cast<size_t>(threads));
  SingleThreadedBlas single;
  forEachDynamic(chunks, threads, [&](int64_t ch, int wk) {
    const int64_t r0 = ch * R, n = std::min(R, rowsTotal - r0);
    const float *a = x + r0 * KK;
    if (!direct) {
      std::vector<float> &col = cols[size_t(wk)];
      if (col.size() < size_t(R * KK)) col.resize(size_t(R * KK));
      im2colRows(G, x, r0, n, col.data());
      a = col.data();
    }
    float *o = out + r0 * oc;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(oc), int(KK), 1.0f, a, int(KK), w, int(oc), 0.0f, o, int(oc));
    epilogueRows(o, r0, n, oc, e);
  });
}

// fusedConv2d(x, filter, bias|null, prelu|null, out, params Int32Array[N,H,W,C, fh,fw, sh,sw, dh,dw,
//             padTop,padLeft, outH,outW, outC], act, alpha[, tuning Int32Array[mode, rowsPerChunk]
//             [, residual Float32Array[N·outH·outW·outC]]])
// out = act(conv + bias + residual), each added in that order (as tfjs's separate Add kernels would).
napi_value FusedConv2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "fusedConv2d", 8);
  const F32 x = a.f32(0, "x"), w = a.f32(1, "filter"), bias = a.optF32(2, "bias"), prelu = a.optF32(3, "prelu"), o = a.f32(4, "out");
  const I32 p = a.i32(5, "params");
  const int64_t act = a.integer(6, "act");
  const double alpha = a.number(7, "alpha");
  const I32 tune = a.optI32(8, "tuning");
  const F32 res = a.optF32(9, "residual");
  if (!a.ok()) return nullptr;
  if (p.n < ConvGeom::kParams) return a.fail("params too short");
  const ConvGeom G = ConvGeom::from(p.p);
  if (const char *why = G.invalid()) return a.fail(why);
  const int64_t KK = G.KK(), rows = G.N * G.P();
  if (!holds(x.n, G.xSize()) || !holds(w.n, G.wSize()) || !holds(o.n, G.ySize())) return a.fail("array too small");
  if (bias.p && bias.n != size_t(G.oc)) return a.fail("bias length must be outC");
  if (res.p && !holds(res.n, G.ySize())) return a.fail("residual too small");
  const int mode = tune.p && tune.n > 0 ? tune.p[0] : 0;
  if (mode == 2 && rows * KK > ConvGeom::kMaxScratchFloats) return a.fail("im2col scratch too large");
  if (act < LINEAR || act > ELU) return a.fail("unknown activation");
  if (act == PRELU && (!prelu.p || (prelu.n != 1 && prelu.n != size_t(G.oc)))) return a.fail("prelu weights must have 1 or outC values");
  const Epilogue e{bias.p, res.p, int(act), prelu.p, prelu.n == 1, alpha};
  if (rows * G.oc == 0) return nullptr;
  if (KK == 0) {
    std::memset(o.p, 0, size_t(rows * G.oc) * sizeof(float));
    epilogueRows(o.p, 0, rows, G.oc, e);
    return nullptr;
  }
  fusedConv(G, x.p, w.p, o.p, e, mode, tune.p && tune.n > 1 ? tune.p[1] : 0);
  return nullptr;
}

}  // namespace

void registerConvKernels(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"fusedConv2d", nullptr, FusedConv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace llk
