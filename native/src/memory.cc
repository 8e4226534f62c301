// Allocator settings and statistics for the process (glibc malloc), used by src/backend/native/addon.ts.
//
// Tensor buffers on the cpu backend are ArrayBuffers that Node allocates with malloc. glibc serves
// requests above its mmap threshold (at most 32 MiB) with a fresh mmap and unmaps them on free, so
// every large tensor (a ViT-L/14 MLP activation at batch 8 is 33.7 MB) costs page faults and
// kernel zeroing of all its pages on every step. mallocTune(0, ...) serves them from the heap
// instead, where freed blocks are reused.
#define NAPI_VERSION 8
#include <node_api.h>
#include <malloc.h>
#include <climits>
#include <cstdint>
#include <utility>
#include "napi_args.h"
#include "perf_kernels.h"

namespace {

// mallocTune(mmapMax, trimThreshold): mallopt(M_MMAP_MAX, mmapMax) (0: never mmap), and
// mallopt(M_TRIM_THRESHOLD, trimThreshold) (free heap top kept before it is returned to the OS).
// Returns true when both settings were accepted.
napi_value MallocTune(napi_env env, napi_callback_info info) {
  llk::Args a(env, info, "mallocTune", 2);
  const int64_t mmapMax = a.integer(0, "mmapMax"), trim = a.integer(1, "trimThreshold");
  if (!a.ok()) return nullptr;
  if (mmapMax < INT_MIN || mmapMax > INT_MAX || trim < INT_MIN || trim > INT_MAX) return a.fail("settings must fit a C int");
  napi_value res;
  const bool ok = mallopt(M_MMAP_MAX, int(mmapMax)) == 1 && mallopt(M_TRIM_THRESHOLD, int(trim)) == 1;
  napi_get_boolean(env, ok, &res);
  return res;
}

// mallocInfo(): { heap: bytes from the heap (arena), inUse, free, mmapped }
napi_value MallocInfo(napi_env env, napi_callback_info) {
  const struct mallinfo2 m = mallinfo2();
  napi_value obj, v;
  napi_create_object(env, &obj);
  const std::pair<const char *, size_t> fields[] = {{"heap", m.arena}, {"inUse", m.uordblks + m.hblkhd}, {"free", m.fordblks}, {"mmapped", m.hblkhd}};
  for (const auto &f : fields) {
    napi_create_double(env, double(f.second), &v);
    napi_set_named_property(env, obj, f.first, v);
  }
  return obj;
}

}  // namespace

namespace llk {
void registerMemoryFunctions(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"mallocTune", nullptr, MallocTune, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mallocInfo", nullptr, MallocInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
}  // namespace llk
