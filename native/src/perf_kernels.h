// Entry points of the training-performance sources (memory.cc, ...), registered by
// logolab_native.cc's Init next to its own kernels.
#pragma once
#include <node_api.h>

namespace llk {
void registerMemoryFunctions(napi_env env, napi_value exports);
}
