// Entry points of conv.cc (fusedConv2d) and pool.cc (pool2d), added to the addon's exports by binding.cc.
#pragma once
#include <node_api.h>

namespace llk {
void registerConvKernels(napi_env env, napi_value exports);
void registerPoolKernels(napi_env env, napi_value exports);
}  // namespace llk
