// The one N-API argument parser of the addon. An entry point reads its arguments in order, checks
// ok() once, and reports its own faults through fail(); the first fault throws a JavaScript error
// ("logolab_native: <fn>: …") and every later read is a no-op, so a caller never sees two errors.
//
//   Args a(env, info, "softmax", 4);
//   F32 x = a.f32(0, "x"), o = a.f32(1, "out"); int64_t rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
//   if (!a.ok()) return nullptr;
//
// napi_get_typedarray_info returns the data pointer already advanced by the view's byteOffset, so
// sub-views (tensors that share one ArrayBuffer) are handled correctly.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include "sizes.h"

namespace llk {

struct F32 { float *p; size_t n; };
struct I32 { int32_t *p; size_t n; };

class Args {
 public:
  static constexpr size_t kMaxArgs = 16;
  static constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 − 1

  // Reads the call's arguments; fewer than `required` is a fault.
  Args(napi_env env, napi_callback_info info, const char *fn, size_t required) : env_(env), fn_(fn) {
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) { argc_ = 0; fail("bad call"); return; }
    if (argc_ < required) fail("needs " + std::to_string(required) + " arguments");
  }

  bool ok() const { return ok_; }
  napi_env env() const { return env_; }

  // Throws RangeError "logolab_native: <fn>: msg" (unless a fault was already reported); returns nullptr
  // so an entry point can `return a.fail(...)`.
  napi_value fail(const std::string &msg) {
    if (ok_) napi_throw_range_error(env_, nullptr, ("logolab_native: " + std::string(fn_) + ": " + msg).c_str());
    ok_ = false;
    return nullptr;
  }

  // Argument i was passed and is neither null nor undefined.
  bool given(size_t i) const {
    if (i >= argc_) return false;
    napi_valuetype t;
    if (napi_typeof(env_, argv_[i], &t) != napi_ok) return false;
    return t != napi_null && t != napi_undefined;
  }

  F32 f32(size_t i, const char *what) { F32 o{nullptr, 0}; typed(i, napi_float32_array, &o.p, &o.n, what, "a Float32Array"); return o; }
  I32 i32(size_t i, const char *what) { I32 o{nullptr, 0}; typed(i, napi_int32_array, &o.p, &o.n, what, "an Int32Array"); return o; }
  // null, undefined or not passed: {nullptr, 0}
  F32 optF32(size_t i, const char *what) { return given(i) ? f32(i, what) : F32{nullptr, 0}; }
  I32 optI32(size_t i, const char *what) { return given(i) ? i32(i, what) : I32{nullptr, 0}; }

  // Scalars; `absent` when the argument was not passed at all.
  // integer: a Number that is integral and within ±(2^53 − 1) (JS's safe integers); a fraction, NaN,
  // ±Infinity or a larger magnitude is a RangeError (napi_get_value_int64 would truncate or saturate).
  int64_t integer(size_t i, const char *what, int64_t absent = 0) {
    if (!ok_ || i >= argc_) return absent;
    double d;
    if (napi_get_value_double(env_, argv_[i], &d) != napi_ok) { typeFault(what, "an integer"); return absent; }
    if (!(std::fabs(d) <= kMaxSafeInteger) || std::trunc(d) != d) {
      fail(std::string(what) + " must be an integer within ±(2^53 − 1)");
      return absent;
    }
    return int64_t(d);
  }
  double number(size_t i, const char *what, double absent = 0) {
    double v = absent;
    if (ok_ && i < argc_ && napi_get_value_double(env_, argv_[i], &v) != napi_ok) typeFault(what, "a number");
    return v;
  }
  bool boolean(size_t i, const char *what, bool absent = false) {
    bool v = absent;
    if (ok_ && i < argc_ && napi_get_value_bool(env_, argv_[i], &v) != napi_ok) typeFault(what, "a boolean");
    return v;
  }

 private:
  template <class T> void typed(size_t i, napi_typedarray_type want, T **p, size_t *n, const char *what, const char *kind) {
    if (!ok_) return;
    bool isTa = false;
    napi_typedarray_type t; size_t len; void *data; napi_value ab; size_t off;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &isTa) != napi_ok || !isTa ||
        napi_get_typedarray_info(env_, argv_[i], &t, &len, &data, &ab, &off) != napi_ok || t != want) {
      typeFault(what, kind);
      return;
    }
    *p = static_cast<T *>(data); *n = len;
  }
  void typeFault(const char *what, const char *kind) {
    napi_throw_type_error(env_, nullptr, ("logolab_native: " + std::string(fn_) + ": " + what + " must be " + kind).c_str());
    ok_ = false;
  }

  napi_env env_;
  const char *fn_;
  size_t argc_ = kMaxArgs;
  napi_value argv_[kMaxArgs];
  bool ok_ = true;
};

}  // namespace llk
