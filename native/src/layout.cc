// Strided copies: transpose (a contiguous output read at input strides; the last two dims tiled)
// and scatter (a contiguous input written at output strides: PadV2's interior).
#include <algorithm>
#include <cstring>
#include <vector>
#include "kernels.h"
#include "parallel.h"

namespace llk {
namespace {

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

}  // namespace

void transpose(int rank, const int32_t *sh, const int32_t *sp, const float *xp, float *obase) {
  if (rank == 0) { obase[0] = xp[0]; return; }
  int64_t inner = 1;
  for (int d = 1; d < rank; d++) inner *= sh[d];
  // split dim 0 over threads: each range is a sub-transpose with the same strides
  parallelFor(sh[0], std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, inner)), [=](int64_t s, int64_t e) {
    std::vector<int32_t> sub(sh, sh + rank);
    sub[0] = int32_t(e - s);
    float *op = obase + s * inner;
    transposeRec(0, rank, sub.data(), sp, xp + s * sp[0], op);
  });
}

void scatter(int rank, const int32_t *shape, const int32_t *st, const float *x, float *o) {
  scatterRec(0, rank, shape, st, x, o);
}

}  // namespace llk
