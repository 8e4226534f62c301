// Checked size arithmetic for the binding's argument checks. Every element count an entry point
// compares with an array length is computed with these, so a product that overflows can never make
// a too-small array pass the check (softmax(x, out, 2^32, 2^32) once did: 2^64 wraps to 0).
// O(factors), never per element.
#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace llk {

// a · b for a, b ≥ 0; -1 on overflow or a negative factor
inline int64_t mulSize(int64_t a, int64_t b) {
  int64_t r;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? -1 : r;
}
// a + b for a, b ≥ 0; -1 on overflow or a negative term
inline int64_t addSize(int64_t a, int64_t b) {
  int64_t r;
  return a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) ? -1 : r;
}
// the product of non-negative factors, every partial product checked; -1 on overflow or a negative factor
inline int64_t product(std::initializer_list<int64_t> fs) {
  int64_t r = 1;
  for (int64_t f : fs) if ((r = mulSize(r, f)) < 0) return -1;
  return r;
}
// an array of n elements holds `need` elements (need < 0: an overflowed size, never held)
inline bool holds(size_t n, int64_t need) { return need >= 0 && uint64_t(need) <= uint64_t(n); }
// v fits a BLAS int argument (a dimension or leading dimension)
inline bool blasInt(int64_t v) { return v >= 0 && v <= INT_MAX; }

}  // namespace llk
