// Entry points of memory.cc (allocator functions, added to the exports by binding.cc) and
// threadpool.cc (the persistent pool behind parallelFor, parallel.h).
#pragma once
#include <node_api.h>
#include <cstdint>
#include <functional>

namespace llk {
void registerMemoryFunctions(napi_env env, napi_value exports);

using ChunkFn = std::function<void(int64_t, int64_t)>;
// Runs f(begin, end) over [0, n) in chunks of `chunk` items on up to `threads` threads of a
// persistent pool, the caller included (threadpool.cc). Chunks are disjoint; returns when all ran.
void parallelRun(int64_t n, int64_t chunk, int threads, const ChunkFn &f);
}
