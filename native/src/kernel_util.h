// Small N-API argument helpers and a thread split for the kernels in conv.cc and pool.cc.
// (logolab_native.cc keeps its own copies in its anonymous namespace.)
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace llk {

struct F32 { float *p; size_t n; };
struct I32 { int32_t *p; size_t n; };

inline void fail(napi_env env, const std::string &msg) { napi_throw_range_error(env, nullptr, ("logolab_native: " + msg).c_str()); }

inline bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

template <class T> bool getTyped(napi_env env, napi_value v, napi_typedarray_type want, T **p, size_t *n, const char *what, const char *kind) {
  bool isTa = false;
  napi_is_typedarray(env, v, &isTa);
  napi_typedarray_type t; size_t len; void *data; napi_value ab; size_t off;
  if (!isTa || napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != want) {
    napi_throw_type_error(env, nullptr, (std::string("logolab_native: ") + what + " must be " + kind).c_str());
    return false;
  }
  *p = static_cast<T *>(data); *n = len;  // data is already advanced by the view's byteOffset
  return true;
}
inline bool getF32(napi_env env, napi_value v, F32 *o, const char *what) { return getTyped(env, v, napi_float32_array, &o->p, &o->n, what, "a Float32Array"); }
inline bool getI32(napi_env env, napi_value v, I32 *o, const char *what) { return getTyped(env, v, napi_int32_array, &o->p, &o->n, what, "an Int32Array"); }
inline bool getInt(napi_env env, napi_value v, int64_t *o) {
  if (napi_get_value_int64(env, v, o) != napi_ok) { napi_throw_type_error(env, nullptr, "logolab_native: expected an integer"); return false; }
  return true;
}
inline bool getDouble(napi_env env, napi_value v, double *o) {
  if (napi_get_value_double(env, v, o) != napi_ok) { napi_throw_type_error(env, nullptr, "logolab_native: expected a number"); return false; }
  return true;
}

// Runs f(i, w) for every i in [0, n) on up to `workers` threads (w = the worker's index; the calling
// thread is worker 0), items handed out dynamically so uneven items balance. Returns the worker count.
template <class F> int forEachDynamic(int64_t n, int workers, F f) {
  workers = int(std::max<int64_t>(1, std::min<int64_t>(workers, n)));
  if (workers <= 1) { for (int64_t i = 0; i < n; i++) f(i, 0); return 1; }
  std::atomic<int64_t> next{0};
  auto run = [&](int w) { for (int64_t i; (i = next.fetch_add(1)) < n;) f(i, w); };
  std::vector<std::thread> ths;
  for (int w = 1; w < workers; w++) ths.emplace_back(run, w);
  run(0);
  for (auto &t : ths) t.join();
  return workers;
}

}  // namespace llk
